"""A verified audit record as a timeline people can read (``aip audit show``).

Every string that came from a token is shown JSON-quoted, so control characters, bidi
overrides and newlines in a context or a tool name never reach the terminal raw.
"""

from __future__ import annotations

import json
from typing import Any

from ._audit import AuditRecord
from ._time import format_time

__all__ = ["render_timeline"]


def _q(text: object) -> str:
    return json.dumps(text, ensure_ascii=True)


def _t(seconds: object) -> str:
    return format_time(seconds) if isinstance(seconds, int) else "-"


def _key(identity: str, kid: object) -> str:
    return "" if kid in (None, identity) else f" (key {kid})"


def _cents(value: int | None) -> str:
    return "none" if value is None else f"${value / 100:.2f}"


def render_timeline(record: AuditRecord) -> str:
    """The record as numbered timeline entries: principal and grant, every hop, the
    invocation, the result with usage and cost, and the attestations."""
    lines = [f"audit record ({record.mode} mode) — verified"]
    step = 0

    def entry(when: str, title: str, *details: str) -> None:
        nonlocal step
        step += 1
        lines.append(f"{step:>2}. {when:<20} {title}")
        lines.extend(f"    {'':<20} {d}" for d in details)

    lines.append(f"principal: {record.principal or '(none named)'}")
    entry("grant", f"{record.issuer}{_key(record.issuer, record.kid)} grants to {record.holder}",
          f"scopes: {' '.join(record.scopes)}",
          f"expires: {_t(record.expires)}; budget ceiling: {_cents(record.budget_ceiling)}")
    for hop in record.hops:
        entry(f"hop {hop['block']}", f"{hop['delegator']}{_key(hop['delegator'], hop['kid'])} "
              f"delegates to {hop['delegate']}",
              f"context: {_q(hop['context'])}",
              f"scopes: {' '.join(hop['scopes'])}; expires {_t(hop['expires'])}"
              + (f"; budget ceiling {_cents(hop['budget_ceiling'])}"
                 if hop.get("budget_ceiling") is not None else ""))
    call: dict[str, Any] = record.invocation
    entry(_t(call["iat"]), f"invocation by {call['invoker']}{_key(call['invoker'], call['kid'])}",
          f"{call['operation']} {_q(call['tool'])} at {_q(call['audience'])}",
          f"arguments: {call['args_hash']}; jti {_q(call['jti'])}")
    done = record.completion
    if done is None:
        entry("-", "no completion record")
    else:
        usage = []
        if done.get("tokens_used") is not None:
            usage.append(f"tokens {done['tokens_used']}")
        if done.get("cost_usd") is not None:
            usage.append(f"cost ${done['cost_usd']}")
        if done.get("duration_ms") is not None:
            usage.append(f"duration {done['duration_ms']} ms")
        budget = {None: "", True: " (within budget)", False: " (OVER BUDGET)"}[
            record.within_budget]
        details = [f"result: {done['result_hash']}"
                   + (" (matches the result given)" if record.result_checked else ""),
                   f"executor verification: {done['verification_status']}",
                   ("usage: " + ", ".join(usage) if usage else "usage: not reported") + budget]
        if done.get("ldp_provenance_id"):
            details.append(f"provenance record: {_q(done['ldp_provenance_id'])}")
        details.append(f"aip_token_hash: {done['aip_token_hash']}")
        entry(_t(done["completed_at"]), f"result {done['status'].upper()} from "
              f"{done['executor']}{_key(done['executor'], done['kid'])}", *details)
    for att in record.attestations:
        what = "countersigned" if att["kind"] == "countersignature" else "attested (third party)"
        entry(_t(att["attested_at"]), f"{what} by {att['attester']}"
              f"{_key(att['attester'], att['kid'])}: "
              f"{'VERIFIED' if att['verified'] else 'DISPUTED'}",
              *([f"note: {_q(att['note'])}"] if att["note"] else []))
    return "\n".join(lines)
