{#- A date's month and day as one number (June 18 = 618): how promotions give their days, and how birthdays
    compare within a year. -#}
{% macro month_day(date_column) -%}
    extract(month from {{ date_column }}) * 100 + extract(day from {{ date_column }})
{%- endmacro %}
