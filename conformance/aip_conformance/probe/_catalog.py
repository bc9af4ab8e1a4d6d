"""The live probe checks as data: name, mode, expected outcome and the requirements cited.

Pure data (no imports beyond the standard library) so that ``aip-conformance requirements``
can count the checks without loading any probe machinery. Check ids are
``probe.<profile>.<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROBE_CASES", "PROBE_CHECKS", "PROFILE_REQUIREMENTS", "ProbeCase"]


@dataclass(frozen=True)
class ProbeCase:
    name: str
    mode: str  # "compact" | "chained" | "none"
    expect: str | None  # an error code, or None for a call that must succeed
    description: str
    requirements: tuple[str, ...]
    binding: tuple[str, ...] = ()  # binding-level requirement names, see PROFILE_REQUIREMENTS
    profiles: tuple[str, ...] = ("http", "mcp", "a2a")  # the bindings the case applies to


# Requirement ids of each binding, by role; a case's ``binding`` names roles.
PROFILE_REQUIREMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "http": {
        "carry": ("AIP-HTTP-001", "AIP-HTTP-002", "AIP-HTTP-005"),
        "alt-header": ("AIP-HTTP-002",),
        "conflict": ("AIP-HTTP-003",),
        "missing": ("AIP-HTTP-006",),
        "errors": ("AIP-HTTP-007", "AIP-HTTP-008", "AIP-HTTP-010", "AIP-HTTP-058"),
        "bind": ("AIP-HTTP-020", "AIP-HTTP-021", "AIP-HTTP-022"),
        "complete": ("AIP-HTTP-050", "AIP-HTTP-051", "AIP-HTTP-052", "AIP-HTTP-053",
                     "AIP-HTTP-054", "AIP-HTTP-057", "AIP-CMP-030", "AIP-CMP-033"),
    },
    "mcp": {
        "carry": ("AIP-MCP-001",),
        "alt-header": ("AIP-MCP-001",),
        "conflict": ("AIP-MCP-001",),
        "missing": ("AIP-MCP-011",),
        "errors": ("AIP-MCP-030", "AIP-MCP-031", "AIP-MCP-011"),
        "bind": ("AIP-MCP-010",),
        "complete": ("AIP-MCP-040", "AIP-MCP-041", "AIP-MCP-042", "AIP-MCP-043", "AIP-CMP-030",
                     "AIP-CMP-031"),
    },
    "a2a": {
        "carry": ("AIP-A2A-010",),
        "alt-header": ("AIP-A2A-010",),
        "conflict": ("AIP-A2A-010",),
        "missing": ("AIP-A2A-012",),
        "errors": ("AIP-A2A-030",),
        "bind": ("AIP-A2A-011",),
        "complete": ("AIP-A2A-040", "AIP-A2A-041", "AIP-A2A-042", "AIP-CMP-030",
                     "AIP-CMP-032"),
        "stream": ("AIP-A2A-040", "AIP-A2A-044", "AIP-A2A-045", "AIP-A2A-046", "AIP-A2A-047",
                   "AIP-A2A-048", "AIP-CMP-030", "AIP-CMP-032"),
    },
}

_E = ("AIP-ERR-001", "AIP-ERR-005", "AIP-ERR-006")
_J = ("AIP-ERR-007", "AIP-ERR-008")

PROBE_CASES: tuple[ProbeCase, ...] = (
    ProbeCase("no-token", "none", "aip_token_missing",
              "a call without any token is refused", _E, ("missing", "errors")),
    ProbeCase("valid-compact", "compact", None,
              "a call with a valid compact token and proof succeeds",
              ("AIP-TOK-022", "AIP-PRF-009"), ("carry", "bind")),
    ProbeCase("token-in-x-aip-token", "compact", None,
              "the draft's X-AIP-Token header is accepted", (), ("alt-header",)),
    ProbeCase("conflicting-headers", "compact", "aip_token_malformed",
              "Authorization and X-AIP-Token carrying different tokens are refused", (),
              ("conflict", "errors")),
    # Token by reference: a URL no server can list (.invalid, RFC 6761), so that the answer
    # is the same whether or not the server fetches references.
    ProbeCase("token-ref-with-inline-token", "compact", None,
              "X-AIP-Token-Ref next to a valid inline token is ignored, not fetched",
              ("AIP-HTTP-030",), ("carry",)),
    ProbeCase("token-ref-unfetchable", "none", "aip_token_missing",
              "a request carrying only a reference that cannot be fetched is refused with "
              "aip_token_missing", ("AIP-HTTP-031", "AIP-HTTP-032"), ("errors",)),
    ProbeCase("missing-proof", "compact", "aip_proof_missing",
              "a compact token without an invocation proof is refused", ("AIP-PRF-011",),
              ("errors",)),
    ProbeCase("wrong-audience", "compact", "aip_audience_mismatch",
              "a token addressed to another audience is refused (no passthrough)",
              ("AIP-TOK-026",), ("errors",)),
    ProbeCase("scope-other-tool", "compact", "aip_scope_insufficient",
              "a token whose scope does not cover the tool called is refused",
              ("AIP-TOK-027",), ("errors", "bind")),
    ProbeCase("proof-other-tool", "compact", "aip_invocation_mismatch",
              "a proof bound to another tool than the one called is refused",
              ("AIP-PRF-009",), ("errors", "bind")),
    ProbeCase("tampered-arguments", "compact", "aip_invocation_mismatch",
              "arguments changed after the proof was made are refused",
              ("AIP-PRF-005", "AIP-PRF-009"), ("errors", "bind")),
    ProbeCase("replayed-proof", "compact", "aip_replay_detected",
              "the same proof presented twice is refused the second time",
              ("AIP-RPL-001", "AIP-PRF-013"), ("errors",)),
    ProbeCase("expired-token", "compact", "aip_token_expired",
              "an expired token is refused", ("AIP-TOK-023",), ("errors",)),
    ProbeCase("stale-proof", "compact", "aip_proof_invalid",
              "a proof older than its maximum age is refused", ("AIP-PRF-010",), ("errors",)),
    ProbeCase("alg-none", "compact", "aip_algorithm_unsupported",
              "an unsigned token (alg none) is refused", ("AIP-TOK-004",), ("errors",)),
    ProbeCase("wrong-key", "compact", "aip_signature_invalid",
              "a token naming a trusted issuer but signed by another key is refused",
              ("AIP-TOK-021", "AIP-TOK-022"), ("errors",)),
    ProbeCase("forged-claim", "compact", "aip_signature_invalid",
              "a token whose scope was widened after signing is refused", ("AIP-TOK-022",),
              ("errors",)),
    ProbeCase("untrusted-issuer", "compact", "aip_identity_unresolvable",
              "a token from an issuer the server does not trust is refused", ("AIP-TOK-020",),
              ("errors",)),
    ProbeCase("proof-wrong-key", "compact", "aip_signature_invalid",
              "a proof claiming the holder but signed by another key is refused",
              ("AIP-PRF-007",), ("errors",)),
    ProbeCase("valid-chained", "chained", None,
              "a call with a valid chained token of depth 2 succeeds",
              ("AIP-CHN-013", "AIP-CHN-040", "AIP-CHN-050"), ("carry", "bind")),
    ProbeCase("chained-no-invocation", "chained", "aip_proof_missing",
              "a chain without an invocation block is refused", ("AIP-CHN-048",), ("errors",)),
    ProbeCase("chained-wrong-audience", "chained", "aip_audience_mismatch",
              "an invocation block for another audience is refused", ("AIP-CHN-042",),
              ("errors",)),
    ProbeCase("chained-other-tool", "chained", "aip_invocation_mismatch",
              "an invocation block for another tool is refused", ("AIP-CHN-043",),
              ("errors", "bind")),
    ProbeCase("chained-tampered-arguments", "chained", "aip_invocation_mismatch",
              "arguments changed after the invocation block was made are refused",
              ("AIP-CHN-044",), ("errors", "bind")),
    ProbeCase("chained-replay", "chained", "aip_replay_detected",
              "the same invocation block presented twice is refused the second time",
              ("AIP-CHN-047",), ("errors",)),
    ProbeCase("chained-expired", "chained", "aip_token_expired",
              "an expired chain is refused", ("AIP-CHN-034",), ("errors",)),
    ProbeCase("chained-widened", "chained", "aip_attenuation_violation",
              "a delegation that widens the scope is refused", ("AIP-CHN-030",), ("errors",)),
    ProbeCase("chained-forged-hop", "chained", "aip_signature_invalid",
              "a delegation block not signed by its delegator is refused", ("AIP-CHN-025",),
              ("errors",)),
    ProbeCase("chained-plain-append", "chained", "aip_chain_invalid",
              "a delegation appended as a plain (draft-01) block is refused", ("AIP-CHN-024",),
              ("errors",)),
    ProbeCase("chained-depth-exceeded", "chained", "aip_depth_exceeded",
              "a chain deeper than its max_depth is refused", ("AIP-CHN-035",), ("errors",)),
    # Completion records (spec/completion.md): what comes back with a valid call.
    ProbeCase("completion-compact", "compact", None,
              "a valid compact call's result carries the executor's completion receipt, signed "
              "by the audience's key and bound to the token, the proof and the result",
              ("AIP-CMP-002", "AIP-CMP-040", "AIP-CMP-042", "AIP-CMP-043", "AIP-CMP-046"),
              ("carry", "complete"), ("http", "mcp", "a2a")),
    ProbeCase("completion-chained", "chained", None,
              "a valid chained call's result carries the chain as sent, completed by a block "
              "signed by the audience's key and bound to the invocation and the result",
              ("AIP-CMP-001", "AIP-CMP-002", "AIP-CMP-003", "AIP-CMP-007", "AIP-CMP-017",
               "AIP-AUD-001"), ("carry", "complete"), ("http", "mcp", "a2a")),
    # A2A streams (spec/bindings.md, "Streamed tasks"): the same checks on a task sent with
    # SendStreamingMessage, over the artifact assembled from its chunks, and GetTask after it.
    ProbeCase("completion-stream-compact", "compact", None,
              "a valid compact SendStreamingMessage's stream carries the receipt in the last "
              "artifact update, over the artifact as assembled, and GetTask returns it unchanged",
              ("AIP-CMP-002", "AIP-CMP-042", "AIP-CMP-043"), ("carry", "stream"), ("a2a",)),
    ProbeCase("completion-stream-chained", "chained", None,
              "a valid chained SendStreamingMessage's stream carries the completed chain in the "
              "last artifact update, over the artifact as assembled, and GetTask returns it",
              ("AIP-CMP-001", "AIP-CMP-002", "AIP-CMP-003", "AIP-CMP-007"), ("carry", "stream"),
              ("a2a",)),
)


def _check_requirements(profile: str, case: ProbeCase) -> list[str]:
    reqs = list(case.requirements)
    if case.expect is not None and profile in ("mcp", "a2a"):
        reqs += _J
    for role in case.binding:
        reqs += PROFILE_REQUIREMENTS[profile][role]
    return sorted(set(reqs))


PROBE_CHECKS: dict[str, list[str]] = {
    f"probe.{profile}.{case.name}": _check_requirements(profile, case)
    for profile in ("http", "mcp", "a2a")
    for case in PROBE_CASES
    if profile in case.profiles
}
