"""pytest plugin: `pytest --aip-impl CMD` runs every conformance case as a pytest item.

Lets a third party run the suite inside its own pytest session (and CI reporting). Without
`--aip-impl` the plugin adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._errors import ConformanceError
from ._harness import HarnessClient, Implementation
from ._runner import score
from ._vectors import Case, iter_cases, load_all_vectors, repo_root

__all__ = ["AIPCaseItem", "AIPSuite", "pytest_addoption", "pytest_collection_modifyitems"]

_CLIENT = pytest.StashKey[HarnessClient]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aip", "AIP conformance suite")
    group.addoption("--aip-impl", metavar="CMD", default=None,
                    help="run the AIP conformance cases against this harness command")
    group.addoption("--aip-profile", action="append", default=None, metavar="P",
                    help="restrict to this profile (repeatable; default: claimed profiles)")
    group.addoption("--aip-timeout", type=float, default=10.0, metavar="S",
                    help="seconds to wait for each answer (default: 10)")


class AIPCaseFailure(Exception):
    """A case whose answer does not match the vector (or that errored)."""


class AIPCaseItem(pytest.Item):
    """One conformance case."""

    def __init__(self, *, case: Case, impl: Implementation, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.impl = impl
        for req in case.requirements:
            self.user_properties.append(("requirement", req))

    def runtest(self) -> None:
        if self.case.operation not in self.impl.operations:
            pytest.skip("operation not supported")
        answer = self.config.stash[_CLIENT].run(self.case.request())
        outcome, reason = score(self.case, answer)
        if outcome == "skipped":
            pytest.skip(reason)
        if outcome == "errored":
            raise AIPCaseFailure(
                f"errored: {reason}\n{json.dumps(dict(answer.context or {}), indent=2)}"
            )
        if outcome == "failed":
            raise AIPCaseFailure(reason)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str:
        if isinstance(excinfo.value, AIPCaseFailure):
            comment = f" ({self.case.comment})" if self.case.comment else ""
            return f"{self.case.id}{comment}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(self.case.file), 0, self.case.id


class AIPSuite(pytest.Collector):
    """Collects one `AIPCaseItem` per case of the selected profiles."""

    def __init__(self, *, cases: list[Case], impl: Implementation, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cases = cases
        self.impl = impl

    def collect(self) -> Iterator[AIPCaseItem]:
        for case in self.cases:
            yield AIPCaseItem.from_parent(self, name=case.id, case=case, impl=self.impl)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    command = config.getoption("--aip-impl")
    if not command:
        return
    try:
        root = repo_root()
        files = load_all_vectors(root)
        client = HarnessClient(
            command, schemas_dir=root / "schemas", timeout=config.getoption("--aip-timeout")
        )
        impl = client.start()
    except ConformanceError as exc:
        # A setup problem, reported like a bad command-line option: no traceback.
        raise pytest.UsageError(f"aip-conformance: {exc}") from exc
    config.stash[_CLIENT] = client
    config.add_cleanup(client.stop)
    profiles = config.getoption("--aip-profile") or list(impl.profiles)
    cases = [c for c in iter_cases(files) if c.profile in profiles]
    suite = AIPSuite.from_parent(session, name="aip-conformance", cases=cases, impl=impl)
    items.extend(suite.collect())
