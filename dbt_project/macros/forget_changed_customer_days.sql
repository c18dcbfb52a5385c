{#- Pre-hook of the incremental int_customer_days_accumulated: delete the days of every customer whose facts
    are no longer those the rows were computed from. The model then computes them again (on a daily run the
    customers the extension names, otherwise every customer missing from the table), so the table is correct
    after every run whatever changed.

    Two ways to find those customers:
    - forward (a daily run): the table's mark (carried_state.sql, written after every build) says as of which
      date, up to which landing load and under which policy and exchange rates it was built. When the policy
      and rates are the same and the as-of date did not go back, a customer's facts changed only if a row of
      theirs was loaded or changed in place since the mark's load, or one of their facts falls on a day the
      run newly reaches (pending orders maturing, rows dated ahead of the last as-of date). These are read by
      load sequence and by date, never by computing every customer's facts. Of those, only the customers
      to compute whole are deleted; the others get their new days appended (customer_day_extensions).
    - otherwise (a new policy or rates, an earlier as-of date, no mark yet): every customer's checksum of
      facts is compared with the one the rows carry, which reads every fact.
    A table from before the checksum column existed is emptied, and so rebuilt whole. -#}
{% macro forget_changed_customer_days(facts) -%}
    {%- if is_incremental() -%}
    drop table if exists {{ customer_days_extension_relation() }};
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if 'input_checksum' not in columns -%}
    delete from {{ this }}
        {%- else -%}
            {#- what carried_forward_mark('input_checksum') answers, the column being checked above -#}
            {%- set mark = carried_mark(require_as_of=true) -%}
            {%- if mark is not none %}
    {{ customer_day_extensions(mark) }};
    delete from {{ this }} as stale
    where stale.customer_id in (
        select extension.customer_id from {{ customer_days_extension_relation() }} as extension
        where extension.is_rebuilt
    )
            {%- else %}
    delete from {{ this }} as stale
    where stale.customer_id in (
        -- Every row of a customer carries the checksum; the last row alone is read (1 row per customer).
        select stored.customer_id
        from {{ this }} as stored
        left join (
            select customer_id, {{ fact_checksum(customer_fact_columns()) }} as input_checksum
            from {{ facts }}
            group by customer_id
        ) as current_facts
            on stored.customer_id = current_facts.customer_id
        where stored.valid_until = {{ open_end_date() }}
            and (current_facts.input_checksum is null or current_facts.input_checksum <> stored.input_checksum)
    )
            {%- endif %}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Customers whose facts may differ from the mark's build: rows loaded or changed since its load, and facts
    on the days (mark as-of, run as-of] (an order counts pending_days after its local order date; an event
    on its local date, read within a day's margin of UTC before the exact local date). -#}
{% macro customers_with_new_facts(mark) -%}
    {%- set since = "cast('" ~ mark['as_of_date'] ~ "' as date)" -%}
    {{ customers_with_orders_reached(mark, ['engine.pending_days']) }}
    union
    select events.customer_id
    from {{ changed_since(ref('stg_landing__events'), mark['changed_seq']) }} as events
    union
    select events.customer_id
    from {{ ref('stg_landing__events') }} as events
    cross join {{ ref('stg_tierflow__run_parameters') }} as run_parameters
    where events.occurred_at >= {{ dbt.dateadd('day', -1, since) }}
        and events.occurred_at < {{ dbt.dateadd('day', 2, 'run_parameters.as_of_date') }}
        and {{ to_local_date('events.occurred_at', 'run_parameters.policy_timezone') }} > {{ since }}
        and {{ to_local_date('events.occurred_at', 'run_parameters.policy_timezone') }} <= run_parameters.as_of_date
{%- endmacro %}

{#- Customers with an order loaded or changed since the mark's load, or dated on a day that one of `offsets`
    (days back from the as-of date) passes between the mark's as-of date and the run's (orders_reached). -#}
{% macro customers_with_orders_reached(mark, offsets) -%}
    select orders.customer_id
    from {{ changed_since(ref('stg_landing__orders'), mark['changed_seq']) }} as orders
    union
    select reached.customer_id
    from {{ orders_reached(mark, offsets) }} as reached
{%- endmacro %}

{#- valid_until of a customer's last row in int_customer_days_accumulated. -#}
{% macro open_end_date() -%}
    cast('9999-12-31' as date)
{%- endmacro %}

{#- The columns of int_customer_facts_dated that a customer's days are computed from. -#}
{% macro customer_fact_columns() -%}
    {{ return(['fact_date', 'net_spend', 'order_count', 'points']) }}
{%- endmacro %}
