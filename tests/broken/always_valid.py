"""A broken implementation: claims every profile and answers "valid" to every case."""

import json
import sys

for line in sys.stdin:
    request = json.loads(line)
    if request["cmd"] == "start":
        answer = {"ready": True, "version": 1, "implementation": {
            "name": "always-valid", "version": "0", "language": "python", "homepage": "",
            "profiles": ["identity"],
            "operations": ["identifier.parse", "document.verify", "identity.resolve"]}}
    elif request["cmd"] == "stop":
        break
    else:
        answer = {"seq": request["seq"], "result": {"valid": True, "output": {}}}
    print(json.dumps(answer), flush=True)
