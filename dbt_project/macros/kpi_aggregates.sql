{#- The KPI columns of a group of customers (tier_kpis, segment_kpis), over rows of int_customers_kpi_ready
    grouped by the caller. `total` is the number of customers known on the as-of date. Rates are shares of
    the group's members; upgrade and downgrade rates are over the members already known at the previous
    published run (null before the first publication). -#}
{% macro kpi_expressions(total) -%}
    {{ return({
        'members': 'cast(count(customer_id) as integer)',
        'member_share': rounded_share('count(customer_id)', total),
        'avg_spend_365d': 'cast(avg(spend_365d) as numeric(18, 2))',
        'repurchase_rate': rounded_share('sum(case when orders_365d >= 2 then 1 else 0 end)', 'count(customer_id)'),
        'active_rate': rounded_share('sum(case when is_active then 1 else 0 end)', 'count(customer_id)'),
        'upgrade_rate': rounded_share(
            'sum(case when was_known_before then case when tier_rank_change > 0 then 1 else 0 end end)',
            'count(case when was_known_before then 1 end)'),
        'downgrade_rate': rounded_share(
            'sum(case when was_known_before then case when tier_rank_change < 0 then 1 else 0 end end)',
            'count(case when was_known_before then 1 end)'),
        'avg_lifetime_spend': 'cast(avg(lifetime_spend) as numeric(18, 2))',
        'churn_share': rounded_share("sum(case when lifecycle_stage = 'churned' then 1 else 0 end)", 'count(customer_id)'),
    }) }}
{%- endmacro %}

{#- numerator / denominator (counts) rounded half up to 4 decimals once, in integer arithmetic, as numeric(7, 4);
    null when the denominator is 0. avg() of 1.0/0.0 rounded twice on Spark (to its decimal's 5 places, then
    to 4: 104/115 gave 0.9044 there and 0.9043 on DuckDB). floor() of the quotient is exact: it is never within
    1/(2 n) of an integer unless it is one, far beyond a double's error. -#}
{% macro rounded_share(numerator, denominator) -%}
    {{ return(
        'cast(cast(floor((20000 * (' ~ numerator ~ ') + (' ~ denominator ~ ')) / (2 * nullif(' ~ denominator
        ~ ', 0))) as numeric(18, 0)) / 10000 as numeric(7, 4))'
    ) }}
{%- endmacro %}

{% macro kpi_aggregates(total) -%}
    {%- for name, expression in kpi_expressions(total).items() %}
        {{ expression }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The KPI column names, in the order kpi_aggregates selects them (the published KPI history's columns). -#}
{% macro kpi_columns() -%}
    {{ return(kpi_expressions('1').keys() | list) }}
{%- endmacro %}

{#- The notice types tier_kpis counts per tier (a column notices_<type> each, after source_run_id). -#}
{% macro notice_types() -%}
    {{ return(['approaching_upgrade', 'downgrade_warning', 'points_expiring']) }}
{%- endmacro %}
