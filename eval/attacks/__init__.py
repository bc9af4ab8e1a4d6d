"""The adversarial evaluation: attack categories crafted from primitives, delivered over the
real MCP binding to five arms (no auth, plain JWT, draft-01 SDK, AIP compact, AIP chained).

Run ``python -m eval.attacks``; see ``spec/evaluation.md``."""

from ._categories import CATEGORIES, Category
from ._run import run

__all__ = ["CATEGORIES", "Category", "run"]
