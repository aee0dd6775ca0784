"""The pack's overhead on a real `pulumi preview` of the design, and the offline toolchain's build times.

    .venv/bin/python -m bench.cli [--runs 7] [--cold] [--output bench/results/cli.json]

- preview overhead: median wall time of `pulumi preview` of stack/ with and without
  `--policy-pack policy_pack`, interleaved in the same run on the same stack copy (target <= 0.5 s),
  with the CPU time of each preview's whole process tree beside it (wall medians move with the
  machine's load; CPU time much less), and the phases of one more pair of previews read from the
  CLI's own log (`--logtostderr -v=7`): the pack's spawn to its first answer, the delay before the
  program runs, the Analyze/Remediate calls and AnalyzeStack;
- warm toolchain: median wall time of `toolchain/build.sh` when everything is cached (target < 1 s);
- cold toolchain (`--cold`): one build into an empty cache directory (Go module cache kept; target
  about 10 min on 2 cores). Without `--cold` the figure is not measured.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "toolchain"))

from pulumi_workspace import Workspace, toolchain_env  # noqa: E402
from datetime import datetime  # noqa: E402

OVERHEAD_TARGET = 0.5
WARM_TARGET = 1.0


def timed(cmd: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - start, proc


def build_times(runs: int, cold: bool) -> dict:
    build = ["bash", str(REPO / "toolchain" / "build.sh")]
    result: dict = {}
    if cold:
        with tempfile.TemporaryDirectory(prefix="keyguard-cold-") as cache:
            env = {**os.environ, "KEYGUARD_CACHE_DIR": cache, "GOCACHE": str(Path(cache) / "gocache")}
            seconds, proc = timed(build, env=env)
            if proc.returncode != 0:
                raise SystemExit(f"cold build failed:\n{proc.stderr[-3000:]}")
            result["cold_seconds"] = round(seconds, 1)
    toolchain_env()  # make sure the warm measurement really is warm
    warm = []
    for _ in range(runs):
        seconds, proc = timed(build)
        if proc.returncode != 0:
            raise SystemExit(f"warm build failed:\n{proc.stderr[-3000:]}")
        warm.append(seconds)
    result.update(warm_median_seconds=round(statistics.median(warm), 3), warm_runs=[round(s, 3) for s in warm],
                  warm_target_seconds=WARM_TARGET, warm_met=statistics.median(warm) < WARM_TARGET)
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def preview_overhead(runs: int) -> dict:
    with Workspace(REPO / "stack") as ws:
        ws.preview()  # first run: bytecode caches, pack venv imports
        wall: dict[bool, list[float]] = {True: [], False: []}
        cpu: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(runs):
            for policy in (True, False):
                args = [ws.pulumi_bin, "preview", "--non-interactive"] + (ws.policy_args() if policy else [])
                cpu_before = _children_cpu()
                seconds, proc = timed(args, cwd=ws.dir, env=ws.env)
                if proc.returncode != 0:
                    raise SystemExit(f"preview failed ({'with' if policy else 'without'} the pack):\n"
                                     f"{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
                wall[policy].append(seconds)
                cpu[policy].append(_children_cpu() - cpu_before)
        phases = {}
        for policy in (True, False):
            args = [ws.pulumi_bin, "preview", "--non-interactive", "--logtostderr", "-v=7"] + (ws.policy_args() if policy else [])
            _, proc = timed(args, cwd=ws.dir, env=ws.env)
            phases["with_pack" if policy else "without_pack"] = log_phases(proc.stderr)
    with_pack, without = wall[True], wall[False]
    overhead = statistics.median(with_pack) - statistics.median(without)
    cpu_overhead = statistics.median(cpu[True]) - statistics.median(cpu[False])
    return {"runs": runs, "with_pack_median_seconds": round(statistics.median(with_pack), 3),
            "without_pack_median_seconds": round(statistics.median(without), 3),
            "overhead_seconds": round(overhead, 3), "overhead_target_seconds": OVERHEAD_TARGET,
            "overhead_met": overhead <= OVERHEAD_TARGET,
            "with_pack_runs": [round(s, 3) for s in with_pack], "without_pack_runs": [round(s, 3) for s in without],
            "with_pack_cpu_median_seconds": round(statistics.median(cpu[True]), 3),
            "without_pack_cpu_median_seconds": round(statistics.median(cpu[False]), 3),
            "cpu_overhead_seconds": round(cpu_overhead, 3),
            "phases": phases}


def _log_time(line: str) -> float | None:
    match = re.search(r'"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z"', line)
    if not match:
        return None
    return datetime.fromisoformat(match.group(1) + "+00:00").timestamp() + float(match.group(2) or 0)


def log_phases(log: str) -> dict:
    """Phases of one preview from the CLI's `-v=7` log (seconds; a phase the log lacks is absent)."""
    stamped = [(t, line) for line in log.splitlines() if (t := _log_time(line)) is not None]
    if not stamped:
        return {}

    def first(fragment: str) -> float | None:
        return next((t for t, line in stamped if fragment in line), None)

    out = {"logged_seconds": stamped[-1][0] - stamped[0][0]}
    run = first("langhost[python].Run(")
    if run is not None:
        out["start_to_program_run"] = run - stamped[0][0]
    spawn, ready = first("langhost[python].RunPlugin("), first("Handshake: not supported by '" + str(REPO / "policy_pack"))
    if spawn is not None and ready is not None:
        out["pack_spawn_to_first_answer"] = ready - spawn
    stack_start, stack_end = first("AnalyzeStack(#resources"), first("AnalyzeStack(...) success")
    if stack_start is not None and stack_end is not None:
        out["analyze_stack"] = stack_end - stack_start
    pending: dict[tuple[str, str], float] = {}
    calls = []
    for t, line in stamped:
        match = re.search(r"Analyzer\[[^\]]+\]\.(Analyze|Remediate)\(([^)]*)\) (executing|success)", line)
        if match:
            key = (match.group(1), match.group(2))
            if match.group(3) == "executing":
                pending[key] = t
            elif key in pending:
                calls.append(t - pending.pop(key))
    if calls:
        out.update(analyze_remediate_calls=len(calls), analyze_remediate_seconds=sum(calls),
                   analyze_remediate_max_seconds=max(calls))
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cold", action="store_true", help="also time a cold toolchain build (minutes)")
    parser.add_argument("--output", default=str(REPO / "bench" / "results" / "cli.json"))
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    result = {"toolchain": build_times(5, args.cold), "preview": preview_overhead(args.runs),
              "machine": {"cpus": os.cpu_count(), "load_average_before": load_before, "load_average": os.getloadavg()}}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    p, t = result["preview"], result["toolchain"]
    print(f"pulumi preview of the design, median of {p['runs']}: {p['with_pack_median_seconds']} s with the pack, "
          f"{p['without_pack_median_seconds']} s without: overhead {p['overhead_seconds']} s "
          f"(target <= {OVERHEAD_TARGET} s: {'met' if p['overhead_met'] else 'MISSED'})")
    print(f"CPU time of the preview's process tree, median: {p['with_pack_cpu_median_seconds']} s with the pack, "
          f"{p['without_pack_cpu_median_seconds']} s without: {p['cpu_overhead_seconds']} s more")
    print(f"phases from the CLI's log (one preview each): {json.dumps(p['phases'])}")
    print(f"load average before / after: {result['machine']['load_average_before']} / {result['machine']['load_average']}")
    if "cold_seconds" in t:
        print(f"toolchain cold build: {t['cold_seconds']} s")
    print(f"toolchain reuse (warm build.sh), median: {t['warm_median_seconds']} s "
          f"(target < {WARM_TARGET} s: {'met' if t['warm_met'] else 'MISSED'})")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
