{#- True when the measures meet a tier's thresholds (`prefix` '' for entering, 'keep_' for keeping): every
    given threshold with match `all`, one of them with `any`; a tier without thresholds always holds. -#}
{% macro meets_thresholds(tiers, prefix, spend, orders, points) -%}
    case
        when {{ tiers }}.{{ prefix }}min_spend is null
            and {{ tiers }}.{{ prefix }}min_orders is null
            and {{ tiers }}.{{ prefix }}min_points is null then true
        when {{ tiers }}.match_mode = 'any' then
            coalesce({{ spend }} >= {{ tiers }}.{{ prefix }}min_spend, false)
            or coalesce({{ orders }} >= {{ tiers }}.{{ prefix }}min_orders, false)
            or coalesce({{ points }} >= {{ tiers }}.{{ prefix }}min_points, false)
        else
            coalesce({{ spend }} >= {{ tiers }}.{{ prefix }}min_spend, true)
            and coalesce({{ orders }} >= {{ tiers }}.{{ prefix }}min_orders, true)
            and coalesce({{ points }} >= {{ tiers }}.{{ prefix }}min_points, true)
    end
{%- endmacro %}
