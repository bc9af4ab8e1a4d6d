"""The README's compact and chained CLI walkthroughs run as written (keeps the README true)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The CLI"):text.index("## Testing your own implementation")]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("issuer", "agent", "helper"):
        proc = subprocess.run(["aip", "keygen", "-o", f"{name}.json"], cwd=cwd, env=env,
                              capture_output=True, text=True, check=True)
        env[name.upper()] = proc.stdout.strip()
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_compact_walkthrough_runs_and_verifies(tmp_path: Path) -> None:
    proc = _run(_blocks()[1], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert '"valid": true' in proc.stdout


def test_the_chained_walkthrough_runs_and_draws_every_hop(tmp_path: Path) -> None:
    proc = _run(_blocks()[2], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "block 1 delegation" in proc.stdout and "summarise the inbox" in proc.stdout
    assert "block 2 invocation" in proc.stdout


def test_the_quoted_failure_message_is_what_the_cli_prints(tmp_path: Path) -> None:
    script = _blocks()[1].replace('{"q":"aip"}\' --trust', '{"q":"other"}\' --trust')
    proc = _run(script, tmp_path)
    assert proc.returncode == 1
    quoted = re.search(r"`(error: aip_invocation_mismatch: [^`]*)`", (ROOT / "README.md").read_text())
    assert quoted and proc.stderr.strip().endswith(quoted.group(1))
