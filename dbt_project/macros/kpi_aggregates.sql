{#- The KPI columns of a group of customers (tier_kpis, segment_kpis), over rows of int_customers_kpi_ready
    grouped by the caller. `total` is the number of customers known on the as-of date. Rates are shares of
    the group's members; upgrade and downgrade rates are over the members already known at the previous
    published run (null before the first publication). -#}
{% macro kpi_aggregates(total) -%}
        cast(count(customer_id) as integer) as members,
        cast(1.0 * count(customer_id) / {{ total }} as numeric(7, 4)) as member_share,
        cast(avg(spend_365d) as numeric(18, 2)) as avg_spend_365d,
        cast(avg(case when orders_365d >= 2 then 1.0 else 0.0 end) as numeric(7, 4)) as repurchase_rate,
        cast(avg(case when is_active then 1.0 else 0.0 end) as numeric(7, 4)) as active_rate,
        cast(
            avg(case when was_known_before then case when tier_rank_change > 0 then 1.0 else 0.0 end end)
            as numeric(7, 4)
        ) as upgrade_rate,
        cast(
            avg(case when was_known_before then case when tier_rank_change < 0 then 1.0 else 0.0 end end)
            as numeric(7, 4)
        ) as downgrade_rate,
        cast(avg(lifetime_spend) as numeric(18, 2)) as avg_lifetime_spend,
        cast(avg(case when lifecycle_stage = 'churned' then 1.0 else 0.0 end) as numeric(7, 4)) as churn_share
{%- endmacro %}
