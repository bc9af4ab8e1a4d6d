"""Deliberately weak servers that the live probes must catch, case by case."""
