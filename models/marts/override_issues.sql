-- The manual overrides this run could not apply, with why (unknown customer or tier): the run summary
-- lists them.
with

checked as (

    select * from {{ ref('int_overrides_checked') }}

),

final as (

    select
        customer_id,
        tier_code,
        issue,
        source_row

    from checked
    where issue is not null

)

select * from final
