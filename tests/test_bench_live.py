"""`python -m bench.live --quick` runs end to end against a moto server of its own and writes its
figures (the design's live audit and discovery at two sizes). Speed is reported, never asserted."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_live_bench_quick_run_writes_its_figures(tmp_path):
    output = tmp_path / "live.json"
    done = subprocess.run([sys.executable, "-m", "bench.live", "--quick", "--output", str(output)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(output.read_text())
    design = results["design"]
    assert design["passed"] is True and design["drift"] == 0 and design["vault"] is False
    assert design["resources"] == 6 and design["seconds"] > 0
    assert [p["buckets_and_keys"] for p in results["discovery"]] == [5, 15]
    for point in results["discovery"]:
        # every bucket, its encryption configuration and every key
        assert point["resources_judged"] == 3 * point["buckets_and_keys"]
        assert point["violations"] == {"mandatory": 0, "advisory": point["violations"]["advisory"]}
    assert set(results["figures"]) == {"live_design_seconds", "live_discovery_seconds"}
    assert results["figures"]["live_discovery_seconds"]["met"] is None   # quick sizes say nothing of the target
    assert "discovery (buckets + keys each):" in done.stdout
