with

source as (

    select * from {{ source('landing', 'orders') }}

),

final as (

    select
        order_id,
        customer_id,
        cast(order_ts as timestamp) as ordered_at,
        cast(amount as numeric(18, 2)) as amount,
        upper(currency) as currency_code,
        lower(status) as order_status,
        cast(coalesce(refunded_amount, 0) as numeric(18, 2)) as refunded_amount,
        category as product_category,
        channel as sales_channel,
        store_id,
        source_file,
        cast(ingested_at as timestamp) as ingested_at,
        -- The loads that brought and last changed the row, as they are: carried tables filter on them with
        -- constant bounds (macro changed_since).
        load_seq,
        updated_seq

    from source

)

select * from final
