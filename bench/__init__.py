"""Benchmarks: ``python -m bench [--quick]`` (``make bench``) writes docs/performance.md.

Every figure is a ratio against a bare baseline measured in the same run."""
