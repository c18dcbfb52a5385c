"""Publication: atomic file outputs, the published state a run compares with, PostgreSQL for BI."""
