"""A broken implementation: the reference, except that it dies on one case and hangs on another."""

import json
import sys
import time

from aip.harness import handle

for line in sys.stdin:
    request = json.loads(line)
    case_id = request.get("case", {}).get("id", "")
    if case_id == "identity/identifiers#3":
        sys.exit(3)  # a crash mid-run
    if case_id == "identity/identifiers#5":
        time.sleep(60)  # a hang; the runner must time out and restart us
    answer = handle(request)
    if answer is None:
        break
    print(json.dumps(answer), flush=True)
