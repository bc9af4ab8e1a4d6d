"""Client side of harness protocol v1: JSON Lines over an implementation's stdin/stdout.

The implementation is an untrusted child process. Every way it can misbehave (crash, hang,
garbage, wrong answer shape, answer to the wrong request) becomes an `errored` answer with
context, never an exception and never a pass, and the next case gets a fresh process.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from ._errors import HarnessError
from ._schemas import schema_errors

__all__ = [
    "DEFAULT_IMPL",
    "PROTOCOL_VERSION",
    "Answer",
    "HarnessClient",
    "Implementation",
    "split_command",
]

PROTOCOL_VERSION = 1
# The bundled reference adapter. Only spawned, never imported: the suite must not import `aip`.
DEFAULT_IMPL: tuple[str, ...] = (sys.executable, "-m", "aip.harness")
_STDERR_TAIL_LINES = 40
# After this many failed (re)starts in a row the implementation is considered dead, so a
# broken command costs a few seconds rather than one start timeout per remaining case.
_MAX_FAILED_STARTS = 3


def split_command(command: str | Sequence[str]) -> list[str]:
    """A command as an argv list: strings are split like a POSIX shell would (no shell runs)."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if not argv:
        raise HarnessError("the implementation command is empty")
    return argv


@dataclass(frozen=True)
class Implementation:
    """What the implementation said about itself in its answer to `start`."""

    name: str
    version: str
    language: str
    homepage: str
    profiles: tuple[str, ...]
    operations: tuple[str, ...]
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """The outcome of one `run`: a result, a skip, or an error (the adapter's or ours)."""

    kind: Literal["result", "skipped", "errored"]
    valid: bool | None = None
    output: Mapping[str, Any] | None = None
    error: str | None = None
    message: str | None = None
    reason: str | None = None
    context: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """The answer as recorded in reports (the wire shape without `seq`)."""
        if self.kind == "result":
            if self.valid:
                return {"result": {"valid": True, "output": dict(self.output or {})}}
            return {"result": {"valid": False, "error": self.error, "message": self.message}}
        if self.kind == "skipped":
            return {"skipped": True, "reason": self.reason}
        return {"errored": True, "context": dict(self.context or {})}


def _errored(problem: str, **context: Any) -> Answer:
    return Answer(kind="errored", context={"problem": problem, **context})


class _Process:
    """One running implementation, with reader threads so that no read can block the suite."""

    def __init__(self, argv: list[str], cwd: Path | None, env: Mapping[str, str] | None) -> None:
        try:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=None if env is None else dict(env),
                # Own process group, so a timeout kills the adapter's children as well
                # (otherwise a grandchild keeps the pipe open and the reader never ends).
                start_new_session=(os.name == "posix"),
            )
        except OSError as exc:
            raise HarnessError(f"cannot start implementation {shlex.join(argv)}: {exc}") from exc
        assert self.popen.stdin and self.popen.stdout and self.popen.stderr
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._out = threading.Thread(target=self._pump_stdout, args=(self.popen.stdout,))
        self._err = threading.Thread(target=self._pump_stderr, args=(self.popen.stderr,))
        for t in (self._out, self._err):
            t.daemon = True
            t.start()

    def _pump_stdout(self, stream: IO[bytes]) -> None:
        try:
            for line in stream:
                self.lines.put(line)
        except (OSError, ValueError):
            pass
        self.lines.put(None)  # end of stream: the process exited or closed stdout

    def _pump_stderr(self, stream: IO[bytes]) -> None:
        try:
            for line in stream:
                self.stderr_tail.append(line.decode("utf-8", "replace").rstrip("\n"))
        except (OSError, ValueError):
            pass

    def send(self, message: Mapping[str, Any]) -> None:
        stdin = self.popen.stdin
        assert stdin is not None
        stdin.write(json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n")
        stdin.flush()

    def receive(self, timeout: float) -> bytes | None:
        """The next stdout line; None at end of stream; raises queue.Empty on timeout."""
        return self.lines.get(timeout=timeout)

    def stderr(self) -> str:
        # Give the stderr reader a moment to catch up with a process that just died.
        if self.popen.poll() is not None:
            self._err.join(timeout=1.0)
        return "\n".join(self.stderr_tail)

    def _kill(self) -> None:
        if self.popen.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(self.popen.pid, signal.SIGKILL)
            else:  # pragma: no cover - exercised only on Windows
                self.popen.kill()
        except (ProcessLookupError, PermissionError):
            pass

    def close(self, *, graceful: bool, stop_timeout: float) -> None:
        """End the process (politely if `graceful`) and release every pipe and thread."""
        stdin = self.popen.stdin
        if graceful and self.popen.poll() is None:
            try:
                self.send({"cmd": "stop"})
            except (OSError, ValueError):
                pass
        if stdin is not None:
            try:
                stdin.close()
            except OSError:
                pass
        if graceful:
            try:
                self.popen.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                pass
        self._kill()
        self.popen.wait()
        # A leftover grandchild in another group could still hold the pipes; don't hang on it.
        self._out.join(timeout=2.0)
        self._err.join(timeout=2.0)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass


class HarnessClient:
    """Drives one implementation through harness protocol v1.

    Use as a context manager, or call `start()` then `run()` per case, then `stop()`.
    """

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        schemas_dir: Path,
        timeout: float = 10.0,
        stop_timeout: float = 5.0,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = split_command(command)
        self.schemas_dir = schemas_dir
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self.cwd = cwd
        self.env = env
        self.implementation: Implementation | None = None
        self.restarts = 0
        self._proc: _Process | None = None
        self._seq = 0
        self._failed_starts = 0
        self._last_start_problem = ""

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> HarnessClient:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Implementation:
        """Spawn the implementation and perform the handshake; raise `HarnessError` if it fails."""
        proc = _Process(self.argv, self.cwd, self.env)
        try:
            info = self._handshake(proc)
        except HarnessError:
            proc.close(graceful=False, stop_timeout=0)
            raise
        self._proc = proc
        if self.implementation is None:
            self.implementation = info
        return info

    def _handshake(self, proc: _Process) -> Implementation:
        cmd = shlex.join(self.argv)
        try:
            proc.send({"cmd": "start", "version": PROTOCOL_VERSION})
            line = proc.receive(self.timeout)
        except (OSError, ValueError) as exc:
            raise HarnessError(
                f"{cmd}: cannot send start: {exc}{_tail(proc.stderr())}"
            ) from exc
        except queue.Empty:
            raise HarnessError(
                f"{cmd}: no answer to start within {self.timeout:g} s{_tail(proc.stderr())}"
            ) from None
        if line is None:
            code = proc.popen.wait()
            raise HarnessError(
                f"{cmd}: exited with status {code} before answering start{_tail(proc.stderr())}"
            )
        try:
            answer = json.loads(line)
        except ValueError:
            raise HarnessError(
                f"{cmd}: answer to start is not JSON: {_clip(line)}{_tail(proc.stderr())}"
            ) from None
        problems = schema_errors(self.schemas_dir, "harness/answer-start.schema.json", answer)
        if problems:
            raise HarnessError(f"{cmd}: invalid answer to start: " + "; ".join(problems))
        impl = answer["implementation"]
        return Implementation(
            name=impl["name"],
            version=impl["version"],
            language=impl["language"],
            homepage=impl["homepage"],
            profiles=tuple(impl["profiles"]),
            operations=tuple(impl["operations"]),
            raw=impl,
        )

    def stop(self) -> None:
        """Send `stop` and wait for exit; kill the process if it outlives `stop_timeout`."""
        if self._proc is not None:
            self._proc.close(graceful=True, stop_timeout=self.stop_timeout)
            self._proc = None

    def _discard(self) -> None:
        # The stream can no longer be trusted to be in step with our requests: start afresh.
        if self._proc is not None:
            self._proc.close(graceful=False, stop_timeout=0)
            self._proc = None

    def _ensure_running(self) -> Answer | None:
        if self._proc is not None:
            return None
        if self._failed_starts >= _MAX_FAILED_STARTS:
            return _errored(
                "implementation could not be restarted",
                detail=self._last_start_problem,
            )
        try:
            self.start()
        except HarnessError as exc:
            self._failed_starts += 1
            self._last_start_problem = str(exc)
            return _errored("restart failed", detail=str(exc))
        self._failed_starts = 0
        self.restarts += 1
        return None

    # -- cases -----------------------------------------------------------------------------

    def run(self, case: Mapping[str, Any]) -> Answer:
        """Send one `run` request and score the answer; never raises for implementation faults."""
        failed = self._ensure_running()
        if failed is not None:
            return failed
        proc = self._proc
        assert proc is not None
        self._seq += 1
        seq = self._seq
        try:
            proc.send({"cmd": "run", "seq": seq, "case": dict(case)})
        except (OSError, ValueError) as exc:
            return self._crashed(proc, f"could not write the request: {exc}")
        try:
            line = proc.receive(self.timeout)
        except queue.Empty:
            stderr = proc.stderr()
            self._discard()
            return _errored(
                f"timeout: no answer within {self.timeout:g} s", seq=seq, stderr=stderr
            )
        if line is None:
            return self._crashed(proc, "the implementation closed stdout without answering")
        return self._score(proc, seq, line)

    def _crashed(self, proc: _Process, problem: str) -> Answer:
        try:
            code = proc.popen.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        stderr = proc.stderr()
        self._discard()
        return _errored(f"crash: {problem}", exit_status=code, stderr=stderr)

    def _score(self, proc: _Process, seq: int, line: bytes) -> Answer:
        try:
            answer = json.loads(line)
        except ValueError:
            stderr = proc.stderr()
            self._discard()
            return _errored("answer is not valid JSON", line=_clip(line), stderr=stderr)
        problems = schema_errors(self.schemas_dir, "harness/answer-run.schema.json", answer)
        if problems:
            stderr = proc.stderr()
            self._discard()
            return _errored(
                "answer does not match harness/answer-run.schema.json",
                violations=problems[:10],
                line=_clip(line),
                stderr=stderr,
            )
        if answer["seq"] != seq:
            stderr = proc.stderr()
            self._discard()
            return _errored(
                f"seq mismatch: sent {seq}, answer has {answer['seq']}",
                line=_clip(line),
                stderr=stderr,
            )
        if "result" in answer:
            result = answer["result"]
            if result["valid"]:
                return Answer(kind="result", valid=True, output=result["output"])
            return Answer(
                kind="result", valid=False, error=result["error"], message=result["message"]
            )
        if "skipped" in answer:
            return Answer(kind="skipped", reason=answer["reason"])
        return Answer(
            kind="errored",
            context={"problem": "reported by the implementation", "context": answer["context"]},
        )


def _clip(line: bytes, limit: int = 500) -> str:
    text = line.decode("utf-8", "replace").rstrip("\n")
    return text if len(text) <= limit else text[:limit] + "..."


def _tail(stderr: str) -> str:
    return f"\nstderr:\n{stderr}" if stderr else ""
