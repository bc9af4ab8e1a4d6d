"""The performance table, in one command (issue 7, item 2):

    .venv/bin/python -m eval.perf [--quick] [--runs N] [--number N] [--mcp-calls N]

Measures compact mode (sizes; issue, proof, verify, verify with the invocation proof), chained
mode at depths 0..8 (sizes; issue; verify with and without the invocation block) and the MCP
round trip with the real SDK, each as a ratio to a baseline measured in the same run (raw
Ed25519 verify; bare biscuit-python parse + authorize of the same token; the no-auth round
trip). Writes ``eval/results/perf.json``, ``perf.md`` and ``perf_chained.png``, and the site
page ``spec/evaluation-performance.md`` (with the plot copied to ``spec/img/``).

Nothing here asserts a time: the figures are printed and written, never tested.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from .mcp import McpResult, measure_mcp
from .measure import ChainedRow, CompactResult, Figure, measure_chained, measure_compact

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "eval" / "results"
SITE_PAGE = ROOT / "spec" / "evaluation-performance.md"
SITE_IMG = ROOT / "spec" / "img"

# The earlier draft's published figures (Apple M3 Max, its own toy HTTP handler).
PAPER = {
    "compact_token_bytes": 356, "compact_create_ms": 0.086, "compact_verify_ms": 0.189,
    "chained_bytes_d0_d5": [444, 2196], "chained_verify_ms_d0_d5": [0.110, 0.447],
    "http_added_ms": 0.22, "http_no_auth_ms": 0.30,
}
TARGETS = {"compact first-sight verify / raw Ed25519": 1.3,
           "chained verify + invocation / bare biscuit": 1.5}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0], "platform": platform.platform(),
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "packages": {p: _version(p) for p in ("cryptography", "biscuit-python", "pyjwt", "mcp",
                                              "uvicorn", "aip-reference")},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _ms(us: float) -> str:
    return f"{us / 1000:.3f}"


def _spread(fig: Figure) -> str:
    return f"{fig.p10_us:.1f}–{fig.p90_us:.1f}"


def _ratio(fig: Figure, base: Figure) -> float:
    return fig.median_us / base.median_us


# --- report -----------------------------------------------------------------------------------

def to_json(compact: CompactResult, chained: list[ChainedRow], mcp: McpResult | None,
            settings: dict[str, Any]) -> dict[str, Any]:
    base = compact.figures["raw Ed25519 verify"]
    out: dict[str, Any] = {
        "environment": _environment(), "settings": settings, "paper": PAPER,
        "compact": {
            "token_bytes": compact.token_bytes, "proof_bytes": compact.proof_bytes,
            "baseline": "raw Ed25519 verify",
            "measures": {name: {**fig.to_json(), "ratio": round(_ratio(fig, base), 3),
                                "signatures": compact.signatures[name]}
                         for name, fig in compact.figures.items()},
        },
        "chained": [],
    }
    for row in chained:
        figs = row.figures
        out["chained"].append({
            "depth": row.depth, "token_chars": row.chars, "token_bytes": row.raw_bytes,
            "invoked_token_chars": row.invoked_chars, "invoked_token_bytes": row.invoked_raw_bytes,
            "measures": {name: fig.to_json() for name, fig in figs.items()},
            "ratio_verify": round(_ratio(figs["verify (chain)"], figs["bare biscuit (chain)"]), 3),
            "ratio_verify_invocation": round(_ratio(
                figs["verify + invocation (bound to the request)"],
                figs["bare biscuit (invoked)"]), 3),
        })
    if mcp is not None:
        none = mcp.figures["no auth"]
        out["mcp"] = {"calls_per_variant": mcp.calls, "baseline": "no auth",
                      "variants": {name: {**fig.to_json(),
                                          "added_us": round(fig.median_us - none.median_us, 1),
                                          "ratio": round(_ratio(fig, none), 3)}
                                   for name, fig in mcp.figures.items()}}
    return out


def tables(data: dict[str, Any]) -> str:
    """The Markdown tables of a result (shared by perf.md and the site page)."""
    c = data["compact"]
    lines = [
        "### Compact mode",
        "",
        f"Token {c['token_bytes']} bytes, invocation proof {c['proof_bytes']} bytes. "
        "Baseline: one raw Ed25519 verification (`cryptography`) of the token's signing input.",
        "",
        "| measure | median (µs) | p10–p90 (µs) | ratio to raw Ed25519 verify | "
        "Ed25519 operations |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, m in c["measures"].items():
        lines.append(f"| {name} | {m['median_us']:.1f} | {m['p10_us']:.1f}–{m['p90_us']:.1f} | "
                     f"{m['ratio']:.2f}x | {m['signatures']} |")
    lines += [
        "",
        "### Chained mode, depths 0..8",
        "",
        "Depth counts delegation blocks. *Chain*: block 0 plus the delegation blocks; *invoked*: "
        "the same chain plus the invocation block, verified against the request received "
        "(audience, operation, tool, argument digest). Baseline: bare biscuit-python "
        "`Biscuit.from_bytes` (every signature) plus an authorizer with `allow if true` over "
        "the same bytes. Times are medians in µs (p10–p90 in the JSON).",
        "",
        "| depth | chain (chars) | invoked (chars) | bare biscuit, chain | AIP verify, chain | "
        "ratio | bare biscuit, invoked | AIP verify + invocation | ratio | issue (append "
        "block) | append invocation |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["chained"]:
        m = r["measures"]
        lines.append(
            f"| {r['depth']} | {r['token_chars']} | {r['invoked_token_chars']} | "
            f"{m['bare biscuit (chain)']['median_us']:.0f} | "
            f"{m['verify (chain)']['median_us']:.0f} | {r['ratio_verify']:.2f}x | "
            f"{m['bare biscuit (invoked)']['median_us']:.0f} | "
            f"{m['verify + invocation (bound to the request)']['median_us']:.0f} | "
            f"{r['ratio_verify_invocation']:.2f}x | "
            f"{m['issue (mint or append a delegation)']['median_us']:.0f} | "
            f"{m['append the invocation block']['median_us']:.0f} |")
    if "mcp" in data:
        mc = data["mcp"]
        lines += [
            "",
            "### MCP round trip",
            "",
            f"`tools/call` over streamable HTTP with the `mcp` SDK (client and server, uvicorn on "
            f"loopback), {mc['calls_per_variant']} calls per variant, interleaved in rounds. "
            "Client work (the proof, or the invocation block) is included.",
            "",
            "| variant | median (ms) | p10–p90 (ms) | added (ms) | ratio to no auth |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, v in mc["variants"].items():
            lines.append(f"| {name} | {_ms(v['median_us'])} | {_ms(v['p10_us'])}–"
                         f"{_ms(v['p90_us'])} | {_ms(v['added_us'])} | {v['ratio']:.3f}x |")
    return "\n".join(lines) + "\n"


def paper_table(data: dict[str, Any]) -> str:
    c = data["compact"]["measures"]
    ch = {r["depth"]: r for r in data["chained"]}
    p = data["paper"]
    rows = [
        ("compact token size", f"{p['compact_token_bytes']} B",
         f"{data['compact']['token_bytes']} B",
         "adds `aud`, `jti`, `kid`, `typ`; an `aip:web` issuer"),
        ("compact create", f"{p['compact_create_ms']} ms", f"{_ms(c['issue token']['median_us'])} ms",
         f"{c['issue token']['ratio']:.2f}x raw verify"),
        ("compact verify", f"{p['compact_verify_ms']} ms",
         f"{_ms(c['verify (first sight)']['median_us'])} ms",
         f"first sight, {c['verify (first sight)']['ratio']:.2f}x raw verify"),
        ("compact verify + invocation proof", "not measured",
         f"{_ms(c['verify + proof (invocation binding)']['median_us'])} ms",
         f"{c['verify + proof (invocation binding)']['ratio']:.2f}x raw verify (2 signatures)"),
    ]
    if 0 in ch and 5 in ch:
        rows += [
            ("chained size, depth 0 → 5",
             f"{p['chained_bytes_d0_d5'][0]} → {p['chained_bytes_d0_d5'][1]} B",
             f"{ch[0]['token_chars']} → {ch[5]['token_chars']} B",
             "base64url as sent; every delegation block is a third-party block"),
            ("chained verify, depth 0 → 5",
             f"{p['chained_verify_ms_d0_d5'][0]} → {p['chained_verify_ms_d0_d5'][1]} ms",
             f"{_ms(ch[0]['measures']['verify (chain)']['median_us'])} → "
             f"{_ms(ch[5]['measures']['verify (chain)']['median_us'])} ms",
             f"{ch[0]['ratio_verify']:.2f}x → {ch[5]['ratio_verify']:.2f}x bare biscuit"),
        ]
    if "mcp" in data:
        v = data["mcp"]["variants"]
        rows.append(("added to a round trip", f"+{p['http_added_ms']} ms on {p['http_no_auth_ms']} ms "
                     "(stdlib HTTP handler)",
                     f"+{_ms(v['AIP compact + proof']['added_us'])} ms on "
                     f"{_ms(v['no auth']['median_us'])} ms",
                     f"real MCP SDK; compact + proof, "
                     f"{v['AIP compact + proof']['ratio']:.3f}x"))
    lines = ["| figure | earlier draft (published) | this run | note |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c_} | {d} |" for a, b, c_, d in rows]
    return "\n".join(lines) + "\n"


def _environment_line(data: dict[str, Any]) -> str:
    env = data["environment"]
    pk = env["packages"]
    return (f"Python {env['python']} on {env['platform']} ({env['cpus']} CPUs); cryptography "
            f"{pk['cryptography']}, biscuit-python {pk['biscuit-python']}, mcp {pk['mcp']}; "
            f"{env['date']}.")


def write_markdown(data: dict[str, Any], path: Path) -> None:
    s = data["settings"]
    text = [
        "# Performance (generated by `make eval-perf`)",
        "",
        "Generated by `python -m eval.perf`; do not edit. " + _environment_line(data),
        f"Settings: {s['runs']} samples of {s['number']} calls (compact), {s['chained_runs']} "
        f"samples of {s['chained_number']} calls (chained), interleaved with their baselines; "
        "medians and p10–p90 of the samples.",
        "",
        "## Against the earlier draft's figures",
        "",
        paper_table(data),
        "Absolute times depend on the machine (the draft used an Apple M3 Max); the ratios to "
        "the baselines measured in the same run are the portable figures.",
        "",
        "## Tables",
        "",
        tables(data),
        "![chained verify time vs depth](perf_chained.png)",
        "",
    ]
    path.write_text("\n".join(text), encoding="utf-8")


def write_site_page(data: dict[str, Any], path: Path) -> None:
    text = [
        "# Evaluation: performance",
        "",
        "*Informative.* This page reports measurements of the reference implementation; it "
        "states no requirement. The figures are regenerated by one command, `make eval-perf` "
        "(`python -m eval.perf`), which also writes `eval/results/perf.json` and "
        "`eval/results/perf.md`.",
        "",
        "## Method",
        "",
        "- Every figure is a ratio to a baseline measured in the same run on the same machine: "
        "one raw Ed25519 verification for compact mode, bare biscuit-python parse + authorize "
        "of the same token bytes for chained mode, and an MCP round trip without "
        "authentication for the transport overhead.",
        "- Subjects and baselines run interleaved in batches; a sample is the mean time per "
        "call over a batch; tables give medians, the JSON adds p10, p90 and quartiles.",
        "- \"First sight\" means the verifier has never seen the token's bytes before, so none "
        "of its memoised decoding applies; signatures, trust, keys, time, audience, proof, scope "
        "and replay are checked on every call whatever was seen before.",
        "- The MCP figures use the real `mcp` SDK for client and server, over streamable HTTP "
        "on loopback, and include the client's work (the proof or the invocation block).",
        "- " + _environment_line(data),
        "",
        "## Against the earlier draft",
        "",
        paper_table(data),
        "## Tables",
        "",
        tables(data),
        "## Chained verification time against depth",
        "",
        "![Chained verify time against depth, AIP against bare biscuit-python]"
        "(img/perf_chained.png)",
        "",
    ]
    path.write_text("\n".join(text), encoding="utf-8")


def plot(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depths = [r["depth"] for r in data["chained"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = [("bare biscuit (invoked)", "bare biscuit-python parse + authorize", "tab:gray", "s"),
              ("verify + invocation (bound to the request)", "AIP verify + invocation",
               "tab:blue", "o"),
              ("verify (chain)", "AIP verify, chain only", "tab:green", "^")]
    for key, label, color, marker in series:
        med = [r["measures"][key]["median_us"] / 1000 for r in data["chained"]]
        lo = [m - r["measures"][key]["p10_us"] / 1000 for m, r in zip(med, data["chained"],
                                                                      strict=True)]
        hi = [r["measures"][key]["p90_us"] / 1000 - m for m, r in zip(med, data["chained"],
                                                                      strict=True)]
        left.errorbar(depths, med, yerr=[lo, hi], label=label, color=color, marker=marker,
                      capsize=3)
    left.set_xlabel("delegation depth")
    left.set_ylabel("verify time (ms, median, p10–p90)")
    left.set_title("Chained verify time")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    right.plot(depths, [r["ratio_verify_invocation"] for r in data["chained"]], "o-",
               color="tab:blue", label="AIP verify + invocation / bare biscuit")
    right.plot(depths, [r["ratio_verify"] for r in data["chained"]], "^-", color="tab:green",
               label="AIP verify (chain) / bare biscuit")
    right.axhline(1.0, color="tab:gray", linewidth=1)
    right.set_xlabel("delegation depth")
    right.set_ylabel("ratio of medians")
    right.set_ylim(bottom=0)
    right.set_title("Cost over bare biscuit-python")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.perf",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=31, help="compact samples per subject")
    parser.add_argument("--number", type=int, default=200, help="compact calls per sample")
    parser.add_argument("--chained-runs", type=int, default=15)
    parser.add_argument("--chained-number", type=int, default=20)
    parser.add_argument("--max-depth", type=int, default=8)
    parser.add_argument("--mcp-calls", type=int, default=200, help="calls per variant per round")
    parser.add_argument("--mcp-rounds", type=int, default=3)
    parser.add_argument("--no-mcp", action="store_true", help="skip the MCP round trip")
    parser.add_argument("--quick", action="store_true", help="few samples (a smoke run)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-site", action="store_true", help="do not write the site page")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.number, args.chained_runs, args.chained_number = 5, 20, 5, 3
        args.mcp_calls, args.mcp_rounds = 20, 1
    settings = {k: getattr(args, k) for k in ("runs", "number", "chained_runs", "chained_number",
                                              "max_depth", "mcp_calls", "mcp_rounds", "quick")}
    t0 = time.perf_counter()
    print("compact ...", flush=True)
    compact = measure_compact(runs=args.runs, number=args.number)
    print("chained ...", flush=True)
    chained = measure_chained(runs=args.chained_runs, number=args.chained_number,
                              depths=range(args.max_depth + 1))
    mcp = None
    if not args.no_mcp:
        print("mcp ...", flush=True)
        mcp = measure_mcp(calls=args.mcp_calls, rounds=args.mcp_rounds)
    data = to_json(compact, chained, mcp, settings)
    data["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "perf.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    plot(data, args.out / "perf_chained.png")
    write_markdown(data, args.out / "perf.md")
    if not args.no_site:
        SITE_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.out / "perf_chained.png", SITE_IMG / "perf_chained.png")
        write_site_page(data, SITE_PAGE)
    print(paper_table(data))
    print(tables(data))
    print(f"written: {args.out}/perf.json, perf.md, perf_chained.png"
          + ("" if args.no_site else f"; {SITE_PAGE.relative_to(ROOT)}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
