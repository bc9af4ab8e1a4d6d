"""The reference MCP server over stdio: ``python stdio_server.py <issuer id> <server key file>
[hook]``; it signs completion records with the server key (or uses the test hook)."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
from mcp.server.stdio import stdio_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aip._keys import load_key
from aip.bindings.mcp import install
from weak_servers.servers import completion_hook, mcp_server, verifier_for


async def main() -> None:
    server = mcp_server()
    key = load_key(sys.argv[2])
    hook = completion_hook if sys.argv[3:] == ["hook"] else None
    install(server, verifier_for(sys.argv[1], key.identity, key), hook)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
