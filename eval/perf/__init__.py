"""The performance table (issue 7, item 2): ``python -m eval.perf``."""
