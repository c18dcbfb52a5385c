-- Every one of the 25 recency x frequency cells falls in exactly one rfm_segment_rules row
-- (a row returned is a cell with no segment or with several).
with

scores as (

    select 1 as score union all select 2 union all select 3 union all select 4 union all select 5

),

rules as (

    select * from {{ ref('rfm_segment_rules') }}

),

cells as (

    select
        recency.score as recency_score,
        frequency.score as frequency_score

    from scores as recency
    cross join scores as frequency

),

final as (

    select
        cells.recency_score,
        cells.frequency_score,
        count(rules.rfm_segment) as segments

    from cells
    left join rules
        on cells.recency_score between rules.recency_score_min and rules.recency_score_max
        and cells.frequency_score between rules.frequency_score_min and rules.frequency_score_max
    group by cells.recency_score, cells.frequency_score
    having count(rules.rfm_segment) <> 1

)

select * from final
