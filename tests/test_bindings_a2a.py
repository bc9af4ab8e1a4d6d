"""The A2A binding on the real `a2a-sdk`, and the end-to-end example (A2A forwarding by
delegation, then MCP), both on loopback."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import ClientConfig, ClientFactory
from a2a.helpers.proto_helpers import new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    Role,
    SendMessageRequest,
    Task,
    TaskState,
)
from google.protobuf import json_format
from starlette.applications import Starlette

from aip import AIPError, Resolver, TrustStore, generate_key, verify_audit
from aip._chained import chain_mint
from aip._compact import issue_token
from aip._completion_wire import result_digest_a2a
from aip._encoding import canonical_json
from aip._keys import dumps_key
from aip._replay import MemoryReplayCache
from aip.bindings import BindingVerifier, ChainedSigner, CompactSigner, report_completion
from aip.bindings._serve import LoopbackServer, free_port
from aip.bindings.a2a import (
    EXTENSION_URI,
    AIPA2AAuth,
    AIPAgentExecutor,
    AIPAgentGuard,
    AIPCallContextBuilder,
    agent_card_routes,
    assemble_artifacts,
    delegate_to,
    verified_call,
    verify_artifact,
    verify_stream,
    with_aip_extension,
)
from aip_conformance.probe import ProbeConfig, load_identity, run_probe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from examples.e2e._system import Audit, research_agent, tool_server  # noqa: E402

PRINCIPAL, ORCH, AGENT, TOOLS = (generate_key() for _ in range(4))
AUDIT = Audit()


@pytest.fixture(scope="module")
def agent_url() -> Iterator[str]:
    port = free_port()
    with LoopbackServer(tool_server(PRINCIPAL.identity, TOOLS, AUDIT)) as tool_url, \
            LoopbackServer(research_agent(PRINCIPAL.identity, AGENT, f"http://127.0.0.1:{port}",
                                          tool_url + "/mcp", TOOLS.identity, AUDIT),
                           port=port) as url:
        yield url


def _message(delegation: str | None = None, text: str = "llamas?") -> dict[str, Any]:
    metadata: dict[str, Any] = {"aip_skill": "research"}
    if delegation:
        metadata["aip_delegation"] = delegation
    return {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": {
        "messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"text": text}],
        "metadata": metadata}}}


def test_the_card_declares_the_extension_and_aip_identity(agent_url: str) -> None:
    card = httpx.get(agent_url + "/.well-known/agent-card.json").json()
    ext = [e for e in card["capabilities"]["extensions"] if e["uri"] == EXTENSION_URI]
    assert ext and ext[0]["required"] is True
    assert ext[0]["params"]["audience"] == AGENT.identity
    assert card["aip_identity"] == {"id": AGENT.identity}


def test_forwarding_by_delegation_reaches_the_tool(agent_url: str) -> None:
    resolver = Resolver(TrustStore(trusted_issuers=[PRINCIPAL.identity]))
    now = int(time.time())
    token = chain_mint(PRINCIPAL, holder=ORCH.identity, scopes=["tool:research", "tool:search"],
                       expires=now + 600)
    delegation = delegate_to(token, ORCH, delegate=AGENT.identity, scopes=["tool:search"],
                             context="find facts", resolver=resolver, now=now)
    auth = AIPA2AAuth(ChainedSigner(token, ORCH, resolver), AGENT.identity)
    with httpx.Client(auth=auth, timeout=30) as client:
        r = client.post(agent_url + "/a2a", json=_message(delegation),
                        headers={"A2A-Version": "1.0"})
    body = r.json()
    assert r.status_code == 200, body
    artifact = body["result"]["task"]["artifacts"][0]
    # The agent's binding completed the task: a signed record in the artifact's metadata.
    task = auth.verify_artifact(artifact, resolver=resolver)
    assert task.completion is not None and task.result_checked
    assert task.completion["executor"] == AGENT.identity
    assert task.completion["status"] == "completed" and task.completion["cost_usd"] == "0.0042"
    assert task.invocation["operation"] == "SendMessage"
    # The tool server's record of the call the agent made with the delegated chain.
    tool = verify_audit(artifact["metadata"]["aip_tool_completion"]["token"], resolver=resolver)
    assert tool.completion is not None and tool.completion["executor"] == TOOLS.identity
    assert [h["delegate"] for h in tool.hops] == [AGENT.identity]
    paths = [e["path"] for e in AUDIT.events if e["what"] == "verified tools/call"]
    assert paths[-1] == [PRINCIPAL.identity, ORCH.identity, AGENT.identity]
    # A changed artifact no longer matches the record.
    changed = {**artifact, "parts": [{"text": "something else"}]}
    sent = auth.sent.last
    assert sent is not None
    with pytest.raises(AIPError) as err:
        verify_artifact(changed, sent, resolver=resolver)
    assert err.value.code == "aip_completion_invalid"


def test_a_delegation_to_someone_else_is_refused(agent_url: str) -> None:
    resolver = Resolver(TrustStore(trusted_issuers=[PRINCIPAL.identity]))
    now = int(time.time())
    token = chain_mint(PRINCIPAL, holder=ORCH.identity, scopes=["tool:*"], expires=now + 600)
    stray = delegate_to(token, ORCH, delegate=generate_key().identity, scopes=["tool:search"],
                        context="elsewhere", resolver=resolver, now=now)
    auth = AIPA2AAuth(ChainedSigner(token, ORCH, resolver), AGENT.identity)
    with httpx.Client(auth=auth) as client:
        r = client.post(agent_url + "/a2a", json=_message(stray))
    assert r.status_code == 401
    assert r.json()["error"]["data"]["code"] == "aip_chain_invalid"


def test_draft01_metadata_token_and_errors(agent_url: str) -> None:
    token = issue_token(PRINCIPAL, subject=ORCH.identity, audience=AGENT.identity,
                        scopes=["tool:other"])
    message = _message()
    signer = CompactSigner(token, ORCH)
    from aip.bindings.a2a import message_invocation
    creds = signer.credentials(message_invocation("SendMessage", message["params"]["message"]),
                               AGENT.identity)
    message["params"]["message"]["metadata"].update(aip_token=creds.token, aip_proof=creds.proof)
    r = httpx.post(agent_url + "/a2a", json=message)
    assert r.status_code == 403
    assert r.json()["error"] == {"code": -32003, "message": r.json()["error"]["message"],
                                 "data": {"code": "aip_scope_insufficient"}}
    assert r.headers["www-authenticate"].startswith("AIP realm=")


def test_probe_a2a_passes_against_the_reference_agent(agent_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "issuer.json"
    key_file.write_text(dumps_key(PRINCIPAL))
    result = run_probe(ProbeConfig(profile="a2a", url=agent_url + "/a2a",
                                   issuer=load_identity(key_file)))
    assert [(r.case.flags[0], r.reason) for r in result.records if r.outcome != "passed"] == []


def test_the_e2e_example_runs_and_prints_the_timeline() -> None:
    done = subprocess.run([sys.executable, "-m", "examples.e2e"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "TASK_STATE_COMPLETED" in out
    task, tool = out.split("audit timeline of the A2A task", 1)[1].split(
        "audit timeline of the tool call", 1)
    # The A2A task, completed by the research agent and checked against the artifact.
    assert "SendMessage \"research\" at \"research agent\"" in task
    assert "result COMPLETED from research agent" in task
    assert "(matches the result given)" in task
    # The tool call: principal -> orchestrator -> (A2A) research agent -> (MCP) tool server.
    lines = [line.strip() for line in tool.splitlines()]
    assert "principal: principal" in lines
    assert any(line.endswith("grant                principal grants to orchestrator")
               or line.endswith("principal grants to orchestrator") for line in lines)
    assert "scopes: tool:research tool:search" in lines
    assert any("hop 1" in line and "orchestrator delegates to research agent" in line
               for line in lines)
    assert 'context: "find facts about llamas for the weekly report"' in lines
    assert any(line.startswith("scopes: tool:search;") for line in lines)
    assert any("invocation by research agent" in line for line in lines)
    assert 'tools/call "search" at "tool server"' in lines
    assert any("result COMPLETED from tool server" in line for line in lines)
    assert "usage: tokens 812, cost $0.0042" in tool and "(within budget)" in tool
    assert "executor verification: verified" in lines


# --- streamed tasks (AIP-A2A-044..049) ---------------------------------------------------------
#
# A small streaming agent on the real a2a-sdk (DefaultRequestHandler, InMemoryTaskStore), its
# executor wrapped in AIPAgentExecutor; what it does is chosen by the message's text.

class _StreamExecutor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        what = context.message.parts[0].text
        task = new_task_from_user_message(context.message)
        if what == "whole":  # the task sent once, whole, in its final state
            task.artifacts.add(artifact_id="a0").parts.append(new_text_part("first"))
            task.artifacts.add(artifact_id="a1", name="whole").parts.append(
                new_text_part("all at once"))
            task.status.state = TaskState.TASK_STATE_COMPLETED
            await event_queue.enqueue_event(task)
            return
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        if what == "chunks":  # one artifact in three chunks, then a second, chunked, last one
            await updater.add_artifact([new_text_part("draft")], artifact_id="a0", name="draft")
            await updater.add_artifact([new_text_part("llamas ")], artifact_id="a1",
                                       name="answer", metadata={"lang": "en"})
            await updater.add_artifact([new_text_part("hum and ")], artifact_id="a1", append=True)
            await updater.add_artifact([new_text_part("spit")], artifact_id="a1", append=True,
                                       last_chunk=True, metadata={"chunks": 3})
            report_completion(tokens_used=42, cost_usd="0.0007")
            await updater.complete()
        elif what == "fail":
            await updater.add_artifact([new_text_part("partial notes")], artifact_id="a1",
                                       last_chunk=True)
            await updater.failed()
        elif what == "none":
            await updater.complete()
        else:
            await updater.add_artifact([new_text_part(f"answer to {what}")], artifact_id="a1",
                                       last_chunk=True)
            await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


class _ChunkSigner(AgentExecutor):
    """A broken agent: it signs its record over the last chunk it streams, not over the
    artifact the chunks assemble into (AIP-A2A-046)."""

    def __init__(self, verifier: BindingVerifier) -> None:
        self.verifier = verifier

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        call = verified_call(context)
        assert call is not None and context.message is not None
        task = new_task_from_user_message(context.message)
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.add_artifact([new_text_part("llamas ")], artifact_id="a1")
        record = self.verifier.complete(call, status="completed", result_hash=result_digest_a2a(
            {"artifactId": "a1", "parts": [{"text": "hum"}]}))
        await updater.add_artifact([new_text_part("hum")], artifact_id="a1", append=True,
                                   last_chunk=True, metadata={"aip_completion": record})
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


class _ForgetfulStore(InMemoryTaskStore):
    """A broken task store: GetTask returns the task without its completion record
    (AIP-A2A-048)."""

    async def get(self, task_id: str, context: Any) -> Task | None:
        task = await super().get(task_id, context)
        if task is not None and task.status.state == TaskState.TASK_STATE_COMPLETED:
            task = copy.deepcopy(task)
            for artifact in task.artifacts:
                if "aip_completion" in artifact.metadata:
                    del artifact.metadata["aip_completion"]
        return task


def _stream_agent(url: str, *, signing: bool, broken: str = "") -> Any:
    check = BindingVerifier(Resolver(TrustStore(trusted_issuers=[PRINCIPAL.identity])),
                            audience=STREAMER.identity,
                            signing_key=STREAMER if signing else None,
                            replay_cache=MemoryReplayCache(trusted_since=0))
    card = with_aip_extension(AgentCard(
        name="streamer", description="streams answers", version="1.0",
        supported_interfaces=[AgentInterface(url=url + "/a2a", protocol_binding="JSONRPC",
                                             protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"], default_output_modes=["text/plain"],
        skills=[AgentSkill(id="answer", name="answer", description="answer", tags=["a"])]),
        check)
    executor: AgentExecutor = AIPAgentExecutor(_StreamExecutor(), check)
    if broken == "chunk-signed":
        executor = _ChunkSigner(check)
    store = _ForgetfulStore() if broken == "forgetful-store" else InMemoryTaskStore()
    handler = DefaultRequestHandler(agent_executor=executor, task_store=store, agent_card=card)
    app = Starlette(routes=[
        *agent_card_routes(card, aip_identity={"id": STREAMER.identity}),
        *create_jsonrpc_routes(handler, "/a2a", context_builder=AIPCallContextBuilder())])
    return AIPAgentGuard(app, check, skills=["answer"])


STREAMER = generate_key()
RESOLVER = Resolver(TrustStore(trusted_issuers=[PRINCIPAL.identity]))


@pytest.fixture(scope="module")
def stream_urls() -> Iterator[tuple[str, str]]:
    signing, plain = free_port(), free_port()
    with LoopbackServer(_stream_agent(f"http://127.0.0.1:{signing}", signing=True),
                        port=signing) as with_key, \
            LoopbackServer(_stream_agent(f"http://127.0.0.1:{plain}", signing=False),
                           port=plain) as without_key:
        yield with_key, without_key


def _auth(mode: str) -> AIPA2AAuth:
    if mode == "compact":
        token = issue_token(PRINCIPAL, subject=ORCH.identity, audience=STREAMER.identity,
                            scopes=["tool:answer"])
        return AIPA2AAuth(CompactSigner(token, ORCH), STREAMER.identity)
    chain = chain_mint(PRINCIPAL, holder=ORCH.identity, scopes=["tool:answer"],
                       expires=int(time.time()) + 600)
    return AIPA2AAuth(ChainedSigner(chain, ORCH, RESOLVER), STREAMER.identity)


def _stream(url: str, auth: AIPA2AAuth, text: str) -> list[dict[str, Any]]:
    """The results of a SendStreamingMessage, as received over SSE, in order."""
    request = _message(text=text)
    request["method"] = "SendStreamingMessage"
    request["params"]["message"]["metadata"] = {"aip_skill": "answer"}
    events = []
    with httpx.Client(auth=auth, timeout=30) as client, \
            client.stream("POST", url + "/a2a", json=request,
                          headers={"A2A-Version": "1.0"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                assert "result" in event, event
                events.append(event["result"])
    return events


def _get_task(url: str, task_id: str) -> dict[str, Any]:
    r = httpx.post(url + "/a2a", json={"jsonrpc": "2.0", "id": 2, "method": "GetTask",
                                       "params": {"id": task_id}},
                   headers={"A2A-Version": "1.0"})
    assert r.status_code == 200, r.text
    task: dict[str, Any] = r.json()["result"]
    return task


def _task_id(events: list[dict[str, Any]]) -> str:
    return str(next(e["task"]["id"] for e in events if "task" in e))


def _records(events: list[dict[str, Any]]) -> list[Any]:
    return [e["artifactUpdate"]["artifact"]["metadata"]["aip_completion"] for e in events
            if "aip_completion" in e.get("artifactUpdate", {}).get("artifact", {})
            .get("metadata", {})]


@pytest.mark.parametrize("mode", ["compact", "chained"])
def test_a_streamed_task_carries_a_record_that_verifies(stream_urls: tuple[str, str],
                                                        mode: str) -> None:
    # AIP-A2A-044, AIP-A2A-045, AIP-A2A-047, AIP-A2A-049
    auth = _auth(mode)
    events = _stream(stream_urls[0], auth, "llamas?")
    records = _records(events)
    assert len(records) == 1 and set(records[0]) == {"receipt" if mode == "compact" else "token"}
    # The record rides on the task's last artifact-update event, before the final status.
    kinds = [next(iter(e)) for e in events]
    assert kinds[-2:] == ["artifactUpdate", "statusUpdate"]
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert events[-2]["artifactUpdate"]["append"] is True
    audit = auth.verify_stream(events, resolver=RESOLVER)
    assert audit.mode == mode and audit.result_checked
    assert audit.completion is not None and audit.completion["status"] == "completed"
    assert audit.completion["executor"] == STREAMER.identity
    assert audit.invocation["operation"] == "SendStreamingMessage"
    [artifact] = assemble_artifacts(events)
    assert artifact["parts"] == [{"text": "answer to llamas?"}]


def test_a_chunked_artifact_is_completed_as_assembled(stream_urls: tuple[str, str]) -> None:
    # AIP-A2A-045, AIP-A2A-046
    auth = _auth("compact")
    events = _stream(stream_urls[0], auth, "chunks")
    draft, answer = assemble_artifacts(events)
    assert "aip_completion" not in draft.get("metadata", {})  # only the last artifact
    assert answer["parts"] == [{"text": "llamas "}, {"text": "hum and "}, {"text": "spit"}]
    assert answer["name"] == "answer"
    assert {k: v for k, v in answer["metadata"].items() if k != "aip_completion"} == \
        {"lang": "en", "chunks": 3}
    audit = auth.verify_stream(events, resolver=RESOLVER)
    assert audit.completion is not None
    assert audit.completion["tokens_used"] == 42 and audit.completion["cost_usd"] == "0.0007"
    assert audit.completion["result_hash"] == result_digest_a2a(answer)
    # Checked against one chunk alone (what a client that did not assemble holds), it fails.
    sent = auth.sent.last
    assert sent is not None
    chunk = next(e["artifactUpdate"]["artifact"] for e in events
                 if e.get("artifactUpdate", {}).get("lastChunk")
                 and e["artifactUpdate"]["artifact"].get("parts"))
    with pytest.raises(AIPError) as err:
        verify_artifact({**chunk, "metadata": answer["metadata"]}, sent, resolver=RESOLVER)
    assert err.value.code == "aip_completion_invalid"


def test_a_failed_streamed_task_has_a_failed_record(stream_urls: tuple[str, str]) -> None:
    # AIP-A2A-047
    auth = _auth("chained")
    events = _stream(stream_urls[0], auth, "fail")
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_FAILED"
    audit = auth.verify_stream(events, resolver=RESOLVER)
    assert audit.completion is not None and audit.completion["status"] == "failed"


@pytest.mark.parametrize("change", ["part", "chunk", "drop"])
def test_a_tampered_streamed_artifact_is_refused(stream_urls: tuple[str, str],
                                                 change: str) -> None:
    # AIP-A2A-049: the record no longer matches the artifact as assembled.
    auth = _auth("compact")
    events = _stream(stream_urls[0], auth, "chunks")
    updates = [i for i, e in enumerate(events) if e.get("artifactUpdate", {})
               .get("artifact", {}).get("parts")]
    i = updates[-2]  # the middle chunk of the answer
    if change == "part":
        events[i]["artifactUpdate"]["artifact"]["parts"] = [{"text": "purr and "}]
    elif change == "chunk":  # a chunk injected by someone on the way
        events.insert(i + 1, {"artifactUpdate": {**events[i]["artifactUpdate"]}})
    else:
        del events[i]
    with pytest.raises(AIPError) as err:
        auth.verify_stream(events, resolver=RESOLVER)
    assert err.value.code == "aip_completion_invalid"


def test_get_task_returns_the_record_that_was_streamed(stream_urls: tuple[str, str]) -> None:
    # AIP-A2A-048
    auth = _auth("chained")
    events = _stream(stream_urls[0], auth, "chunks")
    streamed = assemble_artifacts(events)
    task = _get_task(stream_urls[0], _task_id(events))
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    assert task["artifacts"] == streamed
    assert task["artifacts"][-1]["metadata"]["aip_completion"] == _records(events)[0]
    assert auth.verify_artifact(task["artifacts"][-1], resolver=RESOLVER).result_checked


def test_get_task_returns_the_record_of_a_send_message(stream_urls: tuple[str, str]) -> None:
    # AIP-A2A-042, AIP-A2A-048 (the answer and the stored task carry one record)
    auth = _auth("compact")
    request = _message(text="hello")
    request["params"]["message"]["metadata"] = {"aip_skill": "answer"}
    with httpx.Client(auth=auth, timeout=30) as client:
        r = client.post(stream_urls[0] + "/a2a", json=request, headers={"A2A-Version": "1.0"})
    answered = r.json()["result"]["task"]
    stored = _get_task(stream_urls[0], answered["id"])
    assert stored["artifacts"] == answered["artifacts"]
    record = auth.verify_artifact(stored["artifacts"][-1], resolver=RESOLVER)
    assert record.completion is not None and record.invocation["operation"] == "SendMessage"


def test_a_task_without_an_artifact_carries_no_record(stream_urls: tuple[str, str]) -> None:
    # AIP-A2A-047
    auth = _auth("compact")
    events = _stream(stream_urls[0], auth, "none")
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert "aip_completion" not in json.dumps(events)
    with pytest.raises(AIPError) as err:
        auth.verify_stream(events, resolver=RESOLVER)
    assert err.value.code == "aip_completion_invalid"
    sent = auth.sent.last
    assert sent is not None
    assert verify_stream(events, sent, resolver=RESOLVER, require=False) is None
    assert "aip_completion" not in json.dumps(_get_task(stream_urls[0], _task_id(events)))


def test_no_signing_key_no_record(stream_urls: tuple[str, str]) -> None:
    # AIP-A2A-044 is a SHOULD for an agent holding its key; one without sends no record.
    auth = _auth("compact")
    events = _stream(stream_urls[1], auth, "chunks")
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert "aip_completion" not in json.dumps(events)
    assert "aip_completion" not in json.dumps(_get_task(stream_urls[1], _task_id(events)))
    with pytest.raises(AIPError) as err:
        auth.verify_stream(events, resolver=RESOLVER)
    assert err.value.code == "aip_completion_invalid"


def test_the_a2a_sdk_client_streams_a_task_whose_record_verifies(
        stream_urls: tuple[str, str]) -> None:
    # The real a2a-sdk client, its httpx client carrying AIPA2AAuth: the StreamResponse objects
    # it yields, in their JSON form, assemble into the artifact the record completes.
    auth = _auth("compact")
    card = AgentCard()
    json_format.ParseDict(
        {k: v for k, v in httpx.get(stream_urls[0] + "/.well-known/agent-card.json").json()
         .items() if k != "aip_identity"}, card, ignore_unknown_fields=True)

    async def stream() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(auth=auth, timeout=30) as http:
            client = ClientFactory(ClientConfig(httpx_client=http, streaming=True)).create(card)
            message = Message(message_id=str(uuid.uuid4()), role=Role.ROLE_USER,
                              parts=[new_text_part("chunks")])
            message.metadata.update({"aip_skill": "answer"})
            return [json_format.MessageToDict(e) async for e in
                    client.send_message(SendMessageRequest(message=message))]

    events = asyncio.run(stream())
    assert _records(events)
    audit = auth.verify_stream(events, resolver=RESOLVER)
    assert audit.completion is not None and audit.completion["status"] == "completed"
    assert audit.invocation["operation"] == "SendStreamingMessage"


@pytest.mark.parametrize(("events", "why"), [
    ([[]], "not a JSON object"),
    ([{"jsonrpc": "2.0", "id": 1, "error": {"code": -32603}}], "JSON-RPC error"),
    ([{"artifactUpdate": {"artifact": {"artifactId": "x", "parts": []}, "append": True}}],
     "never sent"),
    ([{"artifactUpdate": {"artifact": {"parts": []}}}], "artifactId"),
    ([{"artifactUpdate": {"artifact": {"artifactId": "x"}, "append": "yes"}}], "append"),
    ([{"artifactUpdate": {"artifact": {"artifactId": "x", "parts": {}}}}], "parts"),
    ([{"task": {"artifacts": {}}}], "artifacts"),
])
def test_assembling_a_malformed_stream_is_an_input_error(events: list[Any], why: str) -> None:
    with pytest.raises(AIPError) as err:
        assemble_artifacts(events)
    assert err.value.code == "aip_input_invalid" and why in str(err.value)


@pytest.mark.parametrize(("broken", "signing", "why"), [
    ("", False, "carries no completion record"),
    ("chunk-signed", True, "result_hash"),
    ("forgetful-store", True, "GetTask returns another completion record"),
])
def test_the_probe_catches_a_broken_streaming_agent(tmp_path: Path, broken: str, signing: bool,
                                                    why: str) -> None:
    # The probe's stream checks (AIP-A2A-044..048), each shown to fail on a broken agent.
    key_file = tmp_path / "issuer.json"
    key_file.write_text(dumps_key(PRINCIPAL))
    port = free_port()
    with LoopbackServer(_stream_agent(f"http://127.0.0.1:{port}", signing=signing,
                                      broken=broken), port=port) as url:
        result = run_probe(ProbeConfig(profile="a2a", url=url + "/a2a",
                                       issuer=load_identity(key_file)))
    outcomes = {r.case.flags[0]: (r.outcome, r.reason) for r in result.records}
    for name in ("completion-stream-compact", "completion-stream-chained"):
        assert outcomes[name][0] == "failed" and why in outcomes[name][1], outcomes[name]
    assert outcomes["valid-compact"] == ("passed", "")


def test_the_spec_example_of_a_stream_assembles_as_stated() -> None:
    # spec/bindings.md, "Streamed tasks": the example's assembled artifact, the bytes it says
    # are hashed, and the GetTask artifact that follows it.
    text = (ROOT / "spec" / "bindings.md").read_text()
    section = text.split("#### Streamed tasks", 1)[1]
    blocks = section.split("```json\n")
    stream = [json.loads(line) for line in blocks[1].split("```", 1)[0].splitlines()]
    stored = json.loads(blocks[2].split("```", 1)[0])
    [artifact] = assemble_artifacts(stream)
    assert artifact == stored
    stated = section.split("is the digest of\n`", 1)[1].split("`", 1)[0]
    assert canonical_json({k: v for k, v in artifact.items() if k != "metadata"}) == stated.encode()
    assert result_digest_a2a(artifact) == "sha256:" + hashlib.sha256(stated.encode()).hexdigest()


def test_a_task_sent_whole_in_its_final_state_carries_the_record(
        stream_urls: tuple[str, str]) -> None:
    # AIP-A2A-045 (a stream that ends with a task event), AIP-A2A-048
    auth = _auth("chained")
    events = _stream(stream_urls[0], auth, "whole")
    assert events[-1]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    first, last = assemble_artifacts(events)
    assert "aip_completion" in last["metadata"] and "metadata" not in first
    audit = auth.verify_stream(events, resolver=RESOLVER)
    assert audit.completion is not None and audit.completion["status"] == "completed"
    assert _get_task(stream_urls[0], _task_id(events))["artifacts"] == [first, last]
