"""``python -m examples.e2e`` (or ``make e2e``): the whole path on loopback, every hop verified.

1. a principal grants an orchestrator agent a chained token (scopes research + search);
2. the orchestrator sends a message to the research agent over A2A, with its own invocation
   block for the ``research`` skill and a narrower delegation (search only) to the agent;
3. the research agent calls the ``search`` tool of an MCP server with that delegation and its
   own invocation block;
4. the tool server verifies the whole chain against the call, runs the tool and returns a
   completion record; the research agent completes its task; the timeline is printed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Any

import httpx

from aip import Resolver, TrustStore, generate_key
from aip._chained import chain_mint
from aip.bindings import ChainedSigner
from aip.bindings._serve import LoopbackServer, free_port
from aip.bindings.a2a import AIPA2AAuth, delegate_to

from ._system import Audit, research_agent, tool_server


async def orchestrate(agent_url: str, token: str, orchestrator: Any, agent_id: str,
                      resolver: Resolver, audit: Audit) -> dict[str, Any]:
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
    return body


def main() -> int:
    audit = Audit()
    principal, orchestrator = generate_key(), generate_key()
    agent, tools = generate_key(), generate_key()
    resolver = Resolver(TrustStore(trusted_issuers=[principal.identity]))
    now = int(time.time())
    token = chain_mint(principal, holder=orchestrator.identity,
                       scopes=["tool:research", "tool:search"], expires=now + 600, max_depth=3)
    audit.add("principal", "granted orchestrator", scopes=["tool:research", "tool:search"])
    agent_port = free_port()
    with LoopbackServer(tool_server(principal.identity, tools, audit)) as tool_url, \
            LoopbackServer(research_agent(principal.identity, agent,
                                          f"http://127.0.0.1:{agent_port}", tool_url + "/mcp",
                                          tools.identity, audit), port=agent_port) as agent_url:
        body = asyncio.run(orchestrate(agent_url, token, orchestrator, agent.identity,
                                       resolver, audit))
    task = body["result"]["task"]
    artifact = task["artifacts"][0]
    names = {principal.identity: "principal", orchestrator.identity: "orchestrator",
             agent.identity: "research agent", tools.identity: "tool server"}
    print("AIP end-to-end example: principal -> orchestrator -(A2A)-> research agent "
          "-(MCP)-> tool server\n")
    print(f"task {task['id']}: {task['status']['state']}")
    print("result:", artifact["parts"][0]["text"])
    print("\naudit timeline:")
    start = audit.events[0]["t"]
    for event in audit.events:
        details = {k: v for k, v in event.items() if k not in ("t", "actor", "what")}
        for key in ("caller",):
            if key in details:
                details[key] = names.get(details[key], details[key])
        if "path" in details:
            details["path"] = " -> ".join(names.get(p, p) for p in details["path"])
        shown = ", ".join(f"{k}={v}" for k, v in details.items())
        print(f"  +{(event['t'] - start) * 1000:7.1f} ms  {event['actor']:<15} "
              f"{event['what']}{': ' + shown if shown else ''}")
    print("\ncompletion records (artifact metadata):")
    print(json.dumps(artifact.get("metadata", {}), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
