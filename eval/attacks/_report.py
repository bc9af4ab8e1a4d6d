"""The results as Markdown (the table on the spec site) and the spec-page splice."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ._arms import ARMS

__all__ = ["markdown", "update_spec"]

AIP_ARMS = ("compact", "chained")
SHORT = {"none": "(a) no auth", "jwt": "(b) plain JWT", "draft01": "(c) draft-01 SDK",
         "compact": "(d) AIP compact", "chained": "(e) AIP chained"}


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if value in (0.0, 1.0) else f"{100 * value:.1f}%"


def _cell(arm: str, entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "n/a"
    text = f"{_pct(entry['rejection_rate'])} ({entry['rejected']}/{entry['sent']})"
    if arm in AIP_ARMS:
        text += f", code {_pct(entry['correct_code_rate'])}"
    return text


def markdown(report: dict[str, Any]) -> str:
    cats = report["categories"]
    lines = [
        f"Seed {report['seed']}, {report['per_category']} distinct attempts per category and token mode, "
        f"{len(cats)} categories, delivered over MCP streamable HTTP to each arm that accepts the mode "
        f"({report['seconds']} s). Each cell: rejection rate (rejected/sent); for the AIP arms also the "
        "rate of rejections with the registry code the spec's algorithm names.",
        "",
        "| # | Category | Modes | " + " | ".join(SHORT[a] for a in ARMS) + " |",
        "|---|---|---|" + "---|" * len(ARMS),
    ]
    for n, cat in enumerate(cats, start=1):
        modes = "+".join(m[:2] for m in cat["modes"])
        lines.append(f"| {n} | {cat['title']} | {modes} | "
                     + " | ".join(_cell(a, cat["arms"][a]) for a in ARMS) + " |")
    totals = report["totals"]
    total_cells = []
    for arm in ARMS:
        t = totals[arm]
        cell = f"**{_pct(t['rejection_rate'])}** ({t['rejected']}/{t['sent']})"
        if arm in AIP_ARMS:
            cell += f", code **{_pct(t['correct_code_rate'])}**"
        total_cells.append(cell)
    lines.append("| | **All attempts** | | " + " | ".join(total_cells) + " |")
    lines.append("| | Categories fully rejected | | " + " | ".join(
        f"{totals[a]['categories_fully_rejected']}/{totals[a]['categories']}" for a in ARMS) + " |")
    legit_cells = []
    for arm in ARMS:
        parts = [f"{m[:2]} {s['accepted']}/{s['sent']}" for m, s in report["arms"][arm]["legitimate"].items()]
        legit_cells.append(", ".join(parts))
    lines.append("| | Legitimate calls accepted | | " + " | ".join(legit_cells) + " |")
    lines.append("")
    lines.append("Modes: co = compact token, ch = chained token. n/a: the arm accepts no token of the "
                 "category's modes.")
    failures = report["failures"]
    if failures:
        lines += ["", "AIP-arm attempts accepted or refused with another code than the expected one:", ""]
        for f in failures[:40]:
            lines.append(f"- {f['category']} / {f['arm']} #{f['attempt']} ({f['label']}): expected "
                         f"`{f['expected']}`, got {'**accepted**' if f['accepted'] else '`' + str(f['got']) + '`'}")
    return "\n".join(lines) + "\n"


def update_spec(path: Path, name: str, table: str) -> None:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->``."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        return
    path.write_text(pattern.sub(lambda m: m.group(1) + table + m.group(2), text), encoding="utf-8")
