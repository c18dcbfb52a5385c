{#- The calendar date, in the policy time zone `tz`, of a timestamp stored in UTC without an offset.
    Engines spell time-zone conversion differently, hence the dispatch. -#}
{% macro to_local_date(utc_timestamp, tz) -%}
    {{ return(adapter.dispatch('to_local_date', 'tierflow')(utc_timestamp, tz)) }}
{%- endmacro %}

{% macro default__to_local_date(utc_timestamp, tz) -%}
    {{ exceptions.raise_compiler_error("to_local_date is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__to_local_date(utc_timestamp, tz) -%}
    cast(timezone({{ tz }}, timezone('UTC', {{ utc_timestamp }})) as date)
{%- endmacro %}

{% macro postgres__to_local_date(utc_timestamp, tz) -%}
    cast(({{ utc_timestamp }} at time zone 'UTC') at time zone {{ tz }} as date)
{%- endmacro %}

{% macro spark__to_local_date(utc_timestamp, tz) -%}
    to_date(from_utc_timestamp({{ utc_timestamp }}, {{ tz }}))
{%- endmacro %}
