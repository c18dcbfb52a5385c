{#- Every order and engagement event of a customer as one fact, dated on the local day it counts, with its net
    spend, counted orders and points; only facts counted by the as-of date (point in time). The SQL of the view
    int_customer_facts_dated.
    An order counts qualification.pending_days after its local order date (refund cooling-off); engagement
    events count on their local date. Points of an order: floor(net spend x per_unit x multiplier), the
    multiplier being the largest of the policy's multipliers covering the local order date (and category).
    `except_customers` names a relation with a customer_id column whose customers are left out before any
    join: the incremental int_customer_days_accumulated computes only the customers it lacks, and filtering
    the view instead computed every customer's facts first (twice the time of the model at 100 k). `batch` of
    `batches` keeps one batch of customers (customer_batches.sql), also before any join. `only_customers` keeps
    only the customers of a relation, and `after_mark` (a carried table's mark) only the rows that can give a
    fact after the mark's as-of date or that changed since its load (customer_day_extensions). -#}
{% macro customer_facts(except_customers=none, batch=0, batches=1, only_customers=none, after_mark=none) %}
    with

    orders as (

        select * from {{ _facts_source('orders', ref('int_orders_valued'), after_mark) }} as orders
        {{ _without_customers('orders', except_customers, batch, batches, only_customers) }}

    ),

    events as (

        select * from {{ _facts_source('events', ref('stg_landing__events'), after_mark) }} as events
        {{ _without_customers('events', except_customers, batch, batches, only_customers) }}

    ),

    run_parameters as (

        select * from {{ ref('stg_tierflow__run_parameters') }}

    ),

    engine as (

        select * from {{ ref('stg_tierflow__policy_engine') }}

    ),

    multipliers as (

        select * from {{ ref('stg_tierflow__policy_point_multipliers') }}

    ),

    event_points as (

        select * from {{ ref('stg_tierflow__policy_point_events') }}

    ),

    -- A multiplier depends only on the order's date and category: matched once per (date, category) pair, not
    -- per order (a quarter less time for the facts of 22 M orders, whose range join and group by order_id
    -- this replaces).
    order_days as (

        select distinct order_date, product_category from orders

    ),

    order_factors as (

        select
            order_days.order_date,
            order_days.product_category,
            max(multipliers.factor) as factor

        from order_days
        inner join multipliers
            on order_days.order_date between multipliers.start_date and multipliers.end_date
            and (multipliers.product_category is null or multipliers.product_category = order_days.product_category)
        group by order_days.order_date, order_days.product_category

    ),

    counted_orders as (

        select
            orders.customer_id,
            cast({{ dbt.dateadd('day', 'engine.pending_days', 'orders.order_date') }} as date) as fact_date,
            orders.net_spend,
            case when orders.is_counted_order then 1 else 0 end as order_count,
            cast(floor(orders.net_spend * engine.points_per_unit * coalesce(order_factors.factor, 1)) as integer)
                as points

        from orders
        cross join engine
        left join order_factors
            on orders.order_date = order_factors.order_date
            and orders.product_category is not distinct from order_factors.product_category

    ),

    counted_events as (

        select
            events.customer_id,
            {{ to_local_date('events.occurred_at', 'run_parameters.policy_timezone') }} as fact_date,
            cast(0 as numeric(18, 2)) as net_spend,
            0 as order_count,
            event_points.points

        from events
        cross join run_parameters
        inner join event_points
            on events.event_type = event_points.event_type

    ),

    facts as (

        select customer_id, fact_date, net_spend, order_count, points from counted_orders
        union all
        select customer_id, fact_date, net_spend, order_count, points from counted_events

    ),

    final as (

        select
            facts.customer_id,
            facts.fact_date,
            facts.net_spend,
            facts.order_count,
            facts.points

        from facts
        cross join run_parameters
        -- Point in time: a pending order is not counted yet, a later event is invisible.
        where facts.fact_date <= run_parameters.as_of_date

    )

    select * from final
{% endmacro %}

{#- The relation the facts read `alias` from: all of `relation`, or its rows after the mark `after_mark`. -#}
{% macro _facts_source(alias, relation, after_mark) -%}
    {{ relation if after_mark is none else _after_mark(alias, relation, after_mark) }}
{%- endmacro %}

{#- `where` for the rows of `alias` outside the customers of `except_customers`, inside the batch, and among
    the customers of `only_customers`. -#}
{% macro _without_customers(alias, except_customers, batch=0, batches=1, only_customers=none) -%}
    {%- set conditions = [] -%}
    {%- if except_customers -%}
        {%- do conditions.append(customer_not_in(alias, except_customers)) -%}
    {%- endif -%}
    {%- if only_customers -%}
        {%- do conditions.append(alias ~ '.customer_id in (select ' ~ only_customers ~ '.customer_id from '
            ~ only_customers ~ ')') -%}
    {%- endif -%}
    {%- if batches > 1 -%}
        {%- do conditions.append(customer_batch_filter(alias ~ '.customer_id', batch, batches)) -%}
    {%- endif -%}
    {%- if conditions -%}
    where {{ conditions | join(' and ') }}
    {%- endif -%}
{%- endmacro %}

{#- `alias`.customer_id is none of the customers of `relation` (never null here: the landing contract
    quarantines rows without a customer). DuckDB plans the correlated NOT EXISTS as a delim join that
    materialises the whole outer input (at 1 M customers the 22 M valued orders, spilling 1.7 GB), and an
    uncorrelated NOT IN as a plain hash anti join: the order summaries of a daily run took 2.7 s instead of 6.5,
    the customer days 5.3 s instead of 6.6. PostgreSQL plans NOT EXISTS as an anti join, and NOT IN over a large
    subquery badly. -#}
{% macro customer_not_in(alias, relation) -%}
    {{ return(adapter.dispatch('customer_not_in', 'tierflow')(alias, relation)) }}
{%- endmacro %}

{% macro default__customer_not_in(alias, relation) -%}
    not exists (select 1 from {{ relation }} where {{ relation }}.customer_id = {{ alias }}.customer_id)
{%- endmacro %}

{% macro duckdb__customer_not_in(alias, relation) -%}
    {{ alias }}.customer_id not in (
        select {{ relation }}.customer_id from {{ relation }} where {{ relation }}.customer_id is not null
    )
{%- endmacro %}

{#- The rows of `relation` (the orders or the events, named by `alias`) that can give a fact dated after the
    mark's as-of date M, or that were loaded or changed since its load, as a union of disjoint branches, each
    with a constant bound on one plain column: DuckDB then skips the row groups of earlier loads and dates by
    their statistics (an OR across columns reads every row). An order counts pending_days after its local
    date (the policy's, which the mark vouches for); an event counts on its local date, read within a day's
    margin of UTC and then exactly. -#}
{% macro _after_mark(alias, relation, mark) -%}
    {%- set since = "cast('" ~ mark['as_of_date'] ~ "' as date)" -%}
    {%- set seq = mark['changed_seq'] -%}
    {%- if alias == 'orders' -%}
        {%- set engine = ref('stg_tierflow__policy_engine') -%}
        {%- set matured = days_before(since, run_query('select max(pending_days) from ' ~ engine).rows[0][0] or 0) -%}
    (
        select * from {{ relation }} where order_date > {{ matured }}
        union all
        select * from {{ relation }} where order_date <= {{ matured }} and changed_seq > {{ seq }}
    )
    {%- else -%}
        {%- set parameters = ref('stg_tierflow__run_parameters') -%}
        {%- set zone = run_query('select max(policy_timezone) from ' ~ parameters).rows[0][0] -%}
    (
        {{ changed_since(relation, seq) | indent(4) }}
        union all
        select * from {{ relation }}
        where occurred_at >= {{ dbt.dateadd('day', -1, since) }}
            and {{ to_local_date('occurred_at', "'" ~ zone ~ "'") }} > {{ since }}
            and load_seq <= {{ seq }}
            and (updated_seq is null or updated_seq <= {{ seq }})
    )
    {%- endif -%}
{%- endmacro %}
