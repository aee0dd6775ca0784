"""Run one IAM linter over the benchmark corpus and report per-document finding categories.

Standalone on purpose: it runs inside each tool's own virtualenv (parliament, cloudsplaining)
or keyguard's, and imports nothing from the benchmark package.

    python doc_worker.py TOOL CORPUS.json OUT.json [--warm] [--profile OUT.prof]

TOOL is keyguard, parliament, parliament-community or cloudsplaining. Each document is handed to
the tool in the form its own CLI or API takes (parliament: the JSON text; cloudsplaining: the
parsed object, as `scan-policy-file` does; keyguard: the JSON text as the `policy` input of an
`aws:iam/policy:Policy`, as a state export holds it), prepared before the clock starts, and
judged under the collector settings `keyguard audit` runs its rules with). One
document is analysed once before timing (imports, catalog indexes) and the clock then covers only
the loop over every document (each document is also timed on its own, for the per-trait
breakdown). Output: {"tool", "version", "documents", "seconds", "categories": [[category, ...]
per document], "document_seconds": [...], "errors": n, "error_examples": [...]}. With --warm
the loop runs a second time and "warm_seconds" is that pass: the same documents with every cache
the tool builds as it goes already built (what a long-running process such as the policy pack
sees), where the first pass is what a one-shot CLI run pays.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import time
import warnings


def _keyguard():
    from importlib.metadata import version

    from keyguard_policies.engine import run_resource_rule
    from keyguard_policies.model import VIOLATION, Resource
    from keyguard_policies.policies import RULES

    names = ("iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-no-not-action-not-resource",
             "iam-known-actions", "iam-action-resource-match", "iam-no-privilege-escalation")
    rules = [(RULES[n], RULES[n].info.defaults()) for n in names]

    def prepare(document, index):
        return Resource(f"urn:pulumi:bench::bench::aws:iam/policy:Policy::doc-{index}",
                        "aws:iam/policy:Policy", {"policy": json.dumps(document)})

    def analyze(resource):
        found = []
        for rule, params in rules:
            for finding in run_resource_rule(rule, resource, params):
                if finding.kind == VIOLATION:
                    found.append(finding.policy)
                else:
                    found.append(f"{finding.policy}:{finding.kind}")
        return found

    return version("keyguard"), prepare, analyze, _audit_collector()


def _audit_collector():
    """The garbage collector's settings `keyguard audit` evaluates rules under (keyguard.collector),
    so the loop measures the rules as the CLI runs them; None where only the rules are installed."""
    try:
        from keyguard.collector import one_audit
    except ImportError:
        return None
    return one_audit


def _parliament(community: bool):
    warnings.simplefilter("ignore")
    import parliament
    from parliament import analyze_policy_string, enhance_finding, override_config
    from parliament.cli import is_finding_filtered

    if community:  # what `parliament --include-community-auditors` does first
        from pathlib import Path
        override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")

    def prepare(document, index):
        return json.dumps(document, indent=2)

    def analyze(text):
        policy = analyze_policy_string(text, include_community_auditors=community)
        # what the CLI does with each finding before printing it (default --minimum_severity LOW)
        return [f.issue for f in map(enhance_finding, policy.findings) if not is_finding_filtered(f, "LOW")]

    return parliament.__version__, prepare, analyze, None


def _cloudsplaining():
    warnings.simplefilter("ignore")
    from importlib.metadata import version

    from cloudsplaining.command.scan_policy_file import scan_policy

    def prepare(document, index):
        return document

    def analyze(document):
        with contextlib.redirect_stdout(io.StringIO()):  # it prints NotAction notes
            results = scan_policy(document)
        return sorted(k for k, v in (results or {}).items() if isinstance(v, dict) and v.get("findings"))

    return version("cloudsplaining"), prepare, analyze, None


def main(argv: list[str]) -> int:
    tool, corpus_path, out_path = argv[:3]
    profile_path = argv[argv.index("--profile") + 1] if "--profile" in argv else None
    with open(corpus_path, encoding="utf-8") as handle:
        corpus = json.load(handle)
    if tool == "keyguard":
        version, prepare, analyze, session = _keyguard()
    elif tool in ("parliament", "parliament-community"):
        version, prepare, analyze, session = _parliament(tool == "parliament-community")
    elif tool == "cloudsplaining":
        version, prepare, analyze, session = _cloudsplaining()
    else:
        print(f"unknown tool {tool!r}", file=sys.stderr)
        return 2
    inputs = [prepare(item["document"], i) for i, item in enumerate(corpus)]

    categories: list[list[str]] = [[] for _ in inputs]
    durations: list[float] = [0.0] * len(inputs)
    errors: list[str] = []
    clock = time.perf_counter

    def loop():
        for i, item in enumerate(inputs):
            started = clock()
            try:
                categories[i] = analyze(item)
            except Exception as err:  # a tool that crashes on a document: counted, not fatal
                categories[i] = ["ERROR"]
                if len(errors) < 5:
                    errors.append(f"{corpus[i]['id']}: {type(err).__name__}: {err}"[:300])
                else:
                    errors.append("")
            durations[i] = clock() - started

    with (session or contextlib.nullcontext)():  # the process settings the tool's own CLI runs under
        with contextlib.suppress(Exception):
            analyze(inputs[0])  # warm-up: imports and lazily built indexes, outside the clock
        started = time.perf_counter()
        loop()
        seconds = time.perf_counter() - started
        timed, timed_errors = list(durations), list(errors)
        warm_seconds = None
        if "--warm" in argv:
            started = time.perf_counter()
            loop()
            warm_seconds = time.perf_counter() - started

    if profile_path:  # a second, profiled pass (not the timed one)
        import cProfile
        profiler = cProfile.Profile()
        profiler.runcall(loop)
        profiler.dump_stats(profile_path)

    result = {"tool": tool, "version": version, "documents": len(inputs), "seconds": seconds,
              "warm_seconds": warm_seconds,
              "categories": [sorted(set(c)) for c in categories], "errors": len(timed_errors),
              "document_seconds": [round(d, 7) for d in timed],
              "error_examples": [e for e in timed_errors if e]}
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
