"""``python -m examples.e2e`` (or ``make e2e``): the whole path on loopback, every hop verified.

1. a principal grants an orchestrator agent a chained token (scopes research + search);
2. the orchestrator sends a message to the research agent over A2A, with its own invocation
   block for the ``research`` skill and a narrower delegation (search only) to the agent;
3. the research agent calls the ``search`` tool of an MCP server with that delegation and its
   own invocation block;
4. the tool server verifies the whole chain against the call, runs the tool and returns its
   signed completion record (the chain extended by a completion block, with the result digest
   and the cost); the research agent checks it and completes its A2A task, whose artifact
   carries the agent's own signed record and the tool's;
5. the orchestrator verifies both records (audit verification) and prints their timelines.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from typing import Any

import httpx

from aip import AuditRecord, Resolver, TrustStore, generate_key, render_timeline, verify_audit
from aip._chained import chain_mint
from aip.bindings import ChainedSigner
from aip.bindings._serve import LoopbackServer, free_port
from aip.bindings.a2a import AIPA2AAuth, delegate_to

from ._system import Audit, research_agent, tool_server


async def orchestrate(agent_url: str, token: str, orchestrator: Any, agent_id: str,
                      resolver: Resolver, audit: Audit) -> tuple[dict[str, Any], AIPA2AAuth]:
    now = int(time.time())
    delegation = delegate_to(token, orchestrator, delegate=agent_id, scopes=["tool:search"],
                             context="find facts about llamas for the weekly report",
                             resolver=resolver, now=now)
    audit.add("orchestrator", "delegated to research agent", scopes=["tool:search"])
    message = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": {
        "messageId": str(uuid.uuid4()), "role": "ROLE_USER",
        "parts": [{"text": "What do we know about llamas?"}],
        "metadata": {"aip_skill": "research", "aip_delegation": delegation}}}}
    auth = AIPA2AAuth(ChainedSigner(token, orchestrator, resolver), agent_id)
    async with httpx.AsyncClient(auth=auth, timeout=30) as client:
        audit.add("orchestrator", "sends A2A SendMessage (skill research)")
        response = await client.post(agent_url + "/a2a", json=message,
                                     headers={"A2A-Version": "1.0"})
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or "error" in body:
        raise RuntimeError(f"A2A call failed: HTTP {response.status_code} {body}")
    return body, auth


def named(text: str, names: dict[str, str]) -> str:
    """``text`` with every AIP identifier replaced by the party's name."""
    for identity, name in names.items():
        text = text.replace(identity, name)
    return text


def main() -> int:
    audit = Audit()
    principal, orchestrator = generate_key(), generate_key()
    agent, tools = generate_key(), generate_key()
    resolver = Resolver(TrustStore(trusted_issuers=[principal.identity]))
    now = int(time.time())
    token = chain_mint(principal, holder=orchestrator.identity,
                       scopes=["tool:research", "tool:search"], expires=now + 600, max_depth=3,
                       budget_ceiling=500, principal=principal.identity)
    audit.add("principal", "granted orchestrator", scopes=["tool:research", "tool:search"])
    agent_port = free_port()
    with LoopbackServer(tool_server(principal.identity, tools, audit)) as tool_url, \
            LoopbackServer(research_agent(principal.identity, agent,
                                          f"http://127.0.0.1:{agent_port}", tool_url + "/mcp",
                                          tools.identity, audit), port=agent_port) as agent_url:
        body, auth = asyncio.run(orchestrate(agent_url, token, orchestrator, agent.identity,
                                             resolver, audit))
    task = body["result"]["task"]
    artifact = task["artifacts"][0]
    # The orchestrator checks what came back: the research agent's record of the A2A task,
    # against the message it sent and the artifact it received; and the tool server's record
    # of the tool call (the chain the orchestrator started, completed by the tool server).
    task_record = auth.verify_artifact(artifact, resolver=resolver)
    tool_record: AuditRecord = verify_audit(artifact["metadata"]["aip_tool_completion"]["token"],
                                            resolver=resolver)
    names = {principal.identity: "principal", orchestrator.identity: "orchestrator",
             agent.identity: "research agent", tools.identity: "tool server"}
    print("AIP end-to-end example: principal -> orchestrator -(A2A)-> research agent "
          "-(MCP)-> tool server\n")
    print(f"task {task['id']}: {task['status']['state']}")
    print("result:", artifact["parts"][0]["text"])
    print("\nwho is who:")
    for identity, name in names.items():
        print(f"  {name:<15} {identity}")
    print("\naudit timeline of the A2A task (orchestrator -> research agent), verified:")
    print(named(render_timeline(task_record), names))
    print("\naudit timeline of the tool call (principal -> orchestrator -> research agent "
          "-> tool server), verified:")
    print(named(render_timeline(tool_record), names))
    print("(the research agent checked the tool's result against this record when it received "
          "it; the orchestrator holds only the digest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
