"""AIP conformance suite: checks any implementation through harness protocol v1.

Never imports `aip`: implementations, the reference included, are reached only as child
processes speaking the harness protocol.
"""

from ._errors import (
    BaselineError,
    ConformanceError,
    HarnessError,
    RepositoryNotFound,
    VectorFileError,
)
from ._harness import DEFAULT_IMPL, Answer, HarnessClient, Implementation
from ._report import SUITE_VERSION as __version__
from ._report import junit_xml, report_json, write_reports
from ._requirements import TraceReport, check_requirements
from ._runner import CaseRecord, RunResult, load_baseline, run_suite, score
from ._vectors import Case, VectorFile, iter_cases, load_all_vectors, load_vectors, repo_root

__all__ = [
    "DEFAULT_IMPL",
    "Answer",
    "BaselineError",
    "Case",
    "CaseRecord",
    "ConformanceError",
    "HarnessClient",
    "HarnessError",
    "Implementation",
    "RepositoryNotFound",
    "RunResult",
    "TraceReport",
    "VectorFile",
    "VectorFileError",
    "__version__",
    "check_requirements",
    "iter_cases",
    "junit_xml",
    "load_all_vectors",
    "load_baseline",
    "load_vectors",
    "repo_root",
    "report_json",
    "run_suite",
    "score",
    "write_reports",
]
