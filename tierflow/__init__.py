"""tierflow: recompute customer membership tiers in the warehouse.

The product's own code: policy, ingest, the data generator, the quality gates, publication, delivery, the
report and the command line. The Dagster code location that runs it lives in `orchestration/`.
"""
