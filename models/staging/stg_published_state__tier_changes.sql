-- Every tier change published before this run's as-of date.
{{ last_published('tier_changes', [
    'customer_id', 'effective_date', 'from_tier', 'to_tier', 'change_type', 'reason', 'policy_version',
    'source_run_id',
]) }}
