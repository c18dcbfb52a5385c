{#- The SQL of int_customer_days_accumulated for batch `batch` of `batches` of its customers (see the model). -#}
{% macro customer_days(batch=0, batches=1) %}
with

{%- set forward = carried_forward_mark('input_checksum') is not none %}
{% if forward %}
recomputed_customers as (

    -- The customers the pre-hook deleted or found missing (customer_day_extensions).
    select customer_id from {{ customer_days_extension_relation() }} where is_rebuilt

),
{% elif is_incremental() %}
kept_customers as (

    -- One row per customer: the last (the pre-hook left only customers whose facts did not change).
    select customer_id from {{ this }} where valid_until = {{ open_end_date() }}

),
{% endif %}

-- Facts of the customers to compute: on a daily run those the pre-hook names, else those missing from the
-- table (all of them on a full build), left out before any join.
changed_facts as (

    {{ customer_facts(
        except_customers=('kept_customers' if is_incremental() and not forward else none),
        batch=batch, batches=batches, only_customers=('recomputed_customers' if forward else none)
    ) | indent(4) }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

{{ customer_fact_totals('changed_facts') }},

final as (

    select
        per_day.customer_id,
        per_day.fact_date,
        cast(per_day.day_spend as numeric(18, 2)) as day_spend,
        cast(per_day.day_orders as integer) as day_orders,
        cast(per_day.day_points as bigint) as day_points,
        cast(sum(per_day.day_spend) over (
            partition by per_day.customer_id order by per_day.fact_date
            rows between unbounded preceding and current row
        ) as numeric(18, 2)) as cumulative_spend,
        cast(sum(per_day.day_orders) over (
            partition by per_day.customer_id order by per_day.fact_date
            rows between unbounded preceding and current row
        ) as integer) as cumulative_orders,
        cast(sum(per_day.day_points) over (
            partition by per_day.customer_id order by per_day.fact_date
            rows between unbounded preceding and current row
        ) as bigint) as cumulative_points,
        per_day.fact_date as valid_from,
        coalesce(
            lead(per_day.fact_date) over (partition by per_day.customer_id order by per_day.fact_date),
            {{ open_end_date() }}
        ) as valid_until,
        -- Only a customer's last row carries the checksum: the one a later run compares, and the one an
        -- extension adds to (customer_day_extensions).
        case when lead(per_day.fact_date) over (partition by per_day.customer_id order by per_day.fact_date) is null
            then checksums.input_checksum
        end as input_checksum,
        -- The run that computed the customer: tests on daily runs judge only these customers (changed_customers).
        run_parameters.run_id as computed_run_id

    from per_day
    inner join checksums
        on per_day.customer_id = checksums.customer_id
    cross join run_parameters

)

select * from final
{% endmacro %}

{#- The landing tables the customer days are computed from (what customer_batches sizes a build by). -#}
{% macro customer_day_inputs() -%}{{ return(['orders', 'events']) }}{%- endmacro %}

{#- Two CTEs over the facts relation `facts`: `checksums` (one input_checksum per customer) and `per_day` (the
    day's spend, orders and points per customer and fact date). -#}
{% macro customer_fact_totals(facts) -%}
checksums as (

    select
        customer_id,
        {{ fact_checksum(customer_fact_columns()) }} as input_checksum

    from {{ facts }}
    group by customer_id

),

per_day as (

    select
        customer_id,
        fact_date,
        sum(net_spend) as day_spend,
        sum(order_count) as day_orders,
        sum(points) as day_points

    from {{ facts }}
    group by customer_id, fact_date

)
{%- endmacro %}
