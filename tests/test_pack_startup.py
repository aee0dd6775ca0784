"""The pack's start-up stays cheap by construction, and its faster servicer answers exactly as the
pulumi-policy SDK's own does (pulumi_policy_compat: `_Servicer`, `serve`). Nothing here is timed:
`python -m bench` measures start-up and Analyze latency. The structural checks run the real entry
module (policy_pack/__main__.py) in a fresh interpreter with `serve` recording instead of serving."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel

from keyguard.analyzer_client import LEVELS, merged_config
from keyguard_policies import pulumi_policy_compat as compat
from keyguard_policies.pack import build_policies
from keyguard_policies.values import UNKNOWN

from . import baseline as b
from .conftest import REPO

PACK = REPO / "policy_pack"
# What the pack must not load before it serves: the rules build these on first use, or the warm-up
# builds them once the engine is connected (hcl2 and lark: about 0.2 s; the IAM index: 40-200 ms).
NOT_AT_START = ("hcl2", "lark", "policy_sentry", "pulumi_aws", "pulumi_vault", "boto3", "botocore", "hvac",
                "keyguard", "keyguard_stack", "yaml_include")

ENTRY = """
import json, runpy, sys
import keyguard_policies.pulumi_policy_compat as compat
seen = {}
def serve(warm_up=None, **pack_args):
    seen.update(warm_up=warm_up, policies=len(pack_args["policies"]), name=pack_args["name"])
compat.serve = serve
runpy.run_path(".", run_name="__main__")
from keyguard_policies import iam_index, warm
loaded = lambda: {"modules": sorted(m for m in %r if m in sys.modules),
                  "iam_index": len(iam_index._LOADED)}
before = loaded()
if "--warm" in sys.argv:
    seen["warm_up"]()
print(json.dumps({"before": before, "after": loaded(), "policies": seen["policies"], "name": seen["name"],
                  "warm_up_is_the_packs": seen["warm_up"] is warm.warm_up,
                  "hcl2_parser": sys.modules["hcl2.parser"].parser.cache_info().currsize
                  if "hcl2.parser" in sys.modules else 0}))
""" % (NOT_AT_START,)


def run_entry(*args: str, cache_dir: Path | None = None) -> dict:
    env = {**os.environ, **({"KEYGUARD_CACHE_DIR": str(cache_dir)} if cache_dir else {})}
    done = subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=PACK, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_entry_module_serves_before_loading_anything_heavy():
    result = run_entry()
    assert result["name"] == "keyguard"
    assert result["policies"] == len(build_policies())
    assert result["before"] == {"modules": [], "iam_index": 0}
    assert result["warm_up_is_the_packs"]


def test_the_warm_up_builds_what_the_first_calls_would(tmp_path):
    # an empty cache directory: no parse of the sample ACL on disk yet, so hcl2 itself must load
    result = run_entry("--warm", cache_dir=tmp_path)
    assert result["before"] == {"modules": [], "iam_index": 0}
    assert result["after"]["iam_index"] == 1
    assert {"hcl2", "lark"} <= set(result["after"]["modules"])
    assert result["hcl2_parser"] == 1
    assert not set(result["after"]["modules"]) & {"pulumi_aws", "pulumi_vault", "boto3", "hvac", "keyguard"}


# --- the faster servicer answers as the SDK's --------------------------------------------------------
SDK_SERVICER = compat._Servicer.__mro__[1]


def servicers(config: dict) -> tuple:
    policies = build_policies()
    pair = tuple(cls("keyguard", "0.0.1", policies, EnforcementLevel.MANDATORY) for cls in (SDK_SERVICER, compat._Servicer))
    request = analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[values["enforcementLevel"]],
                                        properties=_struct({k: v for k, v in values.items() if k != "enforcementLevel"}))
        for name, values in config.items()})
    for servicer in pair:
        servicer.Configure(request, None)
    return pair


def _struct(values: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def requests() -> list:
    design = b.baseline()
    resources = list(design.values()) + [
        b.with_props(design["key"], enableKeyRotation=False, customerMasterKeySpec="RSA_2048"),
        b.with_props(design["key"], rotationPeriodInDays=UNKNOWN),
        b.with_props(design["boundary"], policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})),
        b.with_props(design["boundary"], policy=UNKNOWN),
        b.with_props(design["boundary"], policy="{not json"),
        b.with_props(design["encryption"], rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]),
        b.with_props(design["role"], credentialType="assumed_role", policyDocument=UNKNOWN),
        b.with_props(design["approle_role"], tokenTtl=999999.0, secretIdNumUses=0.0),
        b.make("aws:ec2/instance:Instance", "not-judged", {"ami": "ami-123"}),
        b.make("pulumi:pulumi:Stack", "keyguard-dev", {}),
    ]
    return [analyzer_pb2.AnalyzeRequest(type=r.type, properties=_struct(dict(r.props)), urn=r.urn, name=r.name)
            for r in resources]


def _configs() -> dict[str, dict]:
    defaults = merged_config()
    every = {name: dict(values, enforcementLevel="remediate") for name, values in defaults.items()}
    mixed = merged_config({"kms-key-rotation-enabled": {"enforcementLevel": "disabled"},
                           "iam-no-wildcard-actions": {"enforcementLevel": "advisory"},
                           "kms-key-deletion-window": {"minDeletionWindowDays": "thirty"}})  # fails closed
    return {"defaults": defaults, "every policy at remediate": every, "disabled, advisory, invalid": mixed}


@pytest.mark.parametrize("config", list(_configs()))
def test_analyze_and_remediate_answer_as_the_sdk(config):
    sdk, fast = servicers(_configs()[config])
    judged = 0
    for request in requests():
        expected = sdk.Analyze(request, None)
        assert fast.Analyze(request, None) == expected, request.urn
        assert fast.Remediate(request, None) == sdk.Remediate(request, None), request.urn
        judged += len(expected.diagnostics)
    assert judged > 0  # the cases do reach the rules, not only "not applicable"


def test_every_resource_policy_declares_its_types():
    """`_Servicer` skips only TypedResourcePolicy; a plain one would still run (correct, just slower)."""
    for policy in build_policies():
        if isinstance(policy, compat.ResourceValidationPolicy):
            assert isinstance(policy, compat.TypedResourcePolicy), policy.name
            assert policy.resource_types and policy.not_applicable_reason.startswith("applies to "), policy.name
