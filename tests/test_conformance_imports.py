"""The suite never imports the reference implementation, and its public API is `__all__`."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import aip_conformance

PACKAGE_DIR = Path(aip_conformance.__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_no_module_of_aip_conformance_imports_aip() -> None:
    offenders = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        bad = {m for m in imported_modules(path) if m == "aip" or m.startswith("aip.")}
        if bad:
            offenders[str(path.relative_to(PACKAGE_DIR))] = sorted(bad)
    assert offenders == {}


def test_public_api_is_exactly_all() -> None:
    public = {n for n in dir(aip_conformance) if not n.startswith("_")}
    modules = {info.name for info in pkgutil.iter_modules(aip_conformance.__path__)}
    assert public - modules == set(aip_conformance.__all__) - {"__version__"}
    for name in aip_conformance.__all__:
        assert hasattr(aip_conformance, name)


def test_every_private_module_declares_all() -> None:
    for info in pkgutil.iter_modules(aip_conformance.__path__):
        if info.name.startswith("_") and info.name != "__main__":
            module = importlib.import_module(f"aip_conformance.{info.name}")
            assert isinstance(getattr(module, "__all__", None), list), info.name
