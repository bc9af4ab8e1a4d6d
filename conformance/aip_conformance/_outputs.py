"""Independent checks of what an implementation *makes*.

For operations that produce tokens, proofs or blocks (``compact.issue``, ``chained.mint``, ...)
a valid answer is not enough: the suite decodes and verifies the output itself, from
primitives, before accepting it. Each profile's checker module contributes an
``OUTPUT_CHECKS`` table; this module merges them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import checks_chained, checks_compact, checks_completion

__all__ = ["OUTPUT_CHECKS", "output_problems"]

Checker = Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]

OUTPUT_CHECKS: dict[str, Checker] = {**checks_compact.OUTPUT_CHECKS, **checks_chained.OUTPUT_CHECKS,
                                     **checks_completion.OUTPUT_CHECKS}


def output_problems(operation: str, case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    """Problems the suite finds in a valid answer's output (empty when it has no checker)."""
    check = OUTPUT_CHECKS.get(operation)
    if check is None:
        return []
    try:
        return check(case_input, output)
    except Exception as exc:  # a checker must never crash the run; a malformed output fails
        return [f"output could not be checked: {type(exc).__name__}: {exc}"]
