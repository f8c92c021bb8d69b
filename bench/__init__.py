"""Benchmarks with their data generators (not part of the test suite; see bench/README.md)."""
