-- Demographic and interest classification of every customer: age band on the as-of date, normalised
-- gender and occupation, interests, birthday month, and the preferred category over the last 365 days.
with

customers as (

    select * from {{ ref('int_customers_joined') }}

),

aggregated as (

    select customer_id, spend_365d from {{ ref('int_customers_aggregated') }}

),

summaries as (

    select customer_id, preferred_category, preferred_category_spend
    from {{ ref('int_customer_orders_summarised') }}

),

occupation_map as (

    select * from {{ ref('occupation_map') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

aged as (

    select
        customers.*,
        run_parameters.as_of_date,
        -- Whole years, one less until the birthday has come this year (the birthday itself counts).
        extract(year from run_parameters.as_of_date) - extract(year from customers.birth_date)
        - case
            when {{ month_day('run_parameters.as_of_date') }} < {{ month_day('customers.birth_date') }}
                then 1
            else 0
        end as age_years,
        -- `-` and `_` read as spaces, so "Self-employed" and "self employed" meet in the mapping seed.
        replace(replace(lower(trim(customers.occupation)), '-', ' '), '_', ' ') as occupation_key

    from customers
    cross join run_parameters

),

final as (

    select
        aged.customer_id,
        cast(aged.age_years as integer) as age_years,
        case
            when aged.age_years is null or aged.age_years < 0 then 'unknown'
            when aged.age_years < 18 then 'under_18'
            when aged.age_years < 25 then '18_24'
            when aged.age_years < 35 then '25_34'
            when aged.age_years < 45 then '35_44'
            when aged.age_years < 55 then '45_54'
            when aged.age_years < 65 then '55_64'
            else '65_plus'
        end as age_band,
        case
            when lower(aged.gender) in ('f', 'female', 'woman') then 'female'
            when lower(aged.gender) in ('m', 'male', 'man') then 'male'
            when aged.gender is null then 'unknown'
            else 'other'
        end as gender,
        aged.region,
        aged.city,
        case
            when aged.occupation is null then 'unknown'
            else coalesce(occupation_map.occupation, 'other')
        end as occupation,
        (aged.occupation is not null and occupation_map.occupation is null) as is_occupation_unmapped,
        lower(aged.interests) as interests,
        summaries.preferred_category,
        cast(
            case
                when aggregated.spend_365d > 0 then summaries.preferred_category_spend / aggregated.spend_365d
            end as numeric(7, 4)
        ) as preferred_category_share,
        cast(extract(month from aged.birth_date) as integer) as birthday_month,
        aged.is_marketing_opt_in

    from aged
    left join occupation_map
        on aged.occupation_key = occupation_map.occupation_key
    left join aggregated
        on aged.customer_id = aggregated.customer_id
    left join summaries
        on aged.customer_id = summaries.customer_id

)

select * from final
