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
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy
from pulumi_policy.deserialize import SPECIAL_ASSET_SIG, SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

from keyguard.analyzer_client import LEVELS, merged_config
from keyguard_policies import pack as pack_module
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
    request = _configure_request(config)
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
        # secrets, as the engine sends them, take the SDK's own conversion (plain_struct)
        b.with_props(design["role"], policyDocument=_secret(json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}))),
        b.with_props(design["encryption"], rules=[{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": _secret(b.KEY_ARN)}, "bucketKeyEnabled": True}]),
        b.with_props(design["backend"], defaultLeaseTtlSeconds=_secret(999999.0), description=None),
    ]
    return [analyzer_pb2.AnalyzeRequest(type=r.type, properties=_struct(dict(r.props)), urn=r.urn, name=r.name)
            for r in resources]


def _secret(value):
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


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


@pytest.mark.parametrize("config", list(_configs()))
def test_an_unconvertible_number_fails_as_in_the_sdk(config):
    """MessageToDict refuses NaN and infinity; the SDK's Analyze then raises before any policy
    runs (even one whose config is invalid), and so does the pack's."""
    sdk, fast = servicers(_configs()[config])
    for number in (float("nan"), float("inf")):
        request = analyzer_pb2.AnalyzeRequest(type=b.T["key"], properties=_struct({"rotationPeriodInDays": number}),
                                              urn=b.KEY_URN, name="k")
        with pytest.raises(ValueError, match="Fail to serialize"):
            sdk.Analyze(request, None)
        with pytest.raises(ValueError, match="Fail to serialize"):
            fast.Analyze(request, None)


# --- the props conversion (plain_struct) gives what the SDK's conversion and plain() give --------------
UNKNOWNS = st.sampled_from([UNKNOWN_STRING_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_ARRAY_VALUE])
SCALARS = (st.none() | st.booleans() | st.integers(-2 ** 60, 2 ** 60) | st.floats() | st.text(max_size=8)
           | UNKNOWNS)


def _wrapped(children):
    """Maps the engine marks with its signature key: secrets, and signatures the SDK rejects."""
    return (st.builds(lambda v: {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": v}, children)
            | st.builds(lambda v: {SPECIAL_SIG_KEY: "not-a-signature", "value": v}, children)
            | st.just({SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG}))


WIRE_VALUES = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=4), children, max_size=4) | _wrapped(children),
                           max_leaves=16)


def _sdk_plain(struct):
    from google.protobuf import json_format
    from pulumi_policy.deserialize import deserialize_properties
    return compat.plain(deserialize_properties(json_format.MessageToDict(struct)))


def _outcome(convert, struct):
    try:
        return "value", convert(struct)
    except Exception as err:  # noqa: BLE001 - both conversions must fail alike
        return "error", type(err)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), WIRE_VALUES, max_size=5))
def test_plain_struct_is_the_sdks_conversion(props):
    struct = _struct(props)
    expected, got = _outcome(_sdk_plain, struct), _outcome(compat.plain_struct, struct)
    assert got[0] == expected[0]
    if got[0] == "value":
        assert repr(got[1]) == repr(expected[1])  # the same values, types and key order
    else:
        assert got[1] is expected[1]


def test_plain_struct_leaves_assets_to_the_sdk():
    struct = _struct({"code": {SPECIAL_SIG_KEY: SPECIAL_ASSET_SIG, "text": "print(1)"}, "n": 1})
    value = compat.plain_struct(struct)
    assert value["n"] == 1.0 and type(value["code"]).__name__ == "StringAsset" and value["code"].text == "print(1)"


# --- what the policies that run on a request share, and what they do not ------------------------------
def test_the_policies_that_run_on_a_request_share_one_resource_and_no_request_shares_another(monkeypatch):
    """One conversion and one Resource per request (the rules' per-resource views are then built
    once); never carried from one request to the next, even for the same resource."""
    seen = []
    real = pack_module.run_resource_rule

    def recording(rule, resource, params, *rest):
        seen.append((rule.NAME, resource))
        return real(rule, resource, params, *rest)

    monkeypatch.setattr(pack_module, "run_resource_rule", recording)
    sdk, fast = servicers(merged_config())
    request = next(r for r in requests() if r.type == b.T["role"])
    fast.Analyze(request, None)
    first = [resource for _, resource in seen]
    assert len(first) >= 6 and all(resource is first[0] for resource in first)  # the least-privilege rules
    seen.clear()
    fast.Analyze(request, None)
    assert seen and all(resource is seen[0][1] for _, resource in seen) and seen[0][1] is not first[0]
    seen.clear()
    sdk.Analyze(request, None)  # the SDK's args: a conversion per policy
    assert len({id(resource) for _, resource in seen}) == len(seen) == len(first)


def test_a_plan_follows_configure():
    """Plans are per resource type and configuration: a new Configure replans."""
    config = merged_config()
    sdk, fast = servicers(config)
    request = next(r for r in requests() if r.type == b.T["key"])
    before = fast.Analyze(request, None)
    disabled = merged_config({"kms-key-rotation-enabled": {"enforcementLevel": "disabled"},
                              "s3-bucket-key-enabled": {"enforcementLevel": "disabled"}})
    for servicer in (sdk, fast):
        servicer.Configure(_configure_request(disabled), None)
    after = fast.Analyze(request, None)
    assert after == sdk.Analyze(request, None)
    names = {entry.policy_name for entry in after.not_applicable}
    assert "s3-bucket-key-enabled" in {entry.policy_name for entry in before.not_applicable} - names


# --- a policy set unlike keyguard's: every path of the SDK's Analyze ---------------------------------
def _synthetic_policies() -> list:
    """Typed policies (one says "not applicable" at run time, between static entries), untyped
    ones (one reads args.props, opts and provider, one reads an unknown), a remediation-only one,
    a disabled one and an async one."""
    def typed_policy(name, types, **kwargs):
        reason = f"applies to {', '.join(sorted(types))}"

        def typed(args, report_violation):  # as TypedResourcePolicy requires: other types first
            if args.resource_type not in types:
                args.not_applicable(reason)
            props = compat.shared_by_policies(args, lambda urn, type_, props: props)
            if props.get("skip"):
                args.not_applicable("skipped by its props")
            report_violation(f"{name} saw {sorted(props)}")
        return compat.TypedResourcePolicy(name=name, validate=typed, resource_types=frozenset(types),
                                          not_applicable_reason=reason, description="synthetic", **kwargs)

    def untyped(args, report_violation):
        if args.props.get("mode") == "na":
            args.not_applicable()
        report_violation(f"{args.urn} {args.name} {args.resource_type} protect={args.opts.protect} "
                         f"provider={args.provider} config={dict(args.get_config())}", None)

    def reads_unknown(args, report_violation):
        report_violation(str(args.props.get("later")))

    async def deferred(args, report_violation):
        report_violation(f"async {args.props.get('mode')}")

    meta = dict(description="synthetic", enforcement_level=EnforcementLevel.MANDATORY)
    return [
        typed_policy("only-a", {"t:a"}, enforcement_level=EnforcementLevel.MANDATORY),
        ResourceValidationPolicy(name="untyped", validate=untyped, **meta),
        ResourceValidationPolicy(name="fix-only", remediate=lambda args: None, **meta),
        typed_policy("a-or-b", {"t:a", "t:b"}, enforcement_level=EnforcementLevel.MANDATORY),
        typed_policy("off", {"t:a", "t:b"}, enforcement_level=EnforcementLevel.DISABLED),
        typed_policy("only-b", {"t:b"}),  # the pack's level (advisory) applies
        ResourceValidationPolicy(name="async", validate=deferred, **meta),
        ResourceValidationPolicy(name="reads-unknown", validate=reads_unknown, **meta),
    ]


def _synthetic_requests() -> list:
    out = []
    for type_ in ("t:a", "t:b", "t:c"):
        for props in ({}, {"skip": True}, {"mode": "na"}, {"skip": True, "mode": "na", "later": UNKNOWN},
                      {"later": "known", "secret": _secret("s")}):
            out.append(analyzer_pb2.AnalyzeRequest(type=type_, properties=_struct(props), urn=f"urn:{type_}",
                                                   name="n", options=analyzer_pb2.AnalyzerResourceOptions(
                                                       protect=bool(props))))
    return out


@pytest.mark.parametrize("levels", [{}, {"untyped": "advisory", "a-or-b": "remediate", "only-a": "disabled"}])
def test_every_path_of_analyze_answers_as_the_sdk(levels):
    policies = _synthetic_policies()
    pair = tuple(cls("synthetic", "0.0.1", policies, EnforcementLevel.ADVISORY) for cls in (SDK_SERVICER, compat._Servicer))
    request = analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[level], properties=_struct({"limit": 3}))
        for name, level in levels.items()})
    for servicer in pair:
        servicer.Configure(request, None)
    dynamic = 0
    for analyze in _synthetic_requests():
        expected = pair[0].Analyze(analyze, None)
        assert pair[1].Analyze(analyze, None) == expected, (analyze.type, analyze.properties)
        dynamic += any(entry.reason == "skipped by its props" for entry in expected.not_applicable)
    assert dynamic  # the run-time "not applicable" path was taken


def test_runtime_settings_from_the_environment_reach_the_policies(monkeypatch):
    """The Pulumi config and project/stack/dry-run settings the CLI passes in the environment reach
    a policy as the SDK applies them; with none of them in the environment nothing is applied."""
    import contextvars

    import pulumi

    def project(args, report_violation):
        report_violation(f"{pulumi.get_project()}/{pulumi.get_stack()}/{pulumi.runtime.is_dry_run()}/"
                         f"{pulumi.Config('aws').get('region')}")

    def answer(cls):
        servicer = cls("synthetic", "0.0.1", [ResourceValidationPolicy(name="p", description="d", validate=project)],
                       EnforcementLevel.MANDATORY)
        request = analyzer_pb2.AnalyzeRequest(type="t:a", properties=_struct({}), urn="urn:a", name="a")
        # each call in a fresh context, as gRPC's server runs it (the settings are context variables)
        return [contextvars.copy_context().run(servicer.Analyze, request, None).diagnostics[0].message
                for _ in range(2)]

    for key in ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_ORGANIZATION"):
        monkeypatch.delenv(key, raising=False)
    calls = []
    real = compat._Servicer._configure_runtime_settings
    monkeypatch.setattr(compat._Servicer, "_configure_runtime_settings", lambda self: calls.append(1) or real(self))
    assert answer(compat._Servicer) == answer(SDK_SERVICER)
    assert not calls  # nothing to apply
    monkeypatch.setenv("PULUMI_PROJECT", "keyguard-project")
    monkeypatch.setenv("PULUMI_STACK", "dev")
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"aws:region": "eu-west-1"}))
    assert answer(compat._Servicer) == answer(SDK_SERVICER) == ["d\nkeyguard-project/dev/True/eu-west-1"] * 2
    assert len(calls) == 2


def _configure_request(config: dict) -> analyzer_pb2.ConfigureAnalyzerRequest:
    return analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[values["enforcementLevel"]],
                                        properties=_struct({k: v for k, v in values.items() if k != "enforcementLevel"}))
        for name, values in config.items()})
