"""The vectors framework: generate, check (regenerate and compare) and verify (signed manifest).

Every file under `vectors/` comes from a generator module in `aip_conformance.generators`;
`vectors/manifest.json` lists each file's SHA-256 and `vectors/manifest.jws` signs the
manifest's exact bytes, so anyone can tell the published vectors were not altered.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import pkgutil
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._errors import ConformanceError, VectorFileError
from ._vectors import check_vector_file

__all__ = [
    "MANIFEST",
    "MANIFEST_JWS",
    "VECTORS_KEY_ID",
    "VECTORS_PUBLIC_KEY",
    "CheckResult",
    "Generator",
    "build_files",
    "check_vectors",
    "discover_generators",
    "public_jwk",
    "serialize",
    "sign_manifest",
    "vectors_private_key",
    "verify_vectors",
    "write_vectors",
]

MANIFEST = "manifest.json"
MANIFEST_JWS = "manifest.jws"
VECTORS_KEY_ID = "aip-vectors-2026"
JWS_TYPE = "aip-manifest+jws"

# The vectors key is a publication-integrity key for test data, not a secret: it is derived
# from a fixed seed so that `vectors check` reproduces manifest.jws byte for byte (Ed25519
# signatures are deterministic). What it proves is that the files match what the spec's
# published key signed; anyone may re-derive it. The public half is published in the spec
# (`aip-conformance vectors key` prints it) and pinned here, so verification never trusts
# the seed.
_VECTORS_SEED = hashlib.sha256(b"aip-conformance vectors key 2026").digest()
VECTORS_PUBLIC_KEY = "1KeO8xNMDtl94bQIZVwoQAHT2zM5Nj2doIGgZew0KKA"

Generator = Callable[[], Mapping[str, Mapping[str, Any]]]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vectors_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_VECTORS_SEED)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_jwk() -> dict[str, str]:
    """The published verification key as a JWK (from the pinned constant)."""
    return {"kty": "OKP", "crv": "Ed25519", "kid": VECTORS_KEY_ID, "x": VECTORS_PUBLIC_KEY}


def serialize(obj: object) -> bytes:
    """The one byte form of every generated JSON file."""
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sign_manifest(manifest: bytes, key: Ed25519PrivateKey | None = None) -> bytes:
    """A compact JWS whose payload is exactly `manifest`."""
    key = key or vectors_private_key()
    header = {"alg": "EdDSA", "typ": JWS_TYPE, "kid": VECTORS_KEY_ID}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64url(manifest)
    )
    signature = key.sign(signing_input.encode("ascii"))
    return (signing_input + "." + _b64url(signature) + "\n").encode("ascii")


def discover_generators() -> dict[str, Generator]:
    """Every `generate` function of the modules in `aip_conformance.generators`, by name."""
    from . import generators

    found: dict[str, Generator] = {}
    for info in sorted(pkgutil.iter_modules(generators.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{generators.__name__}.{info.name}")
        except Exception as exc:  # a broken generator is reported, not shown as a traceback
            raise ConformanceError(
                f"cannot import generator {info.name}: {type(exc).__name__}: {exc}"
            ) from exc
        gen = getattr(module, "generate", None)
        if not callable(gen):
            raise ConformanceError(f"generator module {module.__name__} has no generate()")
        found[info.name] = gen
    return found


def build_files(generators: Mapping[str, Generator], schemas_dir: Path) -> dict[str, bytes]:
    """Run the generators and return every output file's bytes, manifest and JWS included.

    Everything is validated before anything is written, so a broken generator leaves
    `vectors/` untouched.
    """
    files: dict[str, bytes] = {}
    owner: dict[str, str] = {}
    total = 0
    for name, gen in generators.items():
        try:
            produced = dict(gen())
        except Exception as exc:  # reported with its cause; the CLI shows no traceback
            raise VectorFileError(
                f"generator {name} failed: {type(exc).__name__}: {exc}"
            ) from exc
        for rel, obj in produced.items():
            path = Path(rel)
            if path.is_absolute() or ".." in path.parts or path.suffix != ".json" \
                    or rel in (MANIFEST,):
                raise VectorFileError(f"generator {name}: bad output path {rel!r}")
            if rel in owner:
                raise VectorFileError(f"{rel} is produced by both {owner[rel]} and {name}")
            problems = check_vector_file(obj, schemas_dir)
            if problems:
                raise VectorFileError(f"generator {name}, {rel}: " + "; ".join(problems))
            if path.parts[0] != obj["profile"]:
                raise VectorFileError(
                    f"generator {name}, {rel}: profile {obj['profile']!r} "
                    f"must match its folder {path.parts[0]!r}"
                )
            owner[rel] = name
            files[rel] = serialize(obj)
            total += int(obj["numberOfTests"])
    manifest_obj = {
        "files": {rel: hashlib.sha256(files[rel]).hexdigest() for rel in sorted(files)},
        "numberOfTests": total,
    }
    manifest = serialize(manifest_obj)
    files[MANIFEST] = manifest
    files[MANIFEST_JWS] = sign_manifest(manifest)
    return files


def _existing(vectors_dir: Path) -> set[str]:
    # The generated set: .json files and the JWS. Other files (a README) are left alone.
    if not vectors_dir.is_dir():
        return set()
    return {
        p.relative_to(vectors_dir).as_posix()
        for p in vectors_dir.rglob("*")
        if p.is_file() and (p.suffix == ".json" or p.name == MANIFEST_JWS)
    }


def write_vectors(files: Mapping[str, bytes], vectors_dir: Path) -> None:
    """Write `files` into `vectors_dir` and drop generated files that are no longer produced.

    Files are first written into a temporary folder beside `vectors_dir`, then each is moved
    into place with an atomic rename; the manifest and its signature move last, so the
    signed manifest never describes a set that is not fully in place.
    """
    vectors_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vectors-", dir=vectors_dir.parent))
    try:
        for rel, data in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        order = sorted(files, key=lambda r: (r in (MANIFEST, MANIFEST_JWS), r))
        for rel in order:
            dest = vectors_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for rel in sorted(_existing(vectors_dir) - set(files)):
        (vectors_dir / rel).unlink()


@dataclass
class CheckResult:
    differ: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.differ or self.missing or self.extra)

    def lines(self) -> list[str]:
        return (
            [f"differs: vectors/{r}" for r in self.differ]
            + [f"missing: vectors/{r}" for r in self.missing]
            + [f"extra:   vectors/{r}" for r in self.extra]
        )


def check_vectors(files: Mapping[str, bytes], vectors_dir: Path) -> CheckResult:
    """Compare freshly generated `files` byte for byte with what `vectors_dir` holds."""
    on_disk = _existing(vectors_dir)
    result = CheckResult()
    for rel in sorted(files):
        if rel not in on_disk:
            result.missing.append(rel)
        elif (vectors_dir / rel).read_bytes() != files[rel]:
            result.differ.append(rel)
    result.extra = sorted(on_disk - set(files))
    return result


def verify_vectors(vectors_dir: Path, public_key: str = VECTORS_PUBLIC_KEY) -> list[str]:
    """Problems found verifying `vectors_dir` against the published key; empty when sound.

    Checks the JWS over manifest.json, then every listed file's digest, then that no vector
    file is present that the manifest does not list.
    """
    manifest_path = vectors_dir / MANIFEST
    jws_path = vectors_dir / MANIFEST_JWS
    try:
        manifest = manifest_path.read_bytes()
        jws = jws_path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        return [f"cannot read the signed manifest: {exc}"]
    problems = _verify_jws(jws, manifest, public_key)
    if problems:
        return problems
    try:
        listed: dict[str, str] = json.loads(manifest)["files"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"manifest.json is malformed: {exc}"]
    for rel, digest in sorted(listed.items()):
        path = vectors_dir / rel
        if not path.is_file():
            problems.append(f"vectors/{rel}: listed in the manifest but missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"vectors/{rel}: digest does not match the manifest")
    unlisted = {r for r in _existing(vectors_dir) if r.endswith(".json")} - set(listed) - {
        MANIFEST
    }
    problems += [f"vectors/{r}: not listed in the manifest" for r in sorted(unlisted)]
    return problems


def _verify_jws(jws: str, manifest: bytes, public_key: str) -> list[str]:
    parts = jws.split(".")
    if len(parts) != 3:
        return ["manifest.jws is not a compact JWS"]
    try:
        header = json.loads(_b64url_decode(parts[0]))
        payload = _b64url_decode(parts[1])
        signature = _b64url_decode(parts[2])
        key = Ed25519PublicKey.from_public_bytes(_b64url_decode(public_key))
    except ValueError as exc:
        return [f"manifest.jws cannot be decoded: {exc}"]
    if not isinstance(header, dict) or header.get("alg") != "EdDSA" \
            or header.get("typ") != JWS_TYPE or header.get("kid") != VECTORS_KEY_ID:
        return [f"manifest.jws has an unexpected header: {header}"]
    try:
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        return ["manifest.jws: signature does not verify under the published vectors key"]
    if payload != manifest:
        return ["manifest.jws does not sign the bytes of manifest.json"]
    return []
