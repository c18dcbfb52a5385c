{#- The KPI columns of a group of customers (tier_kpis, segment_kpis), over rows of int_customers_kpi_ready
    grouped by the caller. `total` is the number of customers known on the as-of date. Rates are shares of
    the group's members; upgrade and downgrade rates are over the members already known at the previous
    published run (null before the first publication). -#}
{% macro kpi_expressions(total) -%}
    {{ return({
        'members': 'cast(count(customer_id) as integer)',
        'member_share': 'cast(1.0 * count(customer_id) / ' ~ total ~ ' as numeric(7, 4))',
        'avg_spend_365d': 'cast(avg(spend_365d) as numeric(18, 2))',
        'repurchase_rate': 'cast(avg(case when orders_365d >= 2 then 1.0 else 0.0 end) as numeric(7, 4))',
        'active_rate': 'cast(avg(case when is_active then 1.0 else 0.0 end) as numeric(7, 4))',
        'upgrade_rate': 'cast(avg(case when was_known_before then case when tier_rank_change > 0 then 1.0 else 0.0 end end) as numeric(7, 4))',
        'downgrade_rate': 'cast(avg(case when was_known_before then case when tier_rank_change < 0 then 1.0 else 0.0 end end) as numeric(7, 4))',
        'avg_lifetime_spend': 'cast(avg(lifetime_spend) as numeric(18, 2))',
        'churn_share': "cast(avg(case when lifecycle_stage = 'churned' then 1.0 else 0.0 end) as numeric(7, 4))",
    }) }}
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
