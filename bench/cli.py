"""The pack's overhead on a real `pulumi preview` of the design, and the offline toolchain's build times.

    .venv/bin/python -m bench.cli [--runs 7] [--cold] [--output bench/results/cli.json]

- preview overhead: median wall time of `pulumi preview` of stack/ with and without
  `--policy-pack policy_pack`, interleaved in the same run on the same stack copy (target <= 0.5 s);
- warm toolchain: median wall time of `toolchain/build.sh` when everything is cached (target < 1 s);
- cold toolchain (`--cold`): one build into an empty cache directory (Go module cache kept; target
  about 10 min on 2 cores). Without `--cold` the figure is not measured.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "toolchain"))

from pulumi_workspace import Workspace, toolchain_env  # noqa: E402

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


def preview_overhead(runs: int) -> dict:
    with Workspace(REPO / "stack") as ws:
        ws.preview()  # first run: bytecode caches, pack venv imports
        with_pack, without = [], []
        for _ in range(runs):
            for policy, bucket in ((True, with_pack), (False, without)):
                args = [ws.pulumi_bin, "preview", "--non-interactive"] + (ws.policy_args() if policy else [])
                seconds, proc = timed(args, cwd=ws.dir, env=ws.env)
                if proc.returncode != 0:
                    raise SystemExit(f"preview failed ({'with' if policy else 'without'} the pack):\n"
                                     f"{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
                bucket.append(seconds)
    overhead = statistics.median(with_pack) - statistics.median(without)
    return {"runs": runs, "with_pack_median_seconds": round(statistics.median(with_pack), 3),
            "without_pack_median_seconds": round(statistics.median(without), 3),
            "overhead_seconds": round(overhead, 3), "overhead_target_seconds": OVERHEAD_TARGET,
            "overhead_met": overhead <= OVERHEAD_TARGET,
            "with_pack_runs": [round(s, 3) for s in with_pack], "without_pack_runs": [round(s, 3) for s in without]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cold", action="store_true", help="also time a cold toolchain build (minutes)")
    parser.add_argument("--output", default=str(REPO / "bench" / "results" / "cli.json"))
    args = parser.parse_args(argv)
    result = {"toolchain": build_times(5, args.cold), "preview": preview_overhead(args.runs),
              "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()}}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    p, t = result["preview"], result["toolchain"]
    print(f"pulumi preview of the design, median of {p['runs']}: {p['with_pack_median_seconds']} s with the pack, "
          f"{p['without_pack_median_seconds']} s without: overhead {p['overhead_seconds']} s "
          f"(target <= {OVERHEAD_TARGET} s: {'met' if p['overhead_met'] else 'MISSED'})")
    if "cold_seconds" in t:
        print(f"toolchain cold build: {t['cold_seconds']} s")
    print(f"toolchain reuse (warm build.sh), median: {t['warm_median_seconds']} s "
          f"(target < {WARM_TARGET} s: {'met' if t['warm_met'] else 'MISSED'})")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
