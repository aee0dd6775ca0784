"""Helpers of the real-CLI tests: the toolchain (toolchain/pulumi_workspace.py, the code behind
`make preview`), mutated copies of the stack, and the CLI's policy verdicts read from its output.

Only exit codes and the `[mandatory]` / `[advisory]` lines are matched, never the whole output: the
CLI's layout and its diagnostics (a KeyboardInterrupt traceback when the engine cancels a blocked
program) vary between runs."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "toolchain"))

import pulumi_workspace  # noqa: E402  (toolchain/ is not a package)
from pulumi_workspace import SetupError, Workspace  # noqa: E402,F401

STACK = REPO / "stack"

#: `- [mandatory] [severity: high]  s3-bucket-sse-kms-cmk  (aws:s3:BucketServerSideEncryptionConfiguration: ai-app-data-encryption)`
#: (a stack-level violation has no resource clause: its resource is "")
VERDICT = re.compile(r"\[(mandatory|advisory|remediate)\](?:\s+\[severity:\s*\w+\])?\s+([a-z0-9-]+)"
                     r"(?:[ \t]+\(([^()\n]*?):\s+([^():\n]+)\))?")
CANNOT_BE_KNOWN = "can't be known"


def prepare_toolchain() -> dict[str, str]:
    """Build or reuse the toolchain once (the suite's one-time preparation); a failure raises."""
    return pulumi_workspace.toolchain_env()


def verdicts(output: str, level: str | None = None) -> set[tuple[str, str]]:
    """(policy, resource name) of every policy line of the CLI's output, at `level` if given."""
    return {(m.group(2), (m.group(4) or "").strip()) for m in VERDICT.finditer(output)
            if level is None or m.group(1) == level}


def policy_lines(output: str, policy: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if re.search(rf"\]\s+(\[severity:\s*\w+\]\s+)?{re.escape(policy)}\b", line)]


def replace_in(path: Path, old: str, new: str) -> None:
    """Edit a copied stack file; the text must be there (a silent no-op would test nothing)."""
    text = path.read_text()
    if old not in text:
        raise AssertionError(f"{old!r} not found in {path}")
    path.write_text(text.replace(old, new))


def write_config(directory: Path, name: str, config: dict[str, Any]) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config))
    return path


SEED_DOCUMENT_OVERRIDE = '''

def role_policy_document(bucket_arn, key_arn):
    """The seed's Vault role document (tests/test_seed_document.py): s3:ListBucket on an object ARN
    and S3 actions on the KMS key ARN."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "Resource": [f"{bucket_arn}/*", f"{key_arn}"]}]}
'''


def use_seed_document(ws: Workspace) -> None:
    """The copy's program builds the seed's role document instead of the stack's."""
    path = ws.dir / "keyguard_stack" / "documents.py"
    path.write_text(path.read_text() + SEED_DOCUMENT_OVERRIDE)


def output_of(proc: Any) -> str:
    return f"{proc.stdout}\n{proc.stderr}"
