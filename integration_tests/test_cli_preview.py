"""The real Pulumi CLI previews the stack with the real pack (`pulumi preview --policy-pack policy_pack`),
as `make preview` does: no server needed, the providers only check inputs at preview.

One mutated copy of the stack per kind of mandatory violation the CLI can see on a first preview:
it must exit 1 with the `[mandatory]` line of the right policy; the same copy passes when
`--policy-pack-config` disables that policy (so nothing else blocked it) and passes with advisory
lines under `{"all": "advisory"}`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from . import pulumi_cli
from .pulumi_cli import STACK, Workspace, output_of, policy_lines, replace_in, write_config

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def compliant(pulumi_toolchain: dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    with Workspace(STACK, root=tmp_path_factory.mktemp("cli-compliant"), tool_env=pulumi_toolchain) as ws:
        yield ws


def test_compliant_stack_previews_with_exit_0_and_the_pack_loaded(compliant: Workspace):
    proc = compliant.preview()
    out = output_of(proc)
    assert proc.returncode == 0, out
    assert "keyguard@v" in out  # the pack's name in the CLI's Policies section: it was loaded
    assert pulumi_cli.verdicts(out, "mandatory") == set()


def test_preview_leaves_the_stack_directory_untouched(compliant: Workspace):
    """`pulumi stack init` rewrote the copy's Pulumi.dev.yaml (encryptionsalt), never the original."""
    assert "encryptionsalt" in (compliant.dir / "Pulumi.dev.yaml").read_text()
    assert "encryptionsalt" not in (STACK / "Pulumi.dev.yaml").read_text()
    assert compliant.dir != STACK.resolve()


def _program(old: str, new: str) -> Callable[[Workspace], None]:
    return lambda ws: replace_in(ws.dir / "keyguard_stack" / "program.py", old, new)


def _config(key: str, value: Any) -> Callable[[Workspace], None]:
    return lambda ws: ws.set_config({key: value})


#: policy -> how a copy of the stack violates it in a way a first preview can see (known values)
MUTATIONS: dict[str, Callable[[Workspace], None]] = {
    # AES256 with no key at all: known at preview (a key ARN would make the whole rule unknown)
    "s3-bucket-sse-kms-cmk": _program('"sse_algorithm": "aws:kms",\n                "kms_master_key_id": key.arn,',
                                      '"sse_algorithm": "AES256",'),
    "kms-key-rotation-enabled": _program("enable_key_rotation=True,", "enable_key_rotation=False,"),
    # a default lease TTL above the pack's 3600 s bound (the stack's own max is 14400)
    "vault-mount-ttl-bounds": _config("keyguard:defaultLeaseTtlSeconds", 7200),
    "vault-role-credential-type": _program("credential_type=settings.credential_type,",
                                           'credential_type="session_token",'),
}


@pytest.fixture(scope="module", params=sorted(MUTATIONS))
def mutated(request: pytest.FixtureRequest, pulumi_toolchain: dict[str, str],
            tmp_path_factory: pytest.TempPathFactory):
    policy = request.param
    with Workspace(STACK, root=tmp_path_factory.mktemp(f"cli-{policy}"), tool_env=pulumi_toolchain) as ws:
        MUTATIONS[policy](ws)
        yield policy, ws


def test_violation_blocks_the_preview_with_its_mandatory_line(mutated: tuple[str, Workspace]):
    policy, ws = mutated
    proc = ws.preview()
    out = output_of(proc)
    assert proc.returncode == 1, out
    lines = policy_lines(out, policy)
    assert any("[mandatory]" in line for line in lines), out
    assert policy in {name for name, _ in pulumi_cli.verdicts(out, "mandatory")}, out


def test_disabling_the_policy_in_policy_pack_config_lets_the_preview_pass(mutated: tuple[str, Workspace],
                                                                          tmp_path: Path):
    policy, ws = mutated
    proc = ws.preview(write_config(tmp_path, "disabled", {policy: "disabled"}))
    out = output_of(proc)
    assert proc.returncode == 0, out
    assert policy_lines(out, policy) == []


def test_all_advisory_passes_with_an_advisory_line(mutated: tuple[str, Workspace], tmp_path: Path):
    policy, ws = mutated
    proc = ws.preview(write_config(tmp_path, "advisory", {"all": "advisory"}))
    out = output_of(proc)
    assert proc.returncode == 0, out
    assert policy in {name for name, _ in pulumi_cli.verdicts(out, "advisory")}, out
    assert pulumi_cli.verdicts(out, "mandatory") == set()


def test_make_preview_script_exits_with_the_cli_code(pulumi_toolchain: dict[str, str], tmp_path: Path):
    """What `make preview STACK=... CONFIG=...` runs: the CLI's exit code, 2 for a bad argument, and the
    given stack directory left as it was."""
    import shutil
    import subprocess
    import sys

    stack = tmp_path / "stack"
    shutil.copytree(STACK, stack, ignore=shutil.ignore_patterns("__pycache__"))
    # the copy's virtualenv option is relative to stack/: point it at the repository's .venv
    replace_in(stack / "Pulumi.yaml", "virtualenv: ../.venv", f"virtualenv: {pulumi_cli.REPO / '.venv'}")
    replace_in(stack / "keyguard_stack" / "program.py", "enable_key_rotation=True,", "enable_key_rotation=False,")
    before = {p: p.read_bytes() for p in stack.rglob("*") if p.is_file()}
    script = [sys.executable, str(pulumi_cli.REPO / "toolchain" / "pulumi_workspace.py"), "preview", "--stack", str(stack)]
    blocked = subprocess.run(script, capture_output=True, text=True)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "kms-key-rotation-enabled" in {p for p, _ in pulumi_cli.verdicts(blocked.stdout, "mandatory")}
    config = write_config(tmp_path, "off", {"kms-key-rotation-enabled": "disabled"})
    passed = subprocess.run(script + ["--config", str(config)], capture_output=True, text=True)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    missing = subprocess.run(script + ["--config", str(tmp_path / "nope.json")], capture_output=True, text=True)
    assert missing.returncode == 2 and "not found" in missing.stderr
    assert {p: p.read_bytes() for p in stack.rglob("*") if p.is_file() and "__pycache__" not in p.parts} == \
        {p: b for p, b in before.items() if "__pycache__" not in p.parts}
