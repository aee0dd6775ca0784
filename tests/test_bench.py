"""The benchmark runs end to end on a tiny size (`python -m bench --quick`) and writes every
figure. No timing is asserted here: the figures of a quick run say nothing about the targets.
The quick run still creates the competitors' virtualenvs (cached under ~/.cache/keyguard) and
runs them on a 40-document corpus, so it needs the package index the first time."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench import agreement, corpus

REPO = Path(__file__).resolve().parent.parent

QUICK_SIZES = (20, 100, 500)
FIGURES = (
    "keyguard_docs_per_second", "parliament_docs_per_second", "parliament_community_docs_per_second",
    "cloudsplaining_docs_per_second", "speedup_vs_parliament", "speedup_vs_parliament_community",
    "speedup_vs_cloudsplaining", "scaling_slope", "scaling_slope_net", "fixed_cost_seconds",
    "parse_floor_seconds", "audit_to_parse_floor_ratio", "audit_to_parse_floor_ratio_net", "peak_rss_mib",
    "pack_startup_seconds", "pack_first_answer_seconds", "pack_first_iam_answer_seconds", "analyze_median_ms",
    "analyze_p99_ms", "analyze_floor_median_ms", "builtin_audit_seconds",
    *(f"audit_seconds_{n}" for n in QUICK_SIZES),
)
TARGETED = ("speedup_vs_parliament", "speedup_vs_cloudsplaining", "scaling_slope", "audit_to_parse_floor_ratio",
            "pack_startup_seconds", "pack_first_answer_seconds", "analyze_median_ms", "builtin_audit_seconds",
            "peak_rss_mib")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("bench") / "latest.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--output", str(output)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done, json.loads(output.read_text()), output


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def test_every_figure_is_written_with_a_number(quick_run):
    _, results, _ = quick_run
    figures = results["figures"]
    missing = [k for k in FIGURES if k not in figures]
    assert not missing, missing
    for key, figure in figures.items():
        assert _numeric(figure["value"]), (key, figure["value"])
        assert figure["label"] and isinstance(figure["context"], str)


def test_targets_are_judged_and_misses_explained(quick_run):
    _, results, _ = quick_run
    figures = results["figures"]
    for key in TARGETED:
        target = figures[key]["target"]
        assert target and target["op"] in (">=", "<=", "<") and _numeric(target["value"]), key
        assert isinstance(figures[key]["met"], bool), key
    for key, figure in figures.items():
        if figure["met"] is False:
            assert key in results["missed"]
            assert figure["explanation"], f"{key} is missed without an explanation"
    assert figures["speedup_vs_parliament"]["target"]["value"] == 10
    assert figures["scaling_slope"]["target"]["value"] == 1.1


def test_agreement_covers_the_shared_categories(quick_run):
    _, results, _ = quick_run
    docs = results["details"]["documents"]
    assert set(docs["tools"]) == {"keyguard", "parliament", "parliament-community", "cloudsplaining"}
    pairs = docs["agreement"]["pairs"]
    assert set(pairs["parliament"]) == {"RESOURCE_STAR", "UNKNOWN_ACTION", "RESOURCE_MISMATCH"}
    assert set(pairs["cloudsplaining"]) == {"WILDCARD_ACTION", "RESOURCE_STAR", "PRIVILEGE_ESCALATION"}
    for pair in pairs.values():
        for cell in pair.values():
            assert cell["both"] + cell["keyguard_only"] + cell["neither"] + cell["skipped"] <= docs["corpus"]["documents"]
            assert 0.0 <= cell["agreement"] <= 1.0


def test_states_cover_each_size_with_the_audit_judging_every_resource(quick_run):
    _, results, _ = quick_run
    sizes = results["details"]["states"]["sizes"]
    assert [int(s) for s in sizes] == list(QUICK_SIZES)
    for size, entry in sizes.items():
        assert entry["resources"] == int(size)
        assert isinstance(entry["audit"]["passed"], bool)


def test_the_table_is_printed(quick_run):
    done, results, output = quick_run
    assert "keyguard benchmark (quick" in done.stdout
    for label in ("keyguard / parliament documents per second", "pack start-up", "Analyze call over gRPC, median",
                  "agreement with keyguard", "recall of the injected traits"):
        assert label in done.stdout, label
    assert str(output) in done.stdout


def test_corpus_is_deterministic_and_mixes_every_trait():
    first, again = corpus.generate(300, seed=7), corpus.generate(300, seed=7)
    assert first == again
    assert corpus.generate(300, seed=8) != first
    counts = corpus.summary(first)
    for trait in agreement.TRAITS:
        assert counts.get(trait, 0) > 0, trait
    assert counts["clean"] > 0
    assert corpus.DEFAULT_COUNT >= 2000
    actions = json.dumps([d["document"] for d in corpus.generate()])
    for needle in ('"*"', "s3:Get*", "s3:GetObjects", "NotAction", "iam:PassRole", "arn:aws:kms:", "arn:aws:s3:::"):
        assert needle in actions, needle


def test_agreement_counts_on_a_toy_example():
    docs = [{"id": "a", "traits": ["unknown_action"]}, {"id": "b", "traits": []}, {"id": "c", "traits": []}]
    result = agreement.compare(docs, {
        "keyguard": [["iam-known-actions"], [], ["iam-known-actions"]],
        "parliament": [["UNKNOWN_PREFIX"], ["UNKNOWN_ACTION"], ["ERROR"]],
    })
    cell = result["pairs"]["parliament"]["UNKNOWN_ACTION"]
    assert (cell["both"], cell["keyguard_only"], cell["parliament_only"], cell["neither"], cell["skipped"]) == (1, 0, 1, 0, 1)
    assert cell["agreement"] == 0.5
    assert result["recall"]["keyguard"]["UNKNOWN_ACTION"] == {"injected": 1, "flagged": 1, "recall": 1.0}


def test_fast_tools_alternate_and_keyguard_runs_under_the_audit_collector(monkeypatch, tmp_path):
    """The best of several runs counts, so the runs alternate (a fast spell of the machine is not
    handed to one tool); keyguard's worker judges under the collector settings of `keyguard audit`."""
    from bench import measurements, venvs
    sys.path.insert(0, str(REPO / "bench" / "workers"))
    try:
        import doc_worker
    finally:
        sys.path.pop(0)
    from keyguard.collector import one_audit
    assert doc_worker._keyguard()[3] is one_audit
    assert doc_worker._audit_collector() is one_audit

    calls = []

    def fake_worker(tool, interpreter, corpus_path, workdir, profile=False, warm=False):
        calls.append((tool, warm))
        return {"version": "1", "documents": 1, "seconds": 1.0, "warm_seconds": 1.0 if warm else None,
                "categories": [[]], "document_seconds": [1.0], "errors": 0, "error_examples": []}

    monkeypatch.setattr(measurements, "run_worker", fake_worker)
    generate = measurements.corpus_mod.generate
    monkeypatch.setattr(measurements.corpus_mod, "generate", lambda count, seed: generate(1, seed))
    monkeypatch.setattr(venvs, "ensure", lambda tool, log: (Path(sys.executable), 0.0))
    measurements.documents(1, 7, tmp_path, None, True, lambda _: None, repeats=3)
    assert calls == [("keyguard", True), ("parliament", True)] * 3 + [
        ("parliament-community", False), ("cloudsplaining", False)]
