"""End-to-end example: principal -> orchestrator -(A2A)-> research agent -(MCP)-> tool server."""
