-- The tier engine's state and tiers as of the last publication before this run's as-of date.
{{ last_published('customer_tiers', [
    'customer_id', 'as_of_date', 'tier', 'tier_rank', 'spend_365d', 'computed_tier', 'tier_since',
    'next_evaluation_date', 'policy_version',
]) }}
