"""A broken implementation: the reference, except that every token, proof or block it makes
comes back with one character of its signature changed (its verifier is still correct)."""

import json
import sys

from aip.harness import handle

MAKES = {"compact.issue", "proof.create", "chained.mint", "chained.delegate", "chained.invoke"}


def tamper(text: str) -> str:
    # Change a character near the end: inside the signature of a JWS, inside the last block's
    # signature of a Biscuit token (both base64url).
    i = len(text) - 12
    return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1:]


for line in sys.stdin:
    request = json.loads(line)
    answer = handle(request)
    if answer is None:
        break
    operation = request.get("case", {}).get("operation")
    output = answer.get("result", {}).get("output")
    if operation in MAKES and isinstance(output, dict):
        for name in ("token", "proof"):
            if isinstance(output.get(name), str):
                output[name] = tamper(output[name])
    print(json.dumps(answer), flush=True)
