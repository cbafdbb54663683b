"""Benchmarks: ``make bench`` prints one table of figures; targets are checked here, not in unit tests."""
