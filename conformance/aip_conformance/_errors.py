"""The suite's exceptions: one root, a few flat subclasses named for what went wrong."""

from __future__ import annotations

__all__ = [
    "BaselineError",
    "ConformanceError",
    "HarnessError",
    "RepositoryNotFound",
    "VectorFileError",
]


class ConformanceError(Exception):
    """Root of every error the suite raises on purpose; the CLI prints it as `error: ...`."""


class RepositoryNotFound(ConformanceError):
    """The folder holding `schemas/` and `spec/` (and `vectors/`) could not be located."""


class VectorFileError(ConformanceError):
    """A vector file is unreadable, not valid JSON, or breaks the vector-file schema or rules."""


class HarnessError(ConformanceError):
    """The implementation under test could not be started or did not complete the handshake."""


class BaselineError(ConformanceError):
    """A baseline file is unreadable, malformed, or names a case that does not exist."""
