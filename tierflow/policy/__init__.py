"""The tier policy: its schema, the tier engine's rules and the parameters dbt reads."""
