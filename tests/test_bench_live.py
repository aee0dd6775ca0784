"""`python -m bench.live --quick` runs end to end against a moto server of its own and writes its
figures (the live audit of the stack's AWS resources as `pulumi up` deployed them, and discovery at
two sizes). Speed is reported, never asserted. It needs the offline Pulumi toolchain: reused when
built, else built here (several minutes cold, hence the long timeout)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(1800)
def test_live_bench_quick_run_writes_its_figures(tmp_path):
    output = tmp_path / "live.json"
    done = subprocess.run([sys.executable, "-m", "bench.live", "--quick", "--output", str(output)], cwd=REPO,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(output.read_text())
    design = results["design"]
    assert design["passed"] is True and design["drift"] == 0 and design["vault"] is False
    # the program's AWS resources (no Vault): key, alias, bucket, its encryption, public access block,
    # ownership controls and the boundary policy (the TLS-only bucket policy is off on moto)
    assert design["resources"] == 7 and design["seconds"] > 0 and design["deployed_by"] == "pulumi up"
    assert [p["buckets_and_keys"] for p in results["discovery"]] == [5, 15]
    for point in results["discovery"]:
        # every bucket, its encryption configuration and every key
        assert point["resources_judged"] == 3 * point["buckets_and_keys"]
        assert point["violations"] == {"mandatory": 0, "advisory": point["violations"]["advisory"]}
    assert set(results["figures"]) == {"live_design_seconds", "live_discovery_seconds"}
    assert results["figures"]["live_discovery_seconds"]["met"] is None   # quick sizes say nothing of the target
    assert "discovery (buckets + keys each):" in done.stdout
