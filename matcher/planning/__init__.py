"""The planning layer: what-if variants, comparisons, sweeps, rolling cohorts, re-solves,
explanations, verification, benchmarks and synthetic scenarios, built on the layers below."""
