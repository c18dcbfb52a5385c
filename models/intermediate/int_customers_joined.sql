-- Every customer known on the as-of date: a profile that signed up by then, or any order up to then
-- (customers with orders but no profile are kept, with empty profile fields).
with

profiles as (

    select * from {{ ref('stg_landing__profiles') }}

),

summaries as (

    select customer_id from {{ ref('int_customer_orders_summarised') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

known_customers as (

    select profiles.customer_id
    from profiles
    cross join run_parameters
    where profiles.signup_date <= run_parameters.as_of_date

    union

    select customer_id
    from summaries

),

final as (

    select
        known_customers.customer_id,
        (profiles.customer_id is not null) as has_profile,
        profiles.signup_date,
        profiles.birth_date,
        profiles.gender,
        profiles.region,
        profiles.city,
        profiles.occupation,
        profiles.interests,
        coalesce(profiles.is_marketing_opt_in, false) as is_marketing_opt_in

    from known_customers
    left join profiles
        on known_customers.customer_id = profiles.customer_id

)

select * from final
