"""Quality gates: input, reconciliation, freshness and circuit breakers, the suites and the gate report."""
