"""Load and faults against the reference MCP server (``python -m eval.load``); see
``spec/evaluation.md``."""

from ._load import RedisProcess, load, redis_outage, replay_race, resolution_faults, resolution_isolation

__all__ = ["RedisProcess", "load", "redis_outage", "replay_race", "resolution_faults", "resolution_isolation"]
