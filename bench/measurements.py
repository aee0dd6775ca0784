"""The measurements. Every timed command runs in a child process of a fresh measuring process
(workers/measure.py), so wall times include the child's interpreter start-up and peak memory is
the child's own; the benchmark's process only orchestrates."""
from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from . import agreement, corpus as corpus_mod, profiling, venvs

REPO = Path(__file__).resolve().parent.parent
WORKERS = Path(__file__).resolve().parent / "workers"
PACK_DIR = REPO / "policy_pack"
DESIGN_SIZE = 10  # resources the design's program registers


def python() -> str:
    return sys.executable


def keyguard_command() -> list[str]:
    script = Path(sys.executable).with_name("keyguard")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "keyguard"]


class BenchError(RuntimeError):
    pass


# --- child processes ------------------------------------------------------------------------------
def measured(command: list[str], stdout: Path, ok_codes=(0,), timeout: float = 1800) -> dict:
    """Wall time, peak RSS and exit code of `command`, from a fresh measuring process."""
    done = subprocess.run([python(), str(WORKERS / "measure.py"), str(stdout), "--", *command],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if done.returncode != 0:
        raise BenchError(f"measuring {command[0]} failed: {done.stderr.strip()[-1500:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["returncode"] not in ok_codes:
        raise BenchError(f"{' '.join(command)} exited {result['returncode']}: {result['stderr'].strip()[-1500:]}")
    return result


def best_of(command: list[str], stdout: Path, runs: int, ok_codes=(0,)) -> dict:
    results = [measured(command, stdout, ok_codes) for _ in range(max(1, runs))]
    return {"seconds": min(r["seconds"] for r in results), "runs": [round(r["seconds"], 4) for r in results],
            "median_seconds": statistics.median(r["seconds"] for r in results),
            "max_rss_kib": max(r["max_rss_kib"] for r in results)}


# --- documents per second ---------------------------------------------------------------------
def run_worker(tool: str, interpreter: str, corpus_path: Path, workdir: Path, profile: bool = False,
               warm: bool = False) -> dict:
    out = workdir / f"docs-{tool}.json"
    command = [interpreter, str(WORKERS / "doc_worker.py"), tool, str(corpus_path), str(out)]
    prof = workdir / f"docs-{tool}.prof"
    if profile:
        command += ["--profile", str(prof)]
    if warm:
        command += ["--warm"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=workdir)
    if done.returncode != 0:
        raise BenchError(f"the {tool} worker failed: {done.stderr.strip()[-2000:]}")
    result = json.loads(out.read_text())
    if profile:
        result["profile"] = profiling.summarize(prof)
    return result


def by_trait(corpus: list[dict], seconds: list[float]) -> dict[str, dict]:
    """Documents/second over the documents carrying each trait (and the clean ones)."""
    groups: dict[str, list[float]] = {"clean": []}
    for item, s in zip(corpus, seconds):
        if not item["traits"]:
            groups["clean"].append(s)
        for trait in item["traits"]:
            groups.setdefault(trait, []).append(s)
    return {k: {"documents": len(v), "docs_per_second": len(v) / sum(v) if sum(v) else 0.0,
                "slowest_ms": max(v) * 1000 if v else 0.0} for k, v in sorted(groups.items())}


# Fast tools run several times, alternating (each a fresh process, so each first pass is cold), and
# the best run counts, to damp noise from whatever else the machine runs; slow ones run once.
FAST_TOOLS = ("keyguard", "parliament")


def _actions_in(document: dict) -> int:
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    count = 0
    for statement in statements:
        value = statement.get("Action", statement.get("NotAction", []))
        count += 1 if isinstance(value, str) else len(value)
    return count


SIZE_BUCKETS = ((1, 2, "1-2 actions"), (3, 5, "3-5 actions"), (6, 9, "6-9 actions"), (10, 10 ** 9, "10+ actions"))


def by_size(corpus: list[dict], seconds: list[float]) -> dict[str, dict]:
    """Documents/second by how many actions a document names (Action and NotAction entries)."""
    groups: dict[str, list[float]] = {label: [] for _, _, label in SIZE_BUCKETS}
    for item, s in zip(corpus, seconds):
        n = _actions_in(item["document"])
        for low, high, label in SIZE_BUCKETS:
            if low <= n <= high:
                groups[label].append(s)
    return {k: {"documents": len(v), "docs_per_second": len(v) / sum(v) if sum(v) else 0.0}
            for k, v in groups.items() if v}


def documents(count: int, seed: int, workdir: Path, corpus_copy: Path | None, competitors: bool,
              log: Callable[[str], None], repeats: int = 3) -> dict:
    corpus = corpus_mod.generate(count, seed)
    corpus_path = workdir / "corpus.json"
    corpus_mod.write(corpus, corpus_path)
    if corpus_copy is not None:
        shutil.copyfile(corpus_path, corpus_copy)
    tools = [("keyguard", python())]
    setup: dict[str, float] = {}
    if competitors:
        for tool in ("parliament", "cloudsplaining"):
            interpreter, seconds = venvs.ensure(tool, log)
            setup[tool] = round(seconds, 2)
            tools.append((tool, str(interpreter)))
            if tool == "parliament":
                tools.append(("parliament-community", str(interpreter)))
    results, runs = {}, {}
    # the fast tools' runs alternate (keyguard, parliament, keyguard, ...): this machine's speed
    # drifts over minutes, and runs back to back would hand one tool a fast spell and the other a slow one
    fast = [(t, i) for t, i in tools if t in FAST_TOOLS]
    attempts_of: dict[str, list[dict]] = {t: [] for t, _ in tools}
    if fast:
        log(f"documents/second: {', '.join(t for t, _ in fast)} on {count} documents, {repeats} alternating runs each ...")
    for _ in range(repeats):
        for tool, interpreter in fast:
            attempts_of[tool].append(run_worker(tool, interpreter, corpus_path, workdir, warm=True))
    for tool, interpreter in tools:
        if tool not in FAST_TOOLS:
            log(f"documents/second: {tool} on {count} documents ...")
            attempts_of[tool].append(run_worker(tool, interpreter, corpus_path, workdir))
    for tool, _ in tools:
        attempts = attempts_of[tool]
        runs[tool] = [round(a["documents"] / a["seconds"], 1) for a in attempts]
        results[tool] = min(attempts, key=lambda a: a["seconds"])
        if tool in FAST_TOOLS:
            results[tool]["warm_seconds"] = min(a["warm_seconds"] for a in attempts)
    out = {"corpus": {**corpus_mod.summary(corpus), "seed": seed, "path": str(corpus_copy or corpus_path)},
           "venv_setup_seconds": setup, "venv_dir": str(venvs.cache_dir()), "tools": {}}
    for tool, r in results.items():
        out["tools"][tool] = {"version": r["version"], "documents": r["documents"], "seconds": r["seconds"],
                              "docs_per_second": r["documents"] / r["seconds"], "runs_docs_per_second": runs[tool],
                              "warm_docs_per_second": r["documents"] / r["warm_seconds"] if r.get("warm_seconds")
                              else None,
                              "median_document_ms": statistics.median(r["document_seconds"]) * 1000,
                              "errors": r["errors"],
                              "error_examples": r["error_examples"],
                              "by_trait": by_trait(corpus, r["document_seconds"]),
                              "by_size": by_size(corpus, r["document_seconds"]),
                              "findings": _finding_counts(r["categories"])}
    out["agreement"] = agreement.compare(corpus, {t: r["categories"] for t, r in results.items()})
    out["_corpus_path"] = corpus_path
    return out


def _finding_counts(categories: list[list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for found in categories:
        for c in found:
            counts[c] = counts.get(c, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def profile_keyguard_documents(corpus_path: Path, workdir: Path) -> dict:
    return run_worker("keyguard", python(), corpus_path, workdir, profile=True)["profile"]


# --- state exports ----------------------------------------------------------------------------------
def design_resources():
    from keyguard.sources.program import run_program
    return run_program(REPO / "stack")


def write_state(design, resources: int, path: Path) -> dict:
    from keyguard.testing import replicate, state_export
    started = time.perf_counter()
    copies = math.ceil(resources / len(design)) if resources else 0
    replicated = replicate(design, copies)[:resources] if resources else []
    data = state_export(replicated)
    try:
        import orjson
        path.write_bytes(orjson.dumps(data))
    except ImportError:  # pragma: no cover - orjson is a keyguard dependency
        path.write_text(json.dumps(data))
    return {"resources": len(replicated), "bytes": path.stat().st_size,
            "generation_seconds": round(time.perf_counter() - started, 3)}


def _runs_for(size: int, quick: bool) -> int:
    if quick:
        return 2
    return 5 if size <= 10000 else 1


def audit_state(path: Path, runs: int, workdir: Path, expected: int | None) -> dict:
    report = workdir / "report.json"
    result = best_of([*keyguard_command(), "audit", "--state", str(path), "--format", "json"], report, runs,
                     ok_codes=(0, 1))
    if expected is not None:
        summary = json.loads(report.read_text())["summary"]
        if summary["resources"] != expected:
            raise BenchError(f"audit of {path.name} judged {summary['resources']} resources, expected {expected}")
        result["passed"] = summary["passed"]
    return result


def floor(path: Path, runs: int, workdir: Path) -> dict:
    code = "import json, sys\nwith open(sys.argv[1], 'rb') as f: json.load(f)"
    return best_of([python(), "-c", code, str(path)], workdir / "floor.out", runs)


def interpreter_startup(runs: int, workdir: Path) -> dict:
    return best_of([python(), "-c", "pass"], workdir / "startup.out", runs)


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(time) against log(size)."""
    xs = [math.log(s) for s, _ in points]
    ys = [math.log(max(t, 1e-9)) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else float("nan")


def states(sizes: list[int], reference: int, quick: bool, workdir: Path, log) -> dict:
    log("running the design's program under mocks ...")
    design = design_resources()
    out: dict[str, Any] = {"design_resources": len(design), "sizes": {}, "reference_size": reference}
    empty = workdir / "state-0.json"
    write_state(design, 0, empty)
    out["fixed_cost"] = audit_state(empty, 2 if quick else 5, workdir, 0)
    out["interpreter_startup"] = interpreter_startup(3 if quick else 7, workdir)
    for size in sizes:
        path = workdir / f"state-{size}.json"
        log(f"state export of {size:,} resources: generating ...")
        generated = write_state(design, size, path)
        log(f"state export of {size:,} resources ({generated['bytes'] / 1e6:.1f} MB): auditing ...")
        entry = {**generated, "audit": audit_state(path, _runs_for(size, quick), workdir, generated["resources"])}
        if size == reference:
            entry["floor"] = floor(path, 3 if quick else 7, workdir)
            out["reference_path"] = path
        else:
            path.unlink()
        out["sizes"][size] = entry
    return out


def profile_audit(path: Path, workdir: Path) -> dict:
    prof = workdir / "audit.prof"
    subprocess.run([python(), "-m", "cProfile", "-o", str(prof), "-m", "keyguard", "audit", "--state", str(path),
                    "--format", "json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, timeout=1800)
    return profiling.summarize(prof)


# --- the policy pack over gRPC ----------------------------------------------------------------------
def pack_startup(spawns: int) -> dict:
    """Spawn to port, and spawn to the first Analyze answer after the calls the CLI makes first
    (GetAnalyzerInfo, Configure with the merged defaults), for the design's first resource and
    for its IAM policy (the resource whose rules need the IAM catalog)."""
    from keyguard.analyzer_client import PackProcess, merged_config
    design = design_resources()
    iam = next(r for r in design if r.type == "aws:iam/policy:Policy")
    times, first, first_iam = [], [], []
    for _ in range(spawns):
        for subject, bucket in ((design[0], first), (iam, first_iam)):
            with PackProcess(PACK_DIR) as pack:
                request = pack._request(subject)
                pack.info()
                pack.configure(merged_config())
                pack.stub.Analyze(request)
                bucket.append(pack.seconds_since_spawn())
                if subject is design[0]:
                    times.append(pack.startup_seconds)
    return {"median_seconds": statistics.median(times), "runs": [round(t, 4) for t in times],
            "first_answer_median_seconds": statistics.median(first), "first_answer_runs": [round(t, 4) for t in first],
            "first_iam_answer_median_seconds": statistics.median(first_iam),
            "first_iam_answer_runs": [round(t, 4) for t in first_iam]}


def pack_import_profile(top: int = 12) -> dict:
    """`-X importtime` of a pack start-up, until the port is printed: the heaviest imports."""
    process = subprocess.Popen([python(), "-X", "importtime", "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
                               cwd=PACK_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        process.stdout.readline()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        name = parts[2]
        if name.startswith("  "):  # nested: its cost is inside a top-level import's cumulative time
            continue
        rows.append({"module": name.strip(), "cumulative_ms": int(parts[1]) / 1000})
    rows.sort(key=lambda r: -r["cumulative_ms"])
    return {"top_level_imports": rows[:top], "total_import_ms": round(sum(r["cumulative_ms"] for r in rows), 1)}


ANALYZER_FLOOR_DIR = WORKERS / "analyzer_floor"


def analyze_latency(calls: int, pack_dir: Path = PACK_DIR) -> dict:
    """`calls` Analyze calls round-robin over the design's resources, after Configure with the
    merged defaults and 200 untimed calls (channel, lazily built indexes); requests built before
    timing, only the call is timed."""
    from keyguard.analyzer_client import PackProcess, merged_config
    design = design_resources()
    with PackProcess(pack_dir) as pack:
        pack.configure(merged_config())
        requests = [pack._request(r) for r in design]  # built once: only the call is timed
        stub = pack.stub
        for i in range(min(200, calls)):  # warm-up: channel, lazily built indexes
            stub.Analyze(requests[i % len(requests)])
        samples = []
        clock = time.perf_counter_ns
        for i in range(calls):
            request = requests[i % len(requests)]
            started = clock()
            response = stub.Analyze(request)
            samples.append(clock() - started)
        violations = len(response.diagnostics)
    samples.sort()
    ms = [s / 1e6 for s in samples]
    return {"calls": calls, "median_ms": statistics.median(ms), "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
            "mean_ms": statistics.fmean(ms), "max_ms": ms[-1], "resources": len(design),
            "last_response_diagnostics": violations}


def analyze_floor(calls: int) -> dict:
    """`analyze_latency` against a servicer that answers every call with an empty response
    (bench/workers/analyzer_floor): the gRPC round trip of this client and pulumi-policy's server
    alone, the part of the median no change to the pack can remove."""
    return analyze_latency(calls, ANALYZER_FLOOR_DIR)


# --- built-in audit -----------------------------------------------------------------------------------
def builtin_audit(runs: int, workdir: Path) -> dict:
    # exit 1 (the gate fails) is still a complete audit; 2 would be an error and stops the benchmark
    return best_of([*keyguard_command(), "audit"], workdir / "builtin.out", runs, ok_codes=(0, 1))


def profile_builtin(workdir: Path) -> dict:
    prof = workdir / "builtin.prof"
    subprocess.run([python(), "-m", "cProfile", "-o", str(prof), "-m", "keyguard", "audit"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, timeout=600)
    return profiling.summarize(prof)


def environment() -> dict:
    import platform
    from importlib.metadata import version

    def git(*args):
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO, timeout=10).stdout.strip()
        except OSError:
            return ""
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "keyguard": version("keyguard"), "policy_sentry": version("policy_sentry"),
            "pulumi_policy": version("pulumi-policy"), "commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def tempdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="keyguard-bench-"))
