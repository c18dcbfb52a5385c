{#- Carried tables (incremental models updated in place from run to run) keep a one-row mark beside them,
    `<table>__mark`, written by a post-hook in the same transaction as their rows: the as-of date they were
    built for, the highest landing load (load_seq, or updated_seq for rows changed in place) they have seen,
    and a fingerprint of the policy's content and the exchange rates. A run under the same fingerprint updates
    the table from what was loaded since; any other run rebuilds what the mark no longer vouches for. -#}

{% macro carried_mark_relation() -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__mark'})) }}
{%- endmacro %}

{#- What a carried table depends on besides the landing rows: the policy's content and the rates. -#}
{% macro carried_fingerprint() -%}
    (select max(policy_checksum) from {{ ref('stg_tierflow__run_parameters') }})
    || '/' || cast((select {{ fact_checksum(['currency_code', 'units_per_usd']) }} from {{ ref('fx_rates') }}) as varchar)
{%- endmacro %}

{#- The mark as a dict (as_of_date, changed_seq) when this run may update the table from it: same policy and
    rates and, with `require_as_of`, an as-of date no earlier than the mark's. None otherwise, and outside
    execution (parsing). -#}
{% macro carried_mark(require_as_of=true) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set stored = carried_mark_relation() -%}
    {%- if adapter.get_relation(database=stored.database, schema=stored.schema, identifier=stored.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set usable = "mark.fingerprint = " ~ carried_fingerprint() -%}
    {%- if require_as_of -%}
        {%- set usable = usable ~ " and mark.as_of_date <= run_parameters.as_of_date" -%}
    {%- endif -%}
    {%- set rows = run_query(
        "select cast(mark.as_of_date as varchar), mark.changed_seq, " ~ usable
        ~ " from " ~ stored ~ " as mark cross join " ~ ref('stg_tierflow__run_parameters') ~ " as run_parameters"
    ).rows -%}
    {%- if rows | length != 1 or not rows[0][2] -%}{{ return(none) }}{%- endif -%}
    {{ return({'as_of_date': rows[0][0], 'changed_seq': rows[0][1]}) }}
{%- endmacro %}

{#- The rows of a staged landing relation loaded or changed in place after load `seq` (changed_seq > seq), as
    two branches on the raw sequence columns: a constant bound on a plain column lets DuckDB skip the row groups
    of earlier loads by their min/max statistics, where the derived changed_seq is computed for every row. An
    update comes from a later load than the row's own, so changed_seq > seq holds exactly when the row was
    loaded after seq or updated after it. -#}
{% macro changed_since(relation, seq) -%}
    (
        select * from {{ relation }} where load_seq > {{ seq }}
        union all
        select * from {{ relation }} where {{ changed_in_place_since(seq) }}
    )
{%- endmacro %}

{#- A row loaded by load `seq` or earlier and changed in place after it (its earlier version was seen). -#}
{% macro changed_in_place_since(seq) -%}
    updated_seq > {{ seq }} and load_seq <= {{ seq }}
{%- endmacro %}

{#- Post-hook of a carried table: its mark for the build just made. The highest load seen is the previous
    mark's, or a later one: only rows loaded or changed since that mark are read (by load sequence, so DuckDB
    skips earlier loads); a build without a usable mark reads every row. -#}
{% macro write_carried_mark() -%}
    {%- set stored = carried_mark_relation() -%}
    {%- set previous = carried_mark(require_as_of=false) if is_incremental() else none -%}
    {%- set since = previous['changed_seq'] if previous is not none else none -%}
    drop table if exists {{ stored }};
    create table {{ stored }} as
    select
        run_parameters.as_of_date,
        cast(coalesce((
            -- max(changed_seq), from the raw columns' maxima (an update's load is later than its row's)
            select max(seq) from (
                {%- if since is not none %}
                select {{ since }} as seq
                union all
                {%- endif %}
                {%- for relation in [ref('stg_landing__orders'), ref('stg_landing__events')] %}
                {%- set rows = relation if since is none else changed_since(relation, since) %}
                select max(load_seq) as seq from {{ rows }} as loaded
                union all
                select max(updated_seq) as seq from {{ rows }} as loaded{% if not loop.last %}
                union all{% endif %}
                {%- endfor %}
            ) as loaded
        ), 0) as bigint) as changed_seq,
        {{ carried_fingerprint() }} as fingerprint
    from {{ ref('stg_tierflow__run_parameters') }} as run_parameters
{%- endmacro %}

{#- Pre-hook of int_orders_converted: with a usable mark, forget the orders loaded or changed in place since
    (the model values them again); without one, forget every order (the model values them all). -#}
{% macro forget_changed_orders() -%}
    {%- if is_incremental() -%}
        {%- set mark = carried_mark(require_as_of=false) -%}
    delete from {{ this }}
        {%- if mark is not none %}
    where order_id in (
        select order_id from {{ changed_since(ref('stg_landing__orders'), mark['changed_seq']) }} as changed
    )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- On a daily run (a usable mark), a carried customer table's pre-hook writes `<table>__recomputed`: the
    customers it deleted (and, for the customer days, those it lacks that have new facts), the only ones the
    model computes. The forward rules name every customer whose rows can change, so the model reads just
    their facts rather than leaving out the kept customers from every order and event. Without a mark the
    model computes every customer the table lacks. A post-hook drops the table (drop_recomputed_customers). -#}
{% macro recomputed_customers_relation() -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__recomputed'})) }}
{%- endmacro %}

{#- The mark a carried customer table's model computes from (see recomputed_customers_relation): the usable
    mark of an incremental build, none otherwise; `required_column` is a column the table must have (a table
    without it is rebuilt whole). The same answer in the model's SQL (compiled before the hooks run) and in
    its pre-hook. -#}
{% macro carried_forward_mark(required_column=none) -%}
    {%- if not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- if required_column is not none -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if required_column not in columns -%}{{ return(none) }}{%- endif -%}
    {%- endif -%}
    {{ return(carried_mark(require_as_of=true)) }}
{%- endmacro %}

{#- Post-hook: drop the pre-hook's list of recomputed customers. -#}
{% macro drop_recomputed_customers() -%}
    {%- if execute and target.type != 'spark' -%}
    drop table if exists {{ recomputed_customers_relation() }}
    {%- endif -%}
{%- endmacro %}

{#- The windows, in days back from the as-of date, that int_customer_orders_summarised sums over (a null
    RFM window, the whole history, has no edge). -#}
{% macro summary_window_days() -%}
    {{ return([0, 30, 90, 365, 'run_parameters.qualification_window_days', 'run_parameters.rfm_window_days',
               'run_parameters.new_days']) }}
{%- endmacro %}
