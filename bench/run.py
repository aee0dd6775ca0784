"""`python -m bench`: keyguard's speed against the IAM linters people use, its scaling on state
exports built from the design, and the policy pack's latency. Prints a table and writes every
figure, with its target, whether it is met and (where missed) an explanation backed by a profile,
to a JSON file (default bench/results/latest.json)."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from . import agreement, measurements as m
from .corpus import DEFAULT_COUNT, DEFAULT_SEED

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"
FULL_SIZES = (1000, 10000, 100000)
QUICK_SIZES = (20, 100, 500)
QUICK_DOCUMENTS = 40

# key -> (label, unit, target op, target value); op None: reported without a target
TARGETS: dict[str, tuple[str, str, str | None, float | None]] = {
    "keyguard_docs_per_second": ("keyguard least-privilege rules", "docs/s", None, None),
    "parliament_docs_per_second": ("parliament 1.6.4 (default auditors)", "docs/s", None, None),
    "parliament_community_docs_per_second": ("parliament 1.6.4 (--include-community-auditors)", "docs/s", None, None),
    "cloudsplaining_docs_per_second": ("cloudsplaining 0.9.1 (scan-policy-file)", "docs/s", None, None),
    "speedup_vs_parliament": ("keyguard / parliament documents per second", "x", ">=", 10),
    "speedup_vs_parliament_community": ("keyguard / parliament with community auditors", "x", None, None),
    "speedup_vs_parliament_warm": ("keyguard / parliament, warm second pass (long-running process)", "x", None, None),
    "speedup_vs_cloudsplaining": ("keyguard / cloudsplaining documents per second", "x", ">=", 10),
    "scaling_slope": ("slope of log(audit time) vs log(resources)", "", "<=", 1.1),
    "scaling_slope_net": ("same slope, fixed cost (0-resource audit) subtracted", "", "<=", 1.1),
    "parse_floor_seconds": ("json.load of the reference state, fresh python", "s", None, None),
    "audit_to_parse_floor_ratio": ("reference audit / json.load floor (both incl. interpreter start)", "x", "<=", 5),
    "audit_to_parse_floor_ratio_net": ("same ratio, interpreter start-up subtracted from both", "x", None, None),
    "fixed_cost_seconds": ("audit of a state with 0 resources (start-up + imports)", "s", None, None),
    "pack_startup_seconds": ("pack start-up, spawn to port printed (median)", "s", "<", 0.6),
    "pack_first_answer_seconds": ("pack spawn to first Analyze answer, after GetAnalyzerInfo and Configure (median)",
                                  "s", "<", 0.5),
    "pack_first_iam_answer_seconds": ("the same, first Analyze of the design's IAM policy (median)", "s", None, None),
    "analyze_median_ms": ("Analyze call over gRPC, median", "ms", "<", 1),
    "analyze_p99_ms": ("Analyze call over gRPC, 99th percentile", "ms", None, None),
    "analyze_floor_median_ms": ("the same calls to an empty analyzer served as pulumi-policy serves a pack "
                                "(the gRPC floor), median", "ms", None, None),
    "builtin_audit_seconds": ("`keyguard audit` of the built-in stack (median)", "s", "<", 3),
    "peak_rss_mib": ("peak RSS of the largest audit", "MiB", "<", 1024),
}


class Figures:
    def __init__(self):
        self.items: dict[str, dict[str, Any]] = {}

    def add(self, key: str, value: float, label: str | None = None, unit: str | None = None,
            op: str | None = None, target: float | None = None, context: str = "") -> dict:
        default = TARGETS.get(key, (key, "", None, None))
        label, unit = label or default[0], unit if unit is not None else default[1]
        op, target = (op, target) if op is not None else (default[2], default[3])
        met = None
        if op is not None and target is not None:
            met = {">=": value >= target, "<=": value <= target, "<": value < target}[op]
        self.items[key] = {"label": label, "value": value, "unit": unit,
                           "target": {"op": op, "value": target, "text": f"{op} {target:g}{unit and ' ' + unit}"}
                           if op else None,
                           "met": met, "context": context, "explanation": None, "profile": None}
        return self.items[key]

    def missed(self, key: str) -> bool:
        return self.items.get(key, {}).get("met") is False

    def explain(self, key: str, text: str, profile: dict | None = None) -> None:
        if key in self.items:
            self.items[key]["explanation"] = text
            self.items[key]["profile"] = profile


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"a tiny run ({QUICK_DOCUMENTS} documents, sizes {QUICK_SIZES}, fewer repeats): "
                             "checks the benchmark works; its figures say nothing about the targets")
    parser.add_argument("--sizes", help="comma-separated state-export sizes in resources "
                                        f"(default {','.join(map(str, FULL_SIZES))})")
    parser.add_argument("--documents", type=int, help=f"corpus size (default {DEFAULT_COUNT})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"corpus seed (default {DEFAULT_SEED})")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument("--skip-competitors", action="store_true",
                        help="do not create the parliament/cloudsplaining virtualenvs (offline use); their "
                             "figures are then missing from the results")
    parser.add_argument("--no-profile", action="store_true", help="do not profile missed targets")
    parser.add_argument("--keep-files", action="store_true", help="keep the generated state exports")
    args = parser.parse_args(argv)
    if args.sizes:
        try:
            args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
        except ValueError:
            parser.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
        if len(args.sizes) < 2 or min(args.sizes) < 1:
            parser.error("--sizes needs at least two positive sizes (the slope needs two points)")
    else:
        args.sizes = list(QUICK_SIZES if args.quick else FULL_SIZES)
    args.documents = args.documents or (QUICK_DOCUMENTS if args.quick else DEFAULT_COUNT)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rich.console import Console
    console = Console(width=None if sys.stdout.isatty() else 132, highlight=False)
    err = Console(stderr=True, highlight=False)

    def log(message: str) -> None:
        err.print(f"[dim]bench:[/dim] {message}")

    started = time.perf_counter()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    workdir = m.tempdir()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    figures = Figures()
    details: dict[str, Any] = {}
    try:
        _documents(args, figures, details, workdir, log)
        _states(args, figures, details, workdir, log)
        _pack(args, figures, details, log)
        _builtin(args, figures, details, workdir, log)
    except m.BenchError as error:
        err.print(f"[red]bench: error:[/red] {error}")
        return 1
    finally:
        if args.keep_files:
            log(f"generated files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    results = {
        "benchmark": "keyguard", "mode": _mode(args),
        "environment": {**m.environment(), "load_average_at_start": load_at_start},
        "parameters": {"documents": args.documents, "seed": args.seed, "sizes": args.sizes,
                       "competitors": not args.skip_competitors},
        "duration_seconds": round(time.perf_counter() - started, 1),
        "figures": figures.items,
        "missed": [k for k, f in figures.items.items() if f["met"] is False],
        "details": details,
    }
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    _print(console, results)
    console.print(f"results: {args.output}")
    return 0


def _mode(args) -> str:
    if args.quick:
        return "quick"
    default = (args.sizes == list(FULL_SIZES) and args.documents == DEFAULT_COUNT and args.seed == DEFAULT_SEED
               and not args.skip_competitors)
    return "full" if default else "custom"


# --- sections -----------------------------------------------------------------------------------------
def _documents(args, figures: Figures, details: dict, workdir: Path, log) -> None:
    corpus_copy = args.output.with_name(f"corpus-{args.seed}-{args.documents}.json")
    docs = m.documents(args.documents, args.seed, workdir, corpus_copy, not args.skip_competitors, log,
                       repeats=1 if args.quick else 5)
    corpus_path = docs.pop("_corpus_path")
    details["documents"] = docs
    tools = docs["tools"]
    n = docs["corpus"]["documents"]
    ours = tools["keyguard"]["docs_per_second"]
    def runs(tool: str) -> str:
        r = tools[tool]["runs_docs_per_second"]
        return f"best of {len(r)} runs {r}" if len(r) > 1 else "one run"

    figures.add("keyguard_docs_per_second", ours, context=f"{n} documents, six rules; {runs('keyguard')}; "
                                                          f"median {tools['keyguard']['median_document_ms']:.3f} ms/doc")
    for tool in ("parliament", "parliament-community", "cloudsplaining"):
        if tool not in tools:
            continue
        key = tool.replace("-", "_")
        theirs = tools[tool]["docs_per_second"]
        figures.add(f"{key}_docs_per_second", theirs, context=f"{n} documents, own virtualenv; {runs(tool)}; "
                                                              f"median {tools[tool]['median_document_ms']:.3f} ms/doc")
        figures.add(f"speedup_vs_{key}", ours / theirs, context=f"{ours:,.0f} vs {theirs:,.1f} docs/s, first pass")
    if "parliament" in tools:
        warm_ours, warm_theirs = tools["keyguard"]["warm_docs_per_second"], tools["parliament"]["warm_docs_per_second"]
        figures.add("speedup_vs_parliament_warm", warm_ours / warm_theirs,
                    context=f"second pass in the same process, caches built: {warm_ours:,.0f} vs {warm_theirs:,.0f} docs/s")
    for tool, pair in docs["agreement"]["pairs"].items():
        for category, cell in pair.items():
            figures.add(f"agreement_{tool.replace('-', '_')}_{category.lower()}", cell["agreement"],
                        label=f"agreement keyguard ~ {tool} on {category}", unit="",
                        context=f"both {cell['both']}, keyguard only {cell['keyguard_only']}, "
                                f"{tool} only {cell[tool + '_only']}, neither {cell['neither']}; "
                                f"kappa {cell['kappa']:.2f}")
    missed = [k for k in ("speedup_vs_parliament", "speedup_vs_cloudsplaining") if figures.missed(k)]
    if missed and not args.no_profile:
        log("a documents/second target is missed: profiling keyguard's rules on the corpus ...")
        profile = m.profile_keyguard_documents(corpus_path, workdir)
        details["documents"]["keyguard_profile"] = profile
        slow = sorted(tools["keyguard"]["by_trait"].items(), key=lambda kv: kv[1]["docs_per_second"])[:2]
        for key in missed:
            other = key.removeprefix("speedup_vs_")
            mine_ms, theirs_ms = tools["keyguard"]["median_document_ms"], tools[other]["median_document_ms"]
            warm = figures.items.get(f"speedup_vs_{other}_warm")
            figures.explain(key, f"keyguard judges {ours:,.0f} docs/s, {other} {tools[other]['docs_per_second']:,.1f}: "
                                 f"{figures.items[key]['value']:.1f}x, below 10x. Per-document medians "
                                 f"{mine_ms:.3f} ms vs {theirs_ms:.3f} ms ({theirs_ms / mine_ms:.1f}x)"
                                 + (f"; warm second pass {warm['value']:.1f}x" if warm else "")
                                 + ". By document size (keyguard/" + other + "): "
                                 + ", ".join(f"{label} {v['docs_per_second'] / tools[other]['by_size'][label]['docs_per_second']:.1f}x"
                                             for label, v in tools["keyguard"]["by_size"].items()
                                             if label in tools[other]["by_size"])
                                 + ". Slowest document groups for keyguard: "
                                 + ", ".join(f"{t} {v['docs_per_second']:,.0f}/s" for t, v in slow)
                                 + f". Profile (cumulative): {profiling_headline(profile)}", profile)


def profiling_headline(profile: dict) -> str:
    from .profiling import headline
    return headline(profile, 6)


def _states(args, figures: Figures, details: dict, workdir: Path, log) -> None:
    reference = 10000 if 10000 in args.sizes else args.sizes[len(args.sizes) // 2]
    states = m.states(args.sizes, reference, args.quick, workdir, log)
    reference_path = states.pop("reference_path")
    details["states"] = states
    fixed = states["fixed_cost"]["seconds"]
    startup = states["interpreter_startup"]["seconds"]
    points = []
    for size, entry in states["sizes"].items():
        seconds = entry["audit"]["seconds"]
        points.append((entry["resources"], seconds))
        figures.add(f"audit_seconds_{size}", seconds, label=f"`keyguard audit --state` at {size:,} resources",
                    unit="s", context=f"best of {len(entry['audit']['runs'])}: {entry['audit']['runs']}; "
                                      f"{entry['bytes'] / 1e6:.1f} MB")
    figures.add("fixed_cost_seconds", fixed, context="best of runs; included in every audit time")
    figures.add("scaling_slope", m.slope(points), context=f"sizes {args.sizes}, raw wall times")
    net_points = [(s, max(t - fixed, 1e-3)) for s, t in points]
    figures.add("scaling_slope_net", m.slope(net_points), context=f"fixed cost {fixed:.3f} s subtracted")
    ref = states["sizes"][reference]
    floor_s = ref["floor"]["seconds"]
    audit_s = ref["audit"]["seconds"]
    figures.add("parse_floor_seconds", floor_s, context=f"{reference:,} resources, {ref['bytes'] / 1e6:.1f} MB; "
                                                        "includes interpreter start-up")
    figures.add("audit_to_parse_floor_ratio", audit_s / floor_s,
                context=f"{audit_s:.3f} s / {floor_s:.3f} s at {reference:,} resources; interpreter start-up "
                        f"({startup:.3f} s) included in both")
    figures.add("audit_to_parse_floor_ratio_net", (audit_s - startup) / max(floor_s - startup, 1e-6),
                context=f"({audit_s:.3f} - {startup:.3f}) / ({floor_s:.3f} - {startup:.3f})")
    largest = max(states["sizes"])
    rss = states["sizes"][largest]["audit"]["max_rss_kib"] / 1024
    figures.add("peak_rss_mib", rss, context=f"{largest:,} resources, max RSS of the keyguard process")

    missed = [k for k in ("scaling_slope", "scaling_slope_net", "audit_to_parse_floor_ratio") if figures.missed(k)]
    if missed and not args.no_profile:
        log(f"a scaling target is missed: profiling the {reference:,}-resource audit ...")
        profile = m.profile_audit(reference_path, workdir)
        details["states"]["reference_profile"] = profile
        for key in missed:
            value = figures.items[key]["value"]
            what = {"scaling_slope": f"time grows as size^{value:.2f}",
                    "scaling_slope_net": f"past the fixed cost, time grows as size^{value:.2f}",
                    "audit_to_parse_floor_ratio": f"the {reference:,}-resource audit takes {value:.1f}x parsing it"}[key]
            figures.explain(key, f"{what}; fixed cost {fixed:.3f} s (interpreter {startup:.3f} s). Profile of the "
                                 f"{reference:,}-resource audit (cumulative): {profiling_headline(profile)}", profile)
    if figures.missed("peak_rss_mib"):
        figures.explain("peak_rss_mib", f"{rss:.0f} MiB at {largest:,} resources; "
                                        f"{states['sizes'][largest]['bytes'] / 1e6:.0f} MB of state export")


def _pack(args, figures: Figures, details: dict, log) -> None:
    spawns = 3 if args.quick else 7
    log(f"pack start-up: {spawns} spawns ...")
    startup = m.pack_startup(spawns)
    calls = 200 if args.quick else 2000
    log(f"Analyze latency: {calls} calls ...")
    latency = m.analyze_latency(calls)
    floor = m.analyze_floor(calls)
    details["pack"] = {"startup": startup, "analyze": latency, "analyze_floor": floor}
    figures.add("pack_startup_seconds", startup["median_seconds"], context=f"median of {startup['runs']}")
    figures.add("pack_first_answer_seconds", startup["first_answer_median_seconds"],
                context=f"median of {startup['first_answer_runs']}")
    figures.add("pack_first_iam_answer_seconds", startup["first_iam_answer_median_seconds"],
                context=f"median of {startup['first_iam_answer_runs']}")
    figures.add("analyze_median_ms", latency["median_ms"],
                context=f"{calls} calls over the design's {latency['resources']} resources")
    figures.add("analyze_p99_ms", latency["p99_ms"], context=f"mean {latency['mean_ms']:.3f} ms, max {latency['max_ms']:.2f} ms")
    figures.add("analyze_floor_median_ms", floor["median_ms"], context=f"p99 {floor['p99_ms']:.3f} ms")
    if figures.missed("pack_startup_seconds") and not args.no_profile:
        profile = m.pack_import_profile()
        details["pack"]["startup_imports"] = profile
        heavy = ", ".join(f"{r['module']} {r['cumulative_ms']:.0f} ms" for r in profile["top_level_imports"][:6])
        figures.explain("pack_startup_seconds", f"median {startup['median_seconds']:.3f} s; imports before the "
                                                f"port is printed take {profile['total_import_ms']:.0f} ms: {heavy}",
                        profile)
    if figures.missed("pack_first_answer_seconds"):
        figures.explain("pack_first_answer_seconds",
                        f"spawn to port {startup['median_seconds']:.3f} s of it (median; runs "
                        f"{startup['first_answer_runs']}); before the port, `python -m pulumi.policy` imports the "
                        "pulumi SDK (about 80% of the import time: pack_import_profile), then the pack's modules")
    if figures.missed("analyze_median_ms"):
        figures.explain("analyze_median_ms", f"median {latency['median_ms']:.3f} ms over {calls} calls, of which "
                                             f"the gRPC round trip alone (an empty analyzer served the same way) "
                                             f"takes {floor['median_ms']:.3f} ms")


def _builtin(args, figures: Figures, details: dict, workdir: Path, log) -> None:
    runs = 1 if args.quick else 3
    log(f"built-in `keyguard audit`: {runs} run(s) ...")
    result = m.builtin_audit(runs, workdir)
    details["builtin_audit"] = result
    figures.add("builtin_audit_seconds", result["median_seconds"], context=f"runs {result['runs']}")
    if figures.missed("builtin_audit_seconds") and not args.no_profile:
        profile = m.profile_builtin(workdir)
        details["builtin_audit"]["profile"] = profile
        figures.explain("builtin_audit_seconds", f"median {result['median_seconds']:.2f} s. Profile (cumulative): "
                                                 f"{profiling_headline(profile)}", profile)


# --- output -------------------------------------------------------------------------------------------
def _fmt(value: float, unit: str) -> str:
    if unit == "docs/s":
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    if unit == "x":
        return f"{value:,.1f}x"
    if unit == "":
        return f"{value:.3f}"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:.3f} {unit}" if value < 10 else f"{value:.1f} {unit}"


def _print(console, results: dict) -> None:
    from rich.table import Table
    figures = results["figures"]
    table = Table(title=f"keyguard benchmark ({results['mode']}, {results['duration_seconds']:.0f} s, "
                        f"{results['environment']['cpus']} CPUs, Python {results['environment']['python']})",
                  title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_column("met", justify="center")
    table.add_column("context", overflow="fold")
    for key, f in figures.items():
        if key.startswith("agreement_"):
            continue
        met = {True: "[green]yes[/green]", False: "[red]NO[/red]", None: "-"}[f["met"]]
        table.add_row(f["label"], _fmt(f["value"], f["unit"]), f["target"]["text"] if f["target"] else "",
                      met, f["context"])
    console.print(table)

    docs = results["details"]["documents"]
    if docs["agreement"]["pairs"]:
        agree = Table(title="agreement with keyguard on shared categories (documents)", title_justify="left")
        for column in ("tool", "category", "both", "keyguard only", "tool only", "neither", "agreement", "kappa"):
            agree.add_column(column, justify="left" if column in ("tool", "category") else "right")
        for tool, pair in docs["agreement"]["pairs"].items():
            for category, c in pair.items():
                agree.add_row(tool, category, str(c["both"]), str(c["keyguard_only"]), str(c[f"{tool}_only"]),
                              str(c["neither"]), f"{c['agreement']:.1%}", f"{c['kappa']:.2f}")
        console.print(agree)
    recall = Table(title="recall of the injected traits", title_justify="left")
    recall.add_column("category")
    tools = list(docs["agreement"]["recall"])
    for tool in tools:
        recall.add_column(tool, justify="right")
    for trait, category in agreement.TRAITS.items():
        row = [f"{category} ({docs['corpus'].get(trait, 0)} docs)"]
        for tool in tools:
            r = docs["agreement"]["recall"][tool].get(category)
            row.append(f"{r['recall']:.0%}" if r else "-")
        recall.add_row(*row)
    console.print(recall)
    for key in results["missed"]:
        console.print(f"[red]missed[/red] {key}: {figures[key]['explanation'] or ''}")
