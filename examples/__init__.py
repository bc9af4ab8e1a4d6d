"""Runnable examples (``python -m examples.e2e``)."""
