"""The CrossGuard pack driven over the analyzer gRPC protocol exactly as the Pulumi CLI drives
it: `python -u -m pulumi.policy <engine> .` in policy_pack/, then GetAnalyzerInfo, Configure
(schema defaults merged, as the CLI does), Analyze, AnalyzeStack and Remediate."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from google.protobuf import json_format

from keyguard.analyzer_client import LEVELS, PackProcess, merged_config
from keyguard_policies import catalog
from keyguard_policies.values import UNKNOWN

from .conftest import REPO

MANDATORY, ADVISORY = LEVELS["mandatory"], LEVELS["advisory"]


@pytest.fixture(scope="module")
def pack():
    with PackProcess(REPO / "policy_pack") as process:
        process.configure(merged_config())
        yield process


@pytest.fixture
def configured(pack):
    """Each test starts from the CLI's default merged config and leaves it that way."""
    pack.configure(merged_config())
    yield pack
    pack.configure(merged_config())


def updated(resources):
    """What AnalyzeStack sees at update time: the resources' state, ids and ARNs resolved."""
    return [dataclasses.replace(r, props={**r.outputs, **r.props}) for r in resources]


def by_type(resources, suffix):
    return next(r for r in resources if r.type.endswith(suffix))


def test_serves_the_whole_catalog_with_metadata(pack):
    info = pack.info()
    assert info.name == "keyguard"
    served = {p.name: p for p in info.policies}
    assert set(served) == set(catalog.policies()) and len(served) == len(catalog.policies())
    for name, meta in catalog.policies().items():
        policy = served[name]
        assert policy.description == meta.description
        assert policy.enforcementLevel == LEVELS[meta.enforcement]
        assert policy.severity != 0, name  # set, not UNSPECIFIED
        assert policy.remediation_steps == meta.remediation and policy.url == meta.url
        assert policy.framework.name in ("NIST SP 800-53", "CIS Amazon Web Services Foundations Benchmark")
        assert set(meta.controls) <= set(policy.tags)
        schema = json_format.MessageToDict(policy.configSchema.properties)
        assert {k: v["default"] for k, v in schema.items()} == meta.defaults()
    assert served["vault-mount-ttl-bounds"].policy_type != served["s3-bucket-sse-kms-cmk"].policy_type


def test_built_in_stack_has_no_diagnostics(configured, program_resources):
    resources = [r for r in program_resources if not r.type.startswith("pulumi:providers:")]
    for resource in resources:
        response = configured.analyze(resource)
        assert [d.message for d in response.diagnostics] == [], resource.urn
    assert list(configured.analyze_stack(updated(resources)).diagnostics) == []


def test_bucket_without_encryption_resource_is_flagged(configured, program_resources):
    resources = [r for r in updated(program_resources) if "ServerSideEncryption" not in r.type]
    bucket = by_type(resources, ":Bucket")
    diagnostics = configured.analyze_stack(resources).diagnostics
    flagged = {(d.policyName, d.urn, d.enforcementLevel) for d in diagnostics}
    assert flagged == {("s3-bucket-sse-kms-cmk", bucket.urn, MANDATORY)}


def test_enforcement_level_changed_through_configure(configured, program_resources):
    resources = [r for r in updated(program_resources) if "ServerSideEncryption" not in r.type]
    configured.configure(merged_config({"s3-bucket-sse-kms-cmk": {"enforcementLevel": "advisory"}}))
    [diagnostic] = configured.analyze_stack(resources).diagnostics
    assert diagnostic.enforcementLevel == ADVISORY
    configured.configure(merged_config({"s3-bucket-sse-kms-cmk": {"enforcementLevel": "disabled"}}))
    assert list(configured.analyze_stack(resources).diagnostics) == []


def test_config_parameter_takes_effect(configured, program_resources):
    backend = by_type(program_resources, "secretBackend:SecretBackend")
    assert list(configured.analyze(backend).diagnostics) == []
    configured.configure(merged_config({"vault-mount-ttl-bounds": {"maxDefaultLeaseTtlSeconds": 600}}))
    [diagnostic] = configured.analyze(backend).diagnostics
    assert diagnostic.policyName == "vault-mount-ttl-bounds" and "exceeds the limit of 600" in diagnostic.message


def test_violation_in_role_document(configured, program_resources):
    role = by_type(program_resources, "SecretBackendRole")
    wide = json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    response = configured.analyze(dataclasses.replace(role, props={**role.props, "policyDocument": wide}))
    assert {(d.policyName, d.enforcementLevel) for d in response.diagnostics} == {
        ("iam-no-wildcard-actions", MANDATORY), ("iam-no-wildcard-resources", MANDATORY)}


def test_unknown_value_is_reported_not_crashed_on(configured, program_resources):
    role = by_type(program_resources, "SecretBackendRole")
    response = configured.analyze(dataclasses.replace(role, props={**role.props, "policyDocument": UNKNOWN}))
    notes = {d.policyName: d for d in response.diagnostics}
    assert set(notes) == {"iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-no-not-action-not-resource",
                          "iam-known-actions", "iam-action-resource-match", "iam-no-privilege-escalation"}
    for note in notes.values():
        assert note.enforcementLevel == ADVISORY
        assert "during preview" in note.message and "policyDocument" in note.message


def test_preview_time_stack_is_advisory_not_a_pass_or_crash(configured, program_resources):
    """During preview the bucket's name and the key's ARN are unknown, and with them the role
    document: the stack policies say so in advisory notes."""
    preview = []
    for r in program_resources:
        props = {k: (UNKNOWN if k in ("policyDocument", "policy", "kmsMasterKeyId") else v)
                 for k, v in r.props.items()}
        if r.type.endswith("BucketServerSideEncryptionConfiguration"):
            props = {"bucket": UNKNOWN, "rules": UNKNOWN}
        preview.append(dataclasses.replace(r, props=props))
    diagnostics = configured.analyze_stack(preview).diagnostics
    assert diagnostics, "unknown values must not pass silently"
    assert all(d.enforcementLevel == ADVISORY and "during preview" in d.message for d in diagnostics)
    assert {d.policyName for d in diagnostics} >= {"s3-bucket-sse-kms-cmk", "iam-resources-scoped-to-stack",
                                                   "vault-acl-policy-least-privilege", "vault-acl-policy-scoped-to-stack"}


def test_vault_access_violations_through_the_engine_protocol(configured, program_resources):
    """A broad ACL policy (stack policies) and a root, periodic AppRole role (resource and stack policies)."""
    resources = updated(program_resources)
    acl, login = by_type(resources, "index/policy:Policy"), by_type(resources, "authBackendRole:AuthBackendRole")
    broad = dataclasses.replace(acl, props={**acl.props, "policy": 'path "+/config/*" { capabilities = ["update"] }'})
    rooted = dataclasses.replace(login, props={**login.props, "tokenPolicies": ["root"], "tokenPeriod": 3600.0})
    stack = [broad if r.urn == acl.urn else rooted if r.urn == login.urn else r for r in resources]
    flagged = {(d.policyName, d.urn, d.enforcementLevel) for d in configured.analyze_stack(stack).diagnostics}
    assert flagged == {("vault-acl-policy-least-privilege", acl.urn, MANDATORY),
                       ("vault-acl-policy-scoped-to-stack", acl.urn, MANDATORY),
                       ("vault-approle-token-policies", login.urn, MANDATORY)}
    [diagnostic] = configured.analyze(rooted).diagnostics
    assert diagnostic.policyName == "vault-approle-token-ttl-bounds" and "tokenPeriod" in diagnostic.message


def test_role_document_without_key_grants_is_an_advisory_stack_finding(configured, program_resources):
    """iam-sse-kms-key-grants over AnalyzeStack: the seed's document on the role (no KMS grant), then the
    same role with its document not known yet (preview)."""
    from tests.test_seed_document import seed_role_document
    resources = updated(program_resources)
    role = by_type(resources, "SecretBackendRole")
    bucket_arn, key_arn = by_type(resources, ":Bucket").props["arn"], by_type(resources, "kms/key:Key").props["arn"]
    seed = json.dumps(seed_role_document(bucket_arn, key_arn))
    stack = [dataclasses.replace(r, props={**r.props, "policyDocument": seed}) if r is role else r for r in resources]
    diagnostics = configured.analyze_stack(stack).diagnostics
    assert {(d.policyName, d.urn, d.enforcementLevel) for d in diagnostics} == {
        ("iam-sse-kms-key-grants", role.urn, ADVISORY)}
    for what, action in (("read", "kms:Decrypt"), ("write", "kms:GenerateDataKey")):
        [_] = [d for d in diagnostics if f"policyDocument lets its holder {what} objects of bucket "
               f"{bucket_arn.split(':')[-1]} (statement #1) but does not allow {action} on the bucket's SSE-KMS key "
               f"{key_arn}: every {what} is denied at run time" in d.message]
    pending = [dataclasses.replace(r, props={**r.props, "policyDocument": UNKNOWN}) if r is role else r
               for r in resources]
    [note] = [d for d in configured.analyze_stack(pending).diagnostics if d.policyName == "iam-sse-kms-key-grants"]
    assert note.enforcementLevel == ADVISORY and "during preview" in note.message and "policyDocument" in note.message


def test_remediate_turns_rotation_on(configured, program_resources):
    key = by_type(program_resources, "kms/key:Key")
    off = dataclasses.replace(key, props={**key.props, "enableKeyRotation": False})
    assert list(configured.remediate(off).remediations) == []  # level is mandatory: no remediation
    configured.configure(merged_config({"kms-key-rotation-enabled": {"enforcementLevel": "remediate"}}))
    [remediation] = configured.remediate(off).remediations
    assert remediation.policyName == "kms-key-rotation-enabled"
    fixed = json_format.MessageToDict(remediation.properties)
    assert fixed["enableKeyRotation"] is True
    assert {k: v for k, v in fixed.items() if k != "enableKeyRotation"} == {
        k: v for k, v in off.props.items() if k != "enableKeyRotation"}
    assert list(configured.remediate(key).remediations) == []  # already compliant


def test_pack_imports_neither_pulumi_aws_nor_pulumi_vault():
    code = ("import sys; sys.path.insert(0, 'policy_pack');"
            "from keyguard_policies.pack import build_policies; build_policies();"
            "bad = [m for m in sys.modules if m.startswith(('pulumi_aws', 'pulumi_vault'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pack_files_for_a_fresh_checkout():
    import yaml
    manifest = yaml.safe_load((REPO / "policy_pack" / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python" and manifest["version"]
    requirements = (REPO / "policy_pack" / "requirements.txt").read_text().split()
    pins = {name.lower().replace("_", "-"): pinned
            for name, pinned in (line.split("==") for line in requirements if "==" in line)}
    assert {"pulumi-policy", "policy-sentry", "pulumi"} <= set(pins)
    assert not {"pulumi-aws", "pulumi-vault"} & set(pins)
    from importlib.metadata import version
    for package, pinned in pins.items():
        assert version(package) == pinned, f"{package} pinned {pinned} but the tested venv has {version(package)}"
