"""The reference harness adapter: ``python -m aip.harness`` speaks harness protocol v1
(spec/conformance.md) on stdin/stdout over the ``aip`` package.

One JSON object per line in, one per line out. An :class:`AIPError` becomes an ``invalid``
result with its code; anything else becomes ``errored`` so that a bug in the reference is never
scored as a correct rejection.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, TextIO

from . import __version__
from . import _harness_chained as _chained  # noqa: F401  (registers operations)
from . import _harness_compact as _compact  # noqa: F401  (registers operations)
from . import _harness_completion as _completion  # noqa: F401  (registers operations)
from . import _harness_identity as _identity  # noqa: F401  (registers operations)
from ._errors import AIPError
from ._harness_base import OPERATIONS, PROFILES, Case

__all__ = ["handle", "main"]

PROTOCOL_VERSION = 1


def _start() -> dict[str, Any]:
    return {
        "ready": True,
        "version": PROTOCOL_VERSION,
        "implementation": {
            "name": "aip-reference",
            "version": __version__,
            "language": "python",
            "homepage": "https://github.com/aip-protocol/aip",
            "profiles": sorted(PROFILES),
            "operations": sorted(OPERATIONS),
        },
    }


def handle(request: dict[str, Any]) -> dict[str, Any] | None:
    """Answer one request object (``None`` for ``stop``)."""
    cmd = request.get("cmd")
    if cmd == "start":
        return _start()
    if cmd == "stop":
        return None
    seq = request.get("seq")
    if cmd != "run" or not isinstance(seq, int):
        return {"seq": seq if isinstance(seq, int) else -1, "errored": True,
                "context": {"message": f"unknown request {str(cmd)[:40]!r}"}}
    raw_case = request.get("case") or {}
    operation = raw_case.get("operation", "") if isinstance(raw_case, dict) else None
    if not isinstance(operation, str):
        return {"seq": seq, "errored": True, "context": {"message": "malformed case object"}}
    handler = OPERATIONS.get(operation)
    if handler is None:
        return {"seq": seq, "skipped": True,
                "reason": f"operation {operation[:64]!r} is not implemented"}
    try:  # a case off the harness schema is reported, never a traceback (found by fuzzing)
        case = Case(id=str(raw_case.get("id", "")), operation=operation,
                    now=int(raw_case.get("now", 0)), input=dict(raw_case.get("input") or {}),
                    trust=dict(raw_case.get("trust") or {}))
    except (TypeError, ValueError, OverflowError) as exc:
        return {"seq": seq, "errored": True,
                "context": {"message": f"malformed case object: {type(exc).__name__}"}}
    try:
        output = handler(case)
    except AIPError as exc:
        return {"seq": seq, "result": {"valid": False, "error": exc.code, "message": exc.reason}}
    except Exception as exc:  # a reference bug: report it, never score it as a rejection
        return {"seq": seq, "errored": True,
                "context": {"message": f"{type(exc).__name__}: {exc}",
                            "traceback": traceback.format_exc(limit=5)}}
    return {"seq": seq, "result": {"valid": True, "output": output}}


def serve(stdin: TextIO, stdout: TextIO) -> int:
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            answer: dict[str, Any] | None = {
                "seq": -1, "errored": True, "context": {"message": "request is not JSON"}}
        else:
            answer = handle(request) if isinstance(request, dict) else None
            if request == {"cmd": "stop"} or (isinstance(request, dict)
                                                and request.get("cmd") == "stop"):
                return 0
        if answer is not None:
            stdout.write(json.dumps(answer, separators=(",", ":")) + "\n")
            stdout.flush()
    return 0


def main() -> int:
    return serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
