"""cProfile summaries attached to a missed target: where the time goes, as the JSON can carry it."""
from __future__ import annotations

import pstats
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Frames that only pass the work down (the CLI's entry points, the engine's dispatch, the worker's
# loop): left out of the cumulative view so it starts where the time is actually spent.
_WRAPPERS = ("doc_worker.py", "<frozen", "<string>", "{built-in method builtins.exec}", "cProfile",
             "keyguard/__main__.py", "keyguard/cli.py:", "engine.py:", "policies/__init__.py:")


def _name(func: tuple) -> str:
    filename, line, name = func
    try:
        filename = str(Path(filename).resolve().relative_to(REPO))
    except ValueError:
        if "site-packages/" in filename:
            filename = filename.split("site-packages/", 1)[1]
        elif "/lib/python3" in filename:
            filename = "stdlib/" + filename.split("/lib/python3", 1)[1].split("/", 1)[-1]
    return f"{filename}:{line}({name})" if line else f"{{{name}}}"


def summarize(path: Path, top: int = 12) -> dict:
    """The heaviest functions by cumulative and by own time, with their share of the run."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt or 1e-9  # type: ignore[attr-defined]
    rows = []
    for func, (cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": _name(func), "calls": nc, "own_s": round(tt, 4), "cumulative_s": round(ct, 4),
                     "cumulative_share": round(ct / total, 3)})
    cumulative = [r for r in sorted(rows, key=lambda r: -r["cumulative_s"])
                  if not any(w in r["function"] for w in _WRAPPERS)
                  and r["cumulative_share"] < 0.98][:top]
    own = sorted(rows, key=lambda r: -r["own_s"])[:top]
    return {"profiled_seconds": round(total, 3), "by_cumulative": cumulative, "by_own_time": own}


def headline(summary: dict, count: int = 4) -> str:
    """One line for an explanation: the top cumulative entries and their shares."""
    parts = [f"{r['function']} {r['cumulative_share']:.0%}" for r in summary.get("by_cumulative", [])[:count]]
    own = [f"{r['function']} {r['own_s']:.3f} s" for r in summary.get("by_own_time", [])[:3]]
    return "; ".join(parts) + (f" | most own time: {'; '.join(own)}" if own else "")
