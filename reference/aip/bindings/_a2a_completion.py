"""Completion records of A2A tasks, made where the task's events are produced (AIP-A2A-040..049).

The record is added to the events the executor enqueues, before the a2a-sdk's task manager
applies them to the stored task and fans them out to subscribers. So one record is what a
``SendMessage`` answer carries, what a ``SendStreamingMessage`` stream carries and what a later
``GetTask`` returns (AIP-A2A-048), without rewriting any response.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks.task_manager import append_artifact_to_task
from a2a.types.a2a_pb2 import (
    Artifact,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
    TaskStatusUpdateEvent,
)
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]

from .._completion_wire import result_digest_a2a
from .._errors import AIPError
from ._core import (
    BindingVerifier,
    CompletionReport,
    VerifiedCall,
    collect_report,
    reset_report,
    sign_completion,
)

__all__ = ["AIPAgentExecutor", "assemble_artifacts"]

META_COMPLETION = "aip_completion"
# The states that end a task with a record, and the record's status (AIP-A2A-047).
_TERMINAL: dict[int, str] = {TaskState.TASK_STATE_COMPLETED: "completed",
                             TaskState.TASK_STATE_FAILED: "failed"}


def _artifact_json(artifact: Artifact) -> dict[str, Any]:
    # The JSON form the a2a-sdk's JSON-RPC layer sends (camelCase members), which the client
    # hashes: the digest must be over the artifact as the client receives it.
    out: dict[str, Any] = MessageToDict(artifact, preserving_proto_field_name=False)
    return out


class _CompletingQueue(EventQueue):
    """The executor's view of its event queue: passes every event on, and just before the
    status update that ends the task ``COMPLETED`` or ``FAILED`` adds the record chunk."""

    def __init__(self, queue: EventQueue, verifier: BindingVerifier, call: VerifiedCall,
                 report: CompletionReport, current: Task | None) -> None:
        self._queue, self._verifier, self._call, self._report = queue, verifier, call, report
        self._started = time.perf_counter()
        # A scratch copy of the task's artifacts, updated with the SDK's own function so that it
        # assembles chunks exactly as the stored task does (AIP-A2A-046).
        self._task = Task()
        if current is not None:
            self._task.CopyFrom(current)
        self.completed = False
        self._broken = False

    async def enqueue_event(self, event: Any) -> None:
        if isinstance(event, Task):
            # The a2a-sdk stores only the first Task of a task and ignores a later one (it logs
            # "Ignoring task replacement"); a record on an ignored Task would be missing from
            # GetTask (AIP-A2A-048), so only the first is completed or followed.
            if not self._task.id:
                if event.status.state in _TERMINAL:
                    self._complete_task(event)
                self._task.CopyFrom(event)
        elif isinstance(event, TaskArtifactUpdateEvent):
            try:
                append_artifact_to_task(self._task, event)
            except Exception:  # the SDK refuses the event itself; no record then
                self._broken = True
        elif isinstance(event, TaskStatusUpdateEvent) and event.status.state in _TERMINAL:
            chunk = self._record_chunk(event)
            if chunk is not None:
                await self._queue.enqueue_event(chunk)
        await self._queue.enqueue_event(event)

    def _sign(self, artifact: Artifact, state: int) -> dict[str, str] | None:
        if self.completed or META_COMPLETION in artifact.metadata:
            return None  # one completion per invocation (AIP-CMP-004); the executor's own wins
        record = sign_completion(
            self._verifier, self._call, status=_TERMINAL[state],
            result_hash=result_digest_a2a(_artifact_json(artifact)), report=self._report,
            elapsed_ms=int((time.perf_counter() - self._started) * 1000))
        self.completed = record is not None
        return record

    def _complete_task(self, task: Task) -> None:
        # A whole Task enqueued in its final state: the record goes straight into its last
        # artifact, as in a SendMessage answer (AIP-A2A-042).
        if task.artifacts:
            record = self._sign(task.artifacts[-1], task.status.state)
            if record is not None:
                task.artifacts[-1].metadata.update({META_COMPLETION: record})

    def _record_chunk(self, status: TaskStatusUpdateEvent) -> TaskArtifactUpdateEvent | None:
        # A chunk without parts that appends nothing and carries only the record, for the task's
        # last artifact (AIP-A2A-045): no chunk of the executor is held back to wait for the
        # final state, so streaming is not delayed. No artifact, no record (AIP-A2A-047).
        if self._broken or not self._task.artifacts:
            return None
        last = self._task.artifacts[-1]
        record = self._sign(last, status.status.state)
        if record is None:
            return None
        chunk = TaskArtifactUpdateEvent(task_id=status.task_id, context_id=status.context_id,
                                        append=True, last_chunk=True,
                                        artifact=Artifact(artifact_id=last.artifact_id))
        chunk.artifact.metadata.update({META_COMPLETION: record})
        append_artifact_to_task(self._task, chunk)
        return chunk


class AIPAgentExecutor(AgentExecutor):
    """Wraps an agent executor so that a task it ends ``COMPLETED`` or ``FAILED`` carries the
    signed completion record of the verified message (AIP-A2A-041, AIP-A2A-044)."""

    def __init__(self, executor: AgentExecutor, verifier: BindingVerifier) -> None:
        self.executor = executor
        self.verifier = verifier

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        state = context.call_context.state if context.call_context else {}
        call = state.get("aip")
        if not isinstance(call, VerifiedCall) or self.verifier.signing_key is None:
            await self.executor.execute(context, event_queue)
            return
        # The executor runs in its own asyncio task: what it reports with report_completion
        # is collected here, for this task only.
        report, collecting = collect_report()
        try:
            await self.executor.execute(context, _CompletingQueue(
                event_queue, self.verifier, call, report, context.current_task))
        finally:
            reset_report(collecting)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        await self.executor.cancel(context, event_queue)


# --- the client side ----------------------------------------------------------------------------

def _bad(what: str) -> AIPError:
    return AIPError("aip_input_invalid", what)


def assemble_artifacts(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The artifacts of a streamed task as the client assembles them (AIP-A2A-046), from the
    stream's results in order: each a ``StreamResponse`` object (``task``, ``message``,
    ``statusUpdate`` or ``artifactUpdate``) or a JSON-RPC response holding one in ``result``.

    A ``task`` replaces what was assembled so far; an ``artifactUpdate`` without ``append:
    true`` puts its artifact in place (a new one at the end); with ``append: true`` it appends
    its parts to the artifact of the same ``artifactId`` and sets its metadata members there.
    """
    artifacts: list[dict[str, Any]] = []
    for item in events:
        if not isinstance(item, Mapping):
            raise _bad("a stream event is not a JSON object")
        if "jsonrpc" in item:
            if "result" not in item:
                raise _bad("a stream event is a JSON-RPC error, not a result")
            item = item["result"]
            if not isinstance(item, Mapping):
                raise _bad("a stream result is not a JSON object")
        if "task" in item:
            task = item["task"]
            found = task.get("artifacts", []) if isinstance(task, Mapping) else None
            if not isinstance(found, list) or not all(isinstance(a, Mapping) for a in found):
                raise _bad("a streamed task's artifacts are not an array of objects")
            artifacts = [_copy(a) for a in found]
        elif "artifactUpdate" in item:
            _apply(artifacts, item["artifactUpdate"])
    return artifacts


def _copy(artifact: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(artifact)
    if "parts" in out:
        out["parts"] = _parts(out["parts"])
    if "metadata" in out:
        out["metadata"] = _metadata(out["metadata"])
    return out


def _parts(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _bad("an artifact's parts are not an array")
    return list(value)


def _metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad("an artifact's metadata is not an object")
    return dict(value)


def _apply(artifacts: list[dict[str, Any]], update: Any) -> None:
    artifact = update.get("artifact") if isinstance(update, Mapping) else None
    if not isinstance(artifact, Mapping) or not isinstance(artifact.get("artifactId"), str):
        raise _bad("an artifact update carries no artifact with an artifactId")
    append = update.get("append", False)
    if not isinstance(append, bool):
        raise _bad("an artifact update's append is not a boolean")
    ident = artifact["artifactId"]
    index = next((i for i, a in enumerate(artifacts) if a.get("artifactId") == ident), None)
    if not append:
        if index is None:
            artifacts.append(_copy(artifact))
        else:
            artifacts[index] = _copy(artifact)
        return
    if index is None:
        raise _bad(f"an artifact update appends to artifact {ident!r}, which was never sent")
    # Only parts and metadata of an appended chunk count; its other members are ignored.
    target = artifacts[index]
    parts = _parts(artifact.get("parts", []))
    if parts:
        target["parts"] = [*_parts(target.get("parts", [])), *parts]
    if "metadata" in artifact:
        target["metadata"] = {**_metadata(target.get("metadata", {})),
                              **_metadata(artifact["metadata"])}
