"""Benchmark and suite scripts (run them as files: see each one's docstring)."""
