-- The e-mail address of every customer with a profile, trimmed and lower-cased (null when empty): the CRM
-- export hashes it, with a secret salt, for opted-in members. Raw PII: never published.
with

profiles as (

    select * from {{ ref('stg_landing__profiles') }}

),

final as (

    select
        customer_id,
        nullif(lower(trim(email)), '') as normalised_email

    from profiles

)

select * from final
