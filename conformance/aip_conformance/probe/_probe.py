"""Live probes: call an HTTP, MCP or A2A endpoint with crafted credentials and score what it
answers (status, error code, challenge), like ``run`` scores vector cases."""

from __future__ import annotations

import copy
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from .._errors import ConformanceError
from .._harness import Implementation
from .._runner import CaseRecord, Outcome, RunResult
from .._vectors import Case, repo_root
from ..checks_completion import check_completed_chain, check_receipt_of
from ..generators._common import b64url, jcs, public_raw
from . import _craft as craft
from ._catalog import PROBE_CASES, PROBE_CHECKS, ProbeCase

__all__ = ["A2A_EXTENSION_URI", "MCP_EXTENSION_ID", "ProbeConfig", "run_probe"]

MCP_EXTENSION_ID = "dev.aip/identity"
A2A_EXTENSION_URI = "https://aip.dev/ext/identity/v1"
MAX_RESPONSE_BYTES = 1024 * 1024
HTTP_COMPLETION_HEADER = "aip-completion"
MAX_COMPLETION_HEADER_BYTES = 24576  # AIP-HTTP-057
_HTTP_RECORD_VALUE = re.compile(r"[A-Za-z0-9_.-]+")
OTHER_AUDIENCE = "aip:web:probe.invalid/another-audience"
OTHER_TOOL = "aip-probe-other-tool"
# A reference no server can list or fetch (.invalid never resolves, RFC 6761).
UNFETCHABLE_REF = "https://token-ref.invalid/aip-probe"


@dataclass
class ProbeConfig:
    """What the operator tells the probe: the endpoint and the trust setup."""

    profile: str  # http | mcp | a2a
    url: str
    issuer: craft.Identity  # a key of an issuer the endpoint trusts
    audience: str | None = None  # the endpoint's identifier (discovered when absent)
    tool: str | None = None  # MCP tool, A2A skill, or HTTP route tool name
    arguments: Mapping[str, Any] = field(default_factory=dict)  # MCP tool arguments
    method: str = "POST"  # HTTP
    body: bytes = b"{}"  # HTTP body
    text: str = "hello from the AIP probe"  # A2A message text
    modes: Sequence[str] = ("compact", "chained")
    timeout: float = 10.0
    # HTTP: a valid call without an AIP-Completion header fails (AIP-HTTP-051 is a SHOULD, so
    # by default a server that sends no record passes and only records that are sent are checked)
    require_completion: bool = False


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: Any  # decoded JSON, or None
    raw: bytes = b""  # the body as received, content coding removed (HTTP)
    completion_headers: tuple[str, ...] = ()  # every AIP-Completion value (HTTP)
    events: tuple[Any, ...] = ()  # the results of a stream, in order (A2A streams)


class BadRecord(Exception):
    """A completion record the probe cannot even read (scored as a failure, not an error)."""


def _registry() -> dict[str, tuple[int, int]]:
    path = repo_root() / "spec" / "registry" / "errors.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {c["code"]: (int(c["http_status"]), int(c["jsonrpc_code"])) for c in data["codes"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConformanceError(f"cannot read the error registry {path}: {exc}") from None


# --- transports ---------------------------------------------------------------------------------

class Target(Protocol):
    profile: str
    audience: str
    tool: str
    record_optional: bool
    stream: bool  # the case being run streams its answer (A2A SendStreamingMessage)

    def operation(self) -> str: ...
    def arguments(self, tampered: bool) -> dict[str, Any]: ...
    def send(self, headers: Mapping[str, str], tampered: bool) -> Reply: ...
    def outcome(self, reply: Reply) -> tuple[bool, str | None, int | None]: ...
    def completion(self, reply: Reply) -> tuple[Any, str, str]: ...


def _read(response: httpx.Response) -> bytes:
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > MAX_RESPONSE_BYTES:
            raise ConformanceError("the response is larger than 1 MiB")
    return data


def _json_or_sse(data: bytes, content_type: str, want_id: Any) -> Any:
    if "text/event-stream" in content_type:
        messages = _sse_messages(data, want_id)
        return messages[0] if messages else None
    try:
        return json.loads(data)
    except ValueError:
        return None


class _Base:
    profile = ""
    record_optional = False  # whether a valid call may come back without a completion record
    stream = False

    def __init__(self, config: ProbeConfig, client: httpx.Client) -> None:
        self.config = config
        self.client = client
        self.audience = config.audience or ""
        self.tool = config.tool or ""

    def completion(self, reply: Reply) -> tuple[Any, str, str]:
        """The completion record a successful reply carries, the result digest it must name,
        and where it was looked for."""
        raise ConformanceError(f"{self.profile} replies carry no completion record")

    def _post(self, url: str, headers: Mapping[str, str], content: bytes,
              want_id: Any = None) -> Reply:
        with self.client.stream("POST", url, headers=dict(headers), content=content) as response:
            data = _read(response)
            ctype = response.headers.get("content-type", "")
            return Reply(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                         _json_or_sse(data, ctype, want_id))


class HttpTarget(_Base):
    profile = "http"

    def __init__(self, config: ProbeConfig, client: httpx.Client) -> None:
        super().__init__(config, client)
        parts = urlsplit(config.url)
        self.path = parts.path or "/"
        self.query = parts.query
        self.tool = config.tool or self.path.lstrip("/")
        self.record_optional = not config.require_completion
        if not self.audience:
            raise ConformanceError("probe http needs --audience (the server's AIP identifier)")

    def operation(self) -> str:
        return self.config.method.upper()

    def _body(self, tampered: bool) -> bytes:
        if not tampered:
            return self.config.body
        try:
            value = json.loads(self.config.body or b"{}")
        except ValueError:
            return self.config.body + b" "
        if isinstance(value, dict):
            value["aip_probe"] = "tampered"
            return json.dumps(value).encode()
        return self.config.body + b" "

    def arguments(self, tampered: bool) -> dict[str, Any]:
        body = self._body(tampered)
        return {"body": craft.token_digest_bytes(body), "query": self.query}

    def send(self, headers: Mapping[str, str], tampered: bool) -> Reply:
        body = self._body(False)  # what is sent never changes; the proof's binding does
        if tampered:  # the proof binds the original body; the request carries another one
            body = self._body(True)
        with self.client.stream(self.operation(), self.config.url,
                                headers={"content-type": "application/json", **headers},
                                content=body) as response:
            data = _read(response)
            try:
                decoded = json.loads(data) if data else None
            except ValueError:
                decoded = None
            return Reply(response.status_code,
                         {k.lower(): v for k, v in response.headers.items()}, decoded, data,
                         tuple(response.headers.get_list(HTTP_COMPLETION_HEADER)))

    def completion(self, reply: Reply) -> tuple[Any, str, str]:
        # AIP-HTTP-050..053, AIP-HTTP-057 / AIP-CMP-033: one AIP-Completion header,
        # receipt=<JWS> or token=<chain>, over the status, Content-Type and body as received.
        where = "the AIP-Completion header"
        value = {"status": reply.status, "content_type": reply.headers.get("content-type", ""),
                 "body": b64url(reply.raw)}
        digest = craft.token_digest_bytes(jcs(value))
        if not reply.completion_headers:
            return None, digest, where
        if len(reply.completion_headers) > 1:
            raise BadRecord("the response repeats the AIP-Completion header")
        raw = reply.completion_headers[0]
        if len(raw.encode("utf-8", "replace")) > MAX_COMPLETION_HEADER_BYTES:
            raise BadRecord(f"AIP-Completion is over {MAX_COMPLETION_HEADER_BYTES} octets")
        member, sep, text = raw.strip(" \t").partition("=")
        if not sep or member not in ("receipt", "token") or \
                not _HTTP_RECORD_VALUE.fullmatch(text):
            raise BadRecord("AIP-Completion is not receipt=<receipt> or token=<completed chain>")
        return {member: text}, digest, where

    def outcome(self, reply: Reply) -> tuple[bool, str | None, int | None]:
        if 200 <= reply.status < 300:
            return True, None, None
        body = reply.body
        err = body.get("error") if isinstance(body, dict) else None
        code = err.get("code") if isinstance(err, dict) else None
        return False, code if isinstance(code, str) else None, None


class McpTarget(_Base):
    profile = "mcp"
    PROTOCOL = "2025-06-18"

    def __init__(self, config: ProbeConfig, client: httpx.Client) -> None:
        super().__init__(config, client)
        self.session: str | None = None
        self._initialize()
        if not self.tool:
            raise ConformanceError("probe mcp needs --tool (a tool the server offers)")
        if not self.audience:
            raise ConformanceError("the server does not advertise its AIP audience "
                                   f"(capabilities.extensions[{MCP_EXTENSION_ID!r}]); pass --audience")

    def _headers(self) -> dict[str, str]:
        out = {"accept": "application/json, text/event-stream", "content-type": "application/json",
               "mcp-protocol-version": self.PROTOCOL}
        if self.session:
            out["mcp-session-id"] = self.session
        return out

    def _initialize(self) -> None:
        message = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                   "params": {"protocolVersion": self.PROTOCOL, "capabilities": {},
                              "clientInfo": {"name": "aip-conformance-probe", "version": "1"}}}
        with self.client.stream("POST", self.config.url, headers=self._headers(),
                                content=json.dumps(message).encode()) as response:
            data = _read(response)
            if response.status_code != 200:
                raise ConformanceError(f"MCP initialize answered HTTP {response.status_code}")
            self.session = response.headers.get("mcp-session-id")
            reply = _json_or_sse(data, response.headers.get("content-type", ""), 0)
        result = reply.get("result") if isinstance(reply, dict) else None
        if not isinstance(result, dict):
            raise ConformanceError("MCP initialize returned no result")
        caps = result.get("capabilities") or {}
        ext = (caps.get("extensions") or {}).get(MCP_EXTENSION_ID) or \
            (caps.get("experimental") or {}).get(MCP_EXTENSION_ID) or {}
        if not self.audience and isinstance(ext.get("audience"), str):
            self.audience = ext["audience"]
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        self._post(self.config.url, self._headers(), json.dumps(note).encode())

    def operation(self) -> str:
        return "tools/call"

    def arguments(self, tampered: bool) -> dict[str, Any]:
        args = copy.deepcopy(dict(self.config.arguments))
        if tampered:
            args["aip_probe"] = "tampered"
        return args

    def send(self, headers: Mapping[str, str], tampered: bool) -> Reply:
        rid = secrets.randbelow(2**31) + 1
        message = {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                   "params": {"name": self.tool, "arguments": self.arguments(tampered)}}
        return self._post(self.config.url, {**self._headers(), **headers},
                          json.dumps(message).encode(), rid)

    def outcome(self, reply: Reply) -> tuple[bool, str | None, int | None]:
        return _jsonrpc_outcome(reply, tool_error_is_failure=True)

    def completion(self, reply: Reply) -> tuple[Any, str, str]:
        # AIP-MCP-040 / AIP-CMP-031: result._meta["aip/completion"], over the result sans _meta.
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        result = result if isinstance(result, dict) else {}
        meta = result.get("_meta")
        record = meta.get("aip/completion") if isinstance(meta, dict) else None
        value = {k: v for k, v in result.items() if k != "_meta"}
        return record, craft.token_digest_bytes(jcs(value)), 'result._meta["aip/completion"]'


class A2aTarget(_Base):
    profile = "a2a"

    def __init__(self, config: ProbeConfig, client: httpx.Client) -> None:
        super().__init__(config, client)
        self.streams = False  # whether the agent card declares capabilities.streaming
        try:
            self._discover()
        except httpx.HTTPError:
            if not self.audience or not self.tool:
                raise
        if not self.tool:
            raise ConformanceError("probe a2a needs --tool (the skill id to call)")
        if not self.audience:
            raise ConformanceError("the agent card does not name its AIP audience; pass --audience")

    def _discover(self) -> None:
        parts = urlsplit(self.config.url)
        card_url = urlunsplit((parts.scheme, parts.netloc, "/.well-known/agent-card.json", "", ""))
        with self.client.stream("GET", card_url) as response:
            data = _read(response)
        try:
            card = json.loads(data)
        except ValueError:
            return
        if not isinstance(card, dict):
            return
        self.streams = (card.get("capabilities") or {}).get("streaming") is True
        for ext in ((card.get("capabilities") or {}).get("extensions") or []):
            if isinstance(ext, dict) and ext.get("uri") == A2A_EXTENSION_URI:
                aud = (ext.get("params") or {}).get("audience")
                if not self.audience and isinstance(aud, str):
                    self.audience = aud
        ident = card.get("aip_identity")
        if not self.audience and isinstance(ident, dict) and isinstance(ident.get("id"), str):
            self.audience = ident["id"]
        skills = card.get("skills") or []
        if not self.tool and skills and isinstance(skills[0], dict):
            self.tool = str(skills[0].get("id", ""))

    def operation(self) -> str:
        return "SendStreamingMessage" if self.stream else "SendMessage"

    def _parts(self, tampered: bool) -> list[dict[str, Any]]:
        return [{"text": self.config.text + (" (tampered)" if tampered else "")}]

    def arguments(self, tampered: bool) -> dict[str, Any]:
        return {"parts": self._parts(tampered)}

    def send(self, headers: Mapping[str, str], tampered: bool) -> Reply:
        rid = secrets.randbelow(2**31) + 1
        message = {"jsonrpc": "2.0", "id": rid, "method": self.operation(), "params": {
            "message": {"messageId": str(uuid.uuid4()), "role": "ROLE_USER",
                        "parts": self._parts(tampered), "metadata": {"aip_skill": self.tool}}}}
        headers = {"content-type": "application/json", "a2a-version": "1.0", **headers}
        if not self.stream:
            return self._post(self.config.url, headers, json.dumps(message).encode(), rid)
        with self.client.stream("POST", self.config.url, headers=headers,
                                content=json.dumps(message).encode()) as response:
            data = _read(response)
            ctype = response.headers.get("content-type", "")
            got = {k.lower(): v for k, v in response.headers.items()}
        if "text/event-stream" not in ctype:  # an error answered before the stream began
            return Reply(response.status_code, got, _json_or_sse(data, ctype, rid))
        messages = _sse_messages(data, rid)
        errors = [m for m in messages if "error" in m]
        # The stream is scored like one answer: its first error, else its first result.
        body = errors[0] if errors else (messages[0] if messages else None)
        return Reply(response.status_code, got, body,
                     events=tuple(m.get("result") for m in messages if "result" in m))

    def outcome(self, reply: Reply) -> tuple[bool, str | None, int | None]:
        return _jsonrpc_outcome(reply, tool_error_is_failure=False)

    def completion(self, reply: Reply) -> tuple[Any, str, str]:
        if self.stream:
            return self._stream_completion(reply)
        # AIP-A2A-040..042 / AIP-CMP-032: the last artifact's metadata.aip_completion, over the
        # artifact sans metadata.
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        task = result.get("task", result) if isinstance(result, dict) else None
        artifacts = task.get("artifacts") if isinstance(task, dict) else None
        artifact = artifacts[-1] if isinstance(artifacts, list) and artifacts else None
        artifact = artifact if isinstance(artifact, dict) else {}
        metadata = artifact.get("metadata")
        record = metadata.get("aip_completion") if isinstance(metadata, dict) else None
        value = {k: v for k, v in artifact.items() if k != "metadata"}
        return (record, craft.token_digest_bytes(jcs(value)),
                "the task's last artifact's metadata.aip_completion")


    def _stream_completion(self, reply: Reply) -> tuple[Any, str, str]:
        # AIP-A2A-045..047: the record is in the metadata of the last artifact as assembled from
        # the stream, over that artifact without metadata, and sits in no status update.
        artifacts, task_id = _assemble(reply.events)
        for event in reply.events:
            update = event.get("statusUpdate") if isinstance(event, dict) else None
            meta = update.get("metadata") if isinstance(update, dict) else None
            if isinstance(meta, dict) and "aip_completion" in meta:
                raise BadRecord("a status update carries a completion record (AIP-A2A-047)")
        where = "metadata.aip_completion of the streamed task's last artifact, as assembled"
        if not artifacts:
            return None, "", where
        artifact = artifacts[-1]
        metadata = artifact.get("metadata")
        record = metadata.get("aip_completion") if isinstance(metadata, dict) else None
        if record is not None and task_id is not None:
            self._check_stored(task_id, artifact)
        value = {k: v for k, v in artifact.items() if k != "metadata"}
        return record, craft.token_digest_bytes(jcs(value)), where

    def _check_stored(self, task_id: str, streamed: Mapping[str, Any]) -> None:
        # AIP-A2A-048: GetTask returns the artifact as assembled, with the same record. An agent
        # may answer GetTask only to callers it authenticates otherwise; an error answer is not
        # held against it here.
        rid = secrets.randbelow(2**31) + 1
        request = {"jsonrpc": "2.0", "id": rid, "method": "GetTask", "params": {"id": task_id}}
        reply = self._post(self.config.url, {"content-type": "application/json",
                                             "a2a-version": "1.0"},
                           json.dumps(request).encode(), rid)
        task = reply.body.get("result") if isinstance(reply.body, dict) else None
        if not isinstance(task, dict):
            return
        artifacts = task.get("artifacts")
        stored = artifacts[-1] if isinstance(artifacts, list) and artifacts else None
        if not isinstance(stored, dict):
            raise BadRecord("GetTask returns the streamed task without its artifact (AIP-A2A-048)")
        record = (stored.get("metadata") or {}).get("aip_completion") \
            if isinstance(stored.get("metadata"), dict) else None
        if record != streamed["metadata"]["aip_completion"]:
            raise BadRecord("GetTask returns another completion record than the stream's "
                            "(AIP-A2A-048)")
        if {k: v for k, v in stored.items() if k != "metadata"} != \
                {k: v for k, v in streamed.items() if k != "metadata"}:
            raise BadRecord("GetTask returns another artifact than the stream assembled "
                            "(AIP-A2A-048)")


def _sse_messages(data: bytes, want_id: Any) -> list[dict[str, Any]]:
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("data:"):
            try:
                message = json.loads(line[5:].strip())
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("id") == want_id:
                out.append(message)
    return out


def _assemble(events: Sequence[Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The artifacts of a streamed task as AIP-A2A-046 assembles them, and the task's id."""
    artifacts: list[dict[str, Any]] = []
    task_id: str | None = None
    for event in events:
        if not isinstance(event, dict):
            raise BadRecord("a stream result is not a JSON object")
        if isinstance(event.get("task"), dict):
            task = event["task"]
            task_id = task["id"] if isinstance(task.get("id"), str) else task_id
            found = task.get("artifacts", [])
            if not isinstance(found, list) or not all(isinstance(a, dict) for a in found):
                raise BadRecord("a streamed task's artifacts are not an array of objects")
            artifacts = [copy.deepcopy(a) for a in found]
            continue
        update = event.get("artifactUpdate")
        if update is None:
            continue
        artifact = update.get("artifact") if isinstance(update, dict) else None
        if not isinstance(artifact, dict) or not isinstance(artifact.get("artifactId"), str):
            raise BadRecord("an artifact update carries no artifact with an artifactId")
        if task_id is None and isinstance(update.get("taskId"), str):
            task_id = update["taskId"]
        at = next((i for i, a in enumerate(artifacts)
                   if a.get("artifactId") == artifact["artifactId"]), None)
        if update.get("append") is not True:
            if at is None:
                artifacts.append(copy.deepcopy(artifact))
            else:
                artifacts[at] = copy.deepcopy(artifact)
            continue
        if at is None:
            raise BadRecord("an artifact update appends to an artifact never sent (AIP-A2A-046)")
        parts, meta = artifact.get("parts", []), artifact.get("metadata", {})
        old_parts, old_meta = artifacts[at].get("parts", []), artifacts[at].get("metadata", {})
        if not all(isinstance(x, list) for x in (parts, old_parts)) or \
                not all(isinstance(x, dict) for x in (meta, old_meta)):
            raise BadRecord("an artifact's parts or metadata have the wrong type")
        if parts:
            artifacts[at]["parts"] = [*old_parts, *copy.deepcopy(parts)]
        if "metadata" in artifact:
            artifacts[at]["metadata"] = {**old_meta, **copy.deepcopy(meta)}
    return artifacts, task_id


def _jsonrpc_outcome(reply: Reply, *, tool_error_is_failure: bool) -> tuple[bool, str | None, int | None]:
    body = reply.body
    if not isinstance(body, dict):
        return False, None, None
    if "error" in body:
        err = body["error"] if isinstance(body["error"], dict) else {}
        data = err.get("data")
        code = data.get("code") if isinstance(data, dict) else None
        rpc = err.get("code")
        return False, code if isinstance(code, str) else None, rpc if isinstance(rpc, int) else None
    result = body.get("result")
    if not isinstance(result, dict):
        return False, None, None
    if tool_error_is_failure and result.get("isError") is True:
        return False, None, None
    return 200 <= reply.status < 300, None, None


# --- the battery --------------------------------------------------------------------------------

@dataclass
class Attempt:
    headers: dict[str, str]
    tampered: bool = False
    repeat: int = 1
    token: str = ""  # what a completion record must complete
    proof: str | None = None


def _auth(token: str | None, proof: str | None = None, *, header: str = "authorization") -> dict[str, str]:
    out: dict[str, str] = {}
    if token is not None:
        if header == "authorization":
            out["authorization"] = f"AIP {token}"
        else:
            out["x-aip-token"] = token
    if proof is not None:
        out["x-aip-proof"] = proof
    return out


class Battery:
    """Builds the credentials of each case for one target."""

    def __init__(self, target: Target, issuer: craft.Identity) -> None:
        self.t = target
        self.issuer = issuer
        self.holder = craft.fresh_identity()

    def _now(self) -> int:
        return int(time.time())

    def _proof(self, token: str, *, tool: str | None = None, holder: craft.Identity | None = None,
               audience: str | None = None, now: int | None = None,
               signer: Any = None) -> str:
        return craft.proof(holder or self.holder, token, audience=audience or self.t.audience,
                           operation=self.t.operation(), tool=tool or self.t.tool,
                           arguments=self.t.arguments(False), now=now or self._now(),
                           signer=signer)

    def _token(self, **changes: Any) -> str:
        now = self._now()
        issuer = changes.pop("issuer", self.issuer)
        return craft.compact_token(issuer, subject=self.holder.id,
                                   audience=changes.pop("audience", self.t.audience),
                                   scopes=changes.pop("scopes", [f"tool:{self.t.tool}"]),
                                   now=now, **changes)

    def _chain(self, *, invocation: bool = True, audience: str | None = None,
               tool: str | None = None, expires_in: int = 600, widen: bool = False,
               forge: bool = False, plain: bool = False, max_depth: int = 3) -> str:
        now = self._now()
        a, b, c = self.holder, craft.fresh_identity(), craft.fresh_identity()
        scopes = [f"tool:{self.t.tool}"]
        hops = [craft.Hop(a, b, ["tool:*"] if widen else scopes,
                          signer=craft.fresh_identity() if forge else None),
                craft.Hop(b, c, scopes)]
        call = {"audience": audience or self.t.audience, "operation": self.t.operation(),
                "tool": tool or self.t.tool, "arguments": self.t.arguments(False), "iat": now}
        return craft.chain(self.issuer, holder=a, scopes=scopes, expires=now + expires_in,
                           max_depth=max_depth, hops=hops,
                           invocation=call if invocation else None, invoker=c,
                           plain_append=plain)

    def attempt(self, name: str) -> Attempt:
        t = self._token
        if name == "no-token":
            return Attempt({})
        if name in ("valid-compact", "completion-compact", "completion-stream-compact"):
            tok = t()
            proof = self._proof(tok)
            return Attempt(_auth(tok, proof), token=tok, proof=proof)
        if name == "token-in-x-aip-token":
            tok = t()
            return Attempt(_auth(tok, self._proof(tok), header="x-aip-token"))
        if name == "conflicting-headers":
            tok, other = t(), t()
            return Attempt({**_auth(tok, self._proof(tok)), "x-aip-token": other})
        if name == "token-ref-with-inline-token":
            tok = t()
            return Attempt({**_auth(tok, self._proof(tok)), "x-aip-token-ref": UNFETCHABLE_REF})
        if name == "token-ref-unfetchable":
            return Attempt({"x-aip-token-ref": UNFETCHABLE_REF})
        if name == "missing-proof":
            return Attempt(_auth(t()))
        if name == "wrong-audience":
            tok = t(audience=OTHER_AUDIENCE)
            return Attempt(_auth(tok, self._proof(tok)))
        if name == "scope-other-tool":
            tok = t(scopes=[f"tool:{OTHER_TOOL}"])
            return Attempt(_auth(tok, self._proof(tok)))
        if name == "proof-other-tool":
            tok = t()
            return Attempt(_auth(tok, self._proof(tok, tool=OTHER_TOOL)))
        if name == "tampered-arguments":
            tok = t()
            return Attempt(_auth(tok, self._proof(tok)), tampered=True)
        if name == "replayed-proof":
            tok = t()
            return Attempt(_auth(tok, self._proof(tok)), repeat=2)
        if name == "expired-token":
            tok = t(iat=self._now() - 7200)
            return Attempt(_auth(tok, self._proof(tok)))
        if name == "stale-proof":
            tok = t()
            return Attempt(_auth(tok, self._proof(tok, now=self._now() - 3600)))
        if name == "alg-none":
            tok = t(alg="none")
            return Attempt(_auth(tok, self._proof(tok)))
        if name == "wrong-key":
            tok = t(signer=craft.fresh_identity().key)
            return Attempt(_auth(tok, self._proof(tok)))
        if name == "forged-claim":
            head, payload, sig = t().split(".")
            claims = json.loads(craft.b64decode(payload))
            claims["scope"] = ["*"]
            forged = f"{head}.{b64url(json.dumps(claims, separators=(',', ':')).encode())}.{sig}"
            return Attempt(_auth(forged, self._proof(forged)))
        if name == "untrusted-issuer":
            tok = t(issuer=craft.fresh_identity())
            return Attempt(_auth(tok, self._proof(tok)))
        if name == "proof-wrong-key":
            tok = t()
            return Attempt(_auth(tok, self._proof(tok, signer=craft.fresh_identity().key)))
        chained: dict[str, dict[str, Any]] = {
            "valid-chained": {}, "completion-chained": {}, "completion-stream-chained": {},
            "chained-no-invocation": {"invocation": False},
            "chained-wrong-audience": {"audience": OTHER_AUDIENCE},
            "chained-other-tool": {"tool": OTHER_TOOL},
            "chained-tampered-arguments": {}, "chained-replay": {},
            "chained-expired": {"expires_in": -3600}, "chained-widened": {"widen": True},
            "chained-forged-hop": {"forge": True}, "chained-plain-append": {"plain": True},
            "chained-depth-exceeded": {"max_depth": 1},
        }
        if name in chained:
            tok = self._chain(**chained[name])
            return Attempt(_auth(tok), tampered=name == "chained-tampered-arguments",
                           repeat=2 if name == "chained-replay" else 1, token=tok)
        raise ConformanceError(f"unknown probe case {name}")


def _check_completion(target: Target, issuer: craft.Identity, attempt: Attempt,
                      reply: Reply) -> tuple[Outcome, str]:
    """The completion record of a successful call: present where the binding puts it, made by
    the audience (the executor) over the result received, completing exactly this call."""
    try:
        record, digest, where = target.completion(reply)
    except BadRecord as exc:
        return "failed", str(exc)
    if record is None:
        if target.record_optional:
            return "passed", f"no completion record was sent ({where}); nothing to check"
        return "failed", f"the result carries no completion record ({where})"
    executor_key = craft.public_key_of(target.audience)
    if executor_key is None:
        return "skipped", (f"the executor {target.audience[:100]} is not an aip:key identifier; "
                           "its key cannot be resolved offline to check the record")
    expect = {"result_hash": digest, "status": frozenset({"completed", "partial"})}
    member = "receipt" if attempt.proof is not None else "token"
    if not isinstance(record, dict) or set(record) != {member}:
        return "failed", f"the completion record is not an object with exactly {member!r}"
    if attempt.proof is not None:
        problems = check_receipt_of(record[member], token=attempt.token, proof=attempt.proof,
                                    executor=target.audience, executor_public_key=executor_key,
                                    kid=None, expect=expect)
    else:
        problems = check_completed_chain(attempt.token, record[member],
                                         root_public_key=public_raw(issuer.key),
                                         executor=target.audience,
                                         executor_public_key=executor_key, expect=expect)
    if problems:
        return "failed", "; ".join(problems)[:500]
    return "passed", ""


def _describe(ok: bool, code: str | None, reply: Reply) -> str:
    return "success" if ok else f"HTTP {reply.status} {code or '(no AIP code)'}"


def _score(target: Target, case: ProbeCase, replies: list[Reply],
           registry: Mapping[str, tuple[int, int]]) -> tuple[Outcome, str, dict[str, Any]]:
    results = [target.outcome(r) for r in replies]
    if len(replies) > 1:
        first_ok, first_code, _ = results[0]
        if not first_ok:
            return "failed", f"first use was refused: {_describe(first_ok, first_code, replies[0])}", \
                _got(results[0], replies[0])
    ok, code, rpc = results[-1]
    reply = replies[-1]
    got = _got(results[-1], reply)
    if case.expect is None:
        if ok:
            return "passed", "", got
        return "failed", f"expected success, got {_describe(ok, code, reply)}", got
    if ok:
        return "failed", f"expected {case.expect}, got success", got
    problems: list[str] = []
    status, jsonrpc = registry[case.expect]
    if code != case.expect:
        problems.append(f"expected {case.expect}, got {code or 'no AIP code'}")
    if reply.status != status:
        problems.append(f"HTTP status {reply.status}, expected {status}")
    if target.profile != "http" and rpc != jsonrpc:
        problems.append(f"JSON-RPC code {rpc}, expected {jsonrpc}")
    if status in (401, 403) and not reply.headers.get("www-authenticate", "").startswith("AIP"):
        problems.append("no WWW-Authenticate: AIP challenge")
    if target.profile == "http" and HTTP_COMPLETION_HEADER in reply.headers:
        problems.append("an AIP failure carries an AIP-Completion header")  # AIP-HTTP-058
    if problems:
        return "failed", "; ".join(problems), got
    return "passed", "", got


def _got(result: tuple[bool, str | None, int | None], reply: Reply) -> dict[str, Any]:
    ok, code, _ = result
    if ok:
        return {"result": {"valid": True, "output": {"status": reply.status}}}
    return {"result": {"valid": False, "error": code or "", "message": f"HTTP {reply.status}"}}


def _case(profile: str, index: int, case: ProbeCase) -> Case:
    return Case(
        id=f"{profile}/probe#{index}", profile=profile, file=f"probe/{profile}", tc_id=index,
        comment=f"{case.name}: {case.description}", operation=f"probe.{profile}",
        now=0, trust={}, input={}, result="valid" if case.expect is None else "invalid",
        error=case.expect, expected=None, flags=(case.name,),
        requirements=tuple(PROBE_CHECKS[f"probe.{profile}.{case.name}"]))


TARGETS: dict[str, Callable[[ProbeConfig, httpx.Client], Target]] = {
    "http": HttpTarget, "mcp": McpTarget, "a2a": A2aTarget}


def run_probe(config: ProbeConfig, *, progress: Callable[[int, int, Case], None] | None = None
              ) -> RunResult:
    """Run every probe case that applies to ``config`` and score it."""
    if config.profile not in TARGETS:
        raise ConformanceError(f"unknown probe profile {config.profile!r}; use http, mcp or a2a")
    registry = _registry()
    started = datetime.now(UTC)
    timeout = httpx.Timeout(config.timeout)
    records: list[CaseRecord] = []
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            target = TARGETS[config.profile](config, client)
            battery = Battery(target, config.issuer)
            cases = [c for c in PROBE_CASES if c.mode in ("none", *config.modes)
                     and config.profile in c.profiles]
            for index, case in enumerate(cases, start=1):
                record_case = _case(config.profile, index, case)
                if progress:
                    progress(index - 1, len(cases), record_case)
                t0 = time.perf_counter()
                target.stream = case.name.startswith("completion-stream-")
                if target.stream and not getattr(target, "streams", False):
                    records.append(CaseRecord(
                        case=record_case, outcome="skipped", got=None,
                        reason="the agent card does not declare capabilities.streaming",
                        duration_ms=0.0))
                    continue
                try:
                    attempt = battery.attempt(case.name)
                    replies = [target.send(attempt.headers, attempt.tampered)
                               for _ in range(attempt.repeat)]
                    outcome, reason, got = _score(target, case, replies, registry)
                    if outcome == "passed" and case.name.startswith("completion-"):
                        outcome, reason = _check_completion(target, config.issuer, attempt,
                                                            replies[-1])
                except (httpx.HTTPError, ConformanceError) as exc:
                    outcome, reason = "errored", f"{type(exc).__name__}: {exc}"[:300]
                    got = {"errored": True, "context": {"problem": reason}}
                records.append(CaseRecord(case=record_case, outcome=outcome, reason=reason, got=got,
                                          duration_ms=round((time.perf_counter() - t0) * 1000, 3)))
    except httpx.HTTPError as exc:
        raise ConformanceError(f"cannot reach {config.url}: {type(exc).__name__}: {exc}") from None
    impl = Implementation(
        name=f"{config.profile} endpoint {config.url}", version="", language="",
        homepage=config.url, profiles=(config.profile,), operations=(f"probe.{config.profile}",),
        raw={"name": f"{config.profile} endpoint {config.url}", "version": "", "language": "",
             "homepage": config.url, "profiles": [config.profile],
             "operations": [f"probe.{config.profile}"]})
    return RunResult(implementation=impl,
                     command=["aip-conformance", "probe", config.profile, config.url],
                     started=started, finished=datetime.now(UTC), profiles=[config.profile],
                     claimed=frozenset({config.profile}), records=records)


def load_arguments(text: str | None, path: Path | None) -> dict[str, Any]:
    raw = path.read_text(encoding="utf-8") if path is not None else (text or "{}")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConformanceError(f"--arguments is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConformanceError("--arguments must be a JSON object")
    return value
