"""The public API of `aip` is exactly its `__all__`, and the error codes equal the registry."""

from __future__ import annotations

import json
from pathlib import Path

import aip
from aip._errors import HTTP_STATUS, AIPError

ROOT = Path(__file__).resolve().parents[1]


def test_public_names_are_exactly_dunder_all() -> None:
    public = {name for name in dir(aip) if not name.startswith("_")} - {"annotations"}
    # submodules imported by Python itself show up as attributes; they are not API
    modules = {name for name in public if type(getattr(aip, name)).__name__ == "module"}
    assert public - modules == set(aip.__all__) - {"__version__"}


def test_every_exported_name_exists() -> None:
    for name in aip.__all__:
        assert hasattr(aip, name), name


def test_reference_error_codes_equal_the_registry() -> None:
    registry = json.loads((ROOT / "spec/registry/errors.json").read_text())
    assert {c["code"]: c["http_status"] for c in registry["codes"]} == HTTP_STATUS


def test_error_carries_code_status_and_body() -> None:
    err = AIPError("aip_scope_insufficient", "tool:delete is not granted")
    assert err.http_status == 403 and err.jsonrpc_code == -32003
    assert err.to_body() == {"error": {"code": "aip_scope_insufficient",
                                       "message": "tool:delete is not granted"}}


def test_unregistered_code_is_a_programming_error() -> None:
    try:
        AIPError("aip_made_up", "x")
    except ValueError:
        return
    raise AssertionError("an unregistered code was accepted")
