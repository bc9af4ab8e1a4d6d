"""Mutation score of the reference with the conformance suite as the test (issue 7, item 4)."""
