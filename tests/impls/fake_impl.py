"""A tiny harness-protocol implementation for testing the suite's client and runner.

Answers each case with `input["answer"]` (so a vector decides what it gets back). A case whose
input has `"misbehave": true` triggers the misbehaviour named by the first argument:
  echo       behave (answer normally)
  crash      exit with status 3 after writing to stderr
  hang       never answer
  garbage    print a line that is not JSON
  wrong-seq  answer with the wrong seq
  bad-shape  answer with an object that breaks the answer schema
Other modes: bad-start (invalid answer to start), die-at-start (exit before answering),
ignore-stop (stay alive after stop), die-on-restart (crash on a misbehaving case, then
refuse every restart; the third argument names a marker file that records the first start).
Second argument: comma-separated profiles to claim (default "synthetic").
"""

import json
import os
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "echo"
PROFILES = sys.argv[2].split(",") if len(sys.argv) > 2 else ["synthetic"]
OPERATIONS = ["echo"]


def send(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    marker = sys.argv[3] if len(sys.argv) > 3 else ""
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "start":
            if MODE == "die-at-start":
                sys.stderr.write("fatal: cannot load keys\n")
                sys.exit(4)
            if MODE == "die-on-restart":
                if os.path.exists(marker):
                    sys.stderr.write("fatal: restart refused\n")
                    sys.exit(5)
                open(marker, "w").close()
            if MODE == "bad-start":
                send({"ready": "yes"})
                continue
            send({"ready": True, "version": 1, "implementation": {
                "name": "fake", "version": "0.0.1", "language": "python",
                "homepage": "https://example.invalid/fake",
                "profiles": PROFILES, "operations": OPERATIONS}})
        elif msg["cmd"] == "run":
            seq = msg["seq"]
            inp = msg["case"]["input"]
            if inp.get("misbehave"):
                if MODE in ("crash", "die-on-restart"):
                    sys.stderr.write(f"boom: cannot handle case {msg['case']['id']}\n")
                    sys.stderr.flush()
                    sys.exit(3)
                if MODE == "hang":
                    time.sleep(60)
                if MODE == "garbage":
                    print("DEBUG: this is not JSON", flush=True)
                    continue
                if MODE == "wrong-seq":
                    send({"seq": seq + 100, **inp["answer"]})
                    continue
                if MODE == "bad-shape":
                    send({"seq": seq, "result": {"valid": "maybe"}})
                    continue
            send({"seq": seq, **inp["answer"]})
        elif msg["cmd"] == "stop":
            if MODE == "ignore-stop":
                time.sleep(60)
            return


if __name__ == "__main__":
    main()
