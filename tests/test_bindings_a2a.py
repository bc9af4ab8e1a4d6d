"""The A2A binding on the real `a2a-sdk`, and the end-to-end example (A2A forwarding by
delegation, then MCP), both on loopback."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aip import AIPError, Resolver, TrustStore, generate_key, verify_audit
from aip._chained import chain_mint
from aip._compact import issue_token
from aip._keys import dumps_key
from aip.bindings import ChainedSigner, CompactSigner
from aip.bindings._serve import LoopbackServer, free_port
from aip.bindings.a2a import EXTENSION_URI, AIPA2AAuth, delegate_to, verify_artifact
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
