"""`keyguard audit --live` without servers: drift compares by meaning, unreadable values are
unverifiable with their reason, the shipped read-only permissions pass keyguard's own policies,
the CLI refuses meaningless option combinations, and the AWS mapping against moto's in-process
mock gives the properties the policies read. The real-server scenarios are in
integration_tests/test_live_audit.py."""
from __future__ import annotations

import json
import re

import pytest

from keyguard.cli import main
from keyguard.permissions import FILES, placeholders, render
from keyguard.sources.live import annotate, drift
from keyguard.sources.live.reading import Reading
from keyguard_policies import catalog
from keyguard_policies.engine import evaluate
from keyguard_policies.model import UNVERIFIABLE, Finding, Stack
from keyguard_policies.policies import RULES
from keyguard_policies.values import UNREADABLE

from .baseline import ACCOUNT, BUCKET, BUCKET_ARN, KEY_ARN, KEY_ID, REGION, T, baseline, make, role_document

# --- drift: semantic comparison -------------------------------------------------------------------------


def _reading(type_: str, **props) -> Reading:
    return Reading(type_, props=props)


def _drifts(resource, reading):
    return {(d.property, json.dumps(d.declared, sort_keys=True), json.dumps(d.live, sort_keys=True))
            for d in drift.compare(resource, reading)}


def test_same_document_in_another_shape_is_not_drift():
    doc = role_document()
    reshaped = {"Statement": [dict(s, Action=list(reversed(s["Action"])) if len(s["Action"]) > 1 else s["Action"][0],
                                   Resource=s["Resource"][0]) for s in doc["Statement"]], "Version": "2012-10-17"}
    role = baseline()["role"]
    assert drift.compare(role, _reading(T["role"], **{**role.props, "policyDocument": json.dumps(reshaped,
                                                                                                  indent=4)})) == []
    assert drift.compare(role, _reading(T["role"], **{**role.props, "policyDocument": reshaped})) == []


def test_widened_document_is_drift_with_both_values():
    role = baseline()["role"]
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    [found] = drift.compare(role, _reading(T["role"], **{**role.props, "policyDocument": json.dumps(wide)}))
    assert (found.property, found.declared, found.live) == ("policyDocument", role_document(), wide)
    assert found.message.startswith("policyDocument drifted: declared {")


@pytest.mark.parametrize("declared, live, same", [
    (3600.0, 3600, True), ("3600", 3600, True), (3600, 7200, False), (None, 0, True), (None, 86400, False),
])
def test_numbers_compare_as_numbers(declared, live, same):
    backend = make(T["backend"], "b", {"path": "aws", "defaultLeaseTtlSeconds": 3600.0, "maxLeaseTtlSeconds": declared})
    found = drift.compare(backend, _reading(T["backend"], path="aws", defaultLeaseTtlSeconds=3600,
                                            maxLeaseTtlSeconds=live))
    assert (found == []) is same


@pytest.mark.parametrize("declared, live, same", [
    ({"defaultLeaseTtl": "1h", "maxLeaseTtl": "4h"}, {"defaultLeaseTtl": "3600s", "maxLeaseTtl": "14400s"}, True),
    ({"defaultLeaseTtl": "1h", "maxLeaseTtl": "4h"}, {"defaultLeaseTtl": "3600s", "maxLeaseTtl": "2764800s"}, False),
    ({"defaultLeaseTtl": "90m", "maxLeaseTtl": "1h30m"}, {"defaultLeaseTtl": "5400s", "maxLeaseTtl": "5400s"}, True),
    (None, {"defaultLeaseTtl": "0s", "maxLeaseTtl": "0s"}, True),
])
def test_vault_durations_compare_in_seconds(declared, live, same):
    auth = make("vault:index/authBackend:AuthBackend", "a", {"path": "approle", "type": "approle", "tune": declared})
    found = drift.compare(auth, _reading("vault:index/authBackend:AuthBackend", path="approle", tune=live))
    assert (found == []) is same


def test_malformed_duration_is_drift_not_a_crash():
    role = make("vault:appRole/authBackendRole:AuthBackendRole", "r", {"roleName": "r", "tokenTtl": "soon"})
    [found] = drift.compare(role, _reading("vault:appRole/authBackendRole:AuthBackendRole", roleName="r", tokenTtl=900))
    assert found.property == "tokenTtl"


def test_encryption_rules_compare_by_meaning():
    config = baseline()["encryption"]
    same = [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": KEY_ARN, "sseAlgorithm": "aws:kms"},
             "bucketKeyEnabled": True}]
    assert drift.compare(config, _reading(config.type, bucket=BUCKET, rules=same)) == []
    aes = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": False}]
    assert {d.property for d in drift.compare(config, _reading(config.type, bucket=BUCKET, rules=aes))} == {"rules"}


def test_hcl_compares_without_comments_and_whitespace():
    policy = make("vault:index/policy:Policy", "p", {"name": "p", "policy": 'path "aws/creds/app" {\n  capabilities = ["read"]\n}\n'})
    same = '# the app\npath "aws/creds/app" { capabilities = ["read"] }'
    wider = 'path "aws/creds/app" { capabilities = ["read"] }\npath "sys/*" { capabilities = ["sudo"] }'
    assert drift.compare(policy, _reading(policy.type, name="p", policy=same)) == []
    assert [d.property for d in drift.compare(policy, _reading(policy.type, name="p", policy=wider))] == ["policy"]


def test_unreadable_and_undeclared_values_are_not_drift():
    key = baseline()["key"]
    live = {**key.props, "deletionWindowInDays": UNREADABLE, "policy": json.dumps({"Statement": []})}
    assert drift.compare(key, _reading(key.type, **live)) == []   # policy: not declared (AWS default)
    off = _reading(key.type, **{**key.props, "enableKeyRotation": False, "rotationPeriodInDays": None})
    off.not_compared.add("rotationPeriodInDays")
    assert _drifts(key, off) == {("enableKeyRotation", "true", "false")}


def test_undeclared_list_is_compared_as_empty():
    role = baseline()["role"]
    live = {**role.props, "policyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}
    assert _drifts(role, _reading(role.type, **live)) == {
        ("policyArns", "[]", '["arn:aws:iam::aws:policy/AdministratorAccess"]')}


def test_gone_resource_is_drift_naming_no_property():
    reading = Reading(T["bucket"], gone="not found (s3:GetBucketLocation: NoSuchBucket)")
    [found] = drift.compare(baseline()["bucket"], reading)
    assert (found.property, found.declared, found.live) == (None, "exists", "not found")
    assert "NoSuchBucket" in found.message


def test_secret_inputs_are_never_compared():
    backend = make(T["backend"], "b", {"path": "aws", "defaultLeaseTtlSeconds": 3600, "maxLeaseTtlSeconds": 7200,
                                       "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
    assert drift.compare(backend, _reading(T["backend"], path="aws", defaultLeaseTtlSeconds=3600,
                                           maxLeaseTtlSeconds=7200)) == []


# --- unreadable values: unverifiable, with the reason ----------------------------------------------------

def test_unreadable_value_makes_the_check_unverifiable_with_the_reason():
    resources = baseline()
    key = resources["key"]
    resources["key"] = make(key.type, "ai-app-kms-key", {**key.props, "enableKeyRotation": UNREADABLE,
                                                          "rotationPeriodInDays": UNREADABLE}, dict(key.outputs))
    settings = catalog.resolve(None)
    [outcome] = [o for o in evaluate(Stack(resources.values()), settings) if o.name == "kms-key-rotation-enabled"]
    reasons = {resources["key"].urn: {"enableKeyRotation": "access denied (kms:GetKeyRotationStatus: AccessDenied)"}}
    [finding] = annotate(outcome.findings, reasons)
    assert finding.kind == UNVERIFIABLE
    assert finding.message == ("cannot be verified: enableKeyRotation could not be read from the deployed resource: "
                               "access denied (kms:GetKeyRotationStatus: AccessDenied)")


def test_annotate_leaves_other_findings_alone():
    finding = Finding("p", UNVERIFIABLE, "urn:x", "t", "cannot be verified: x is not known until ...")
    assert annotate([finding], {"urn:x": {"x": "timeout"}}) == [finding]


# --- the shipped read-only permissions --------------------------------------------------------------------

def _permission_resource(kind: str):
    if kind == "aws":
        values = {"Region": REGION, "Account": ACCOUNT, "KeyId": KEY_ID, "Bucket": BUCKET,
                  "PolicyName": "vault-user-boundary"}
        return make(T["boundary"], "keyguard-live-audit", {"policy": render("aws", values)})
    values = {"AwsMount": "aws-ai-app", "AppRoleMount": "approle"}
    return make("vault:index/policy:Policy", "keyguard-live-audit", {"name": "keyguard-live-audit",
                                                                     "policy": render("vault", values)})


@pytest.mark.parametrize("kind", sorted(FILES))
def test_shipped_permissions_pass_keyguards_own_policies(kind):
    """Data-driven: every policy that judges the permission's type runs on it (the Vault ACL one is
    judged by the ACL rules as soon as the catalog has them)."""
    resource = _permission_resource(kind)
    stack = Stack([*baseline().values(), resource])
    # The audit's Vault grant reads sys/ configuration, outside the stack's own mounts by design:
    # that is what vault-acl-policy-scoped-to-stack exists to report, so it does not judge this one.
    outside = {name: "disabled" for name in ("vault-acl-policy-scoped-to-stack",) if name in catalog.policies()}
    outcomes = evaluate(stack, catalog.resolve(outside or None))
    judging = {o.name for o in outcomes if resource.urn in o.subjects}
    assert {name for name, rule in RULES.items() if name not in outside
            and rule.KIND == "resource" and resource.type in rule.SUPPORTED_RESOURCES} <= judging
    assert [f for o in outcomes for f in o.findings if f.urn == resource.urn] == []
    if kind == "aws":
        assert judging >= {"iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-no-not-action-not-resource",
                           "iam-known-actions", "iam-action-resource-match", "iam-no-privilege-escalation",
                           "iam-resources-scoped-to-stack"}


def test_shipped_aws_permissions_are_read_only():
    document = json.loads(render("aws", {name: "x" for name in placeholders("aws")}))
    actions = [a for s in document["Statement"] for a in s["Action"]]
    assert actions and all(re.match(r"^(kms|s3|iam):(Get|Describe|List)[A-Z]", a) for a in actions), actions
    assert all(s["Effect"] == "Allow" and "*" not in json.dumps(s["Action"]) for s in document["Statement"])


def test_shipped_vault_permissions_only_read_and_list_and_never_creds():
    text = render("vault", {name: "mount" for name in placeholders("vault")})
    capabilities = set(re.findall(r'"(\w+)"', " ".join(re.findall(r"capabilities\s*=\s*\[([^\]]*)\]", text))))
    assert capabilities == {"read", "list"}
    paths = re.findall(r'^path "([^"]+)"', text, re.M)
    assert paths and not [p for p in paths if "creds" in p or "sts" in p.split("/") or p.endswith("*")]


def test_every_placeholder_must_be_filled():
    with pytest.raises(KeyError):
        render("aws", {"Region": REGION})


# --- the CLI ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["audit", "--live", "--preview", "p.json"], "--live reads what is deployed"),
    (["audit", "--fail-on-drift"], "--fail-on-drift needs --live"),
    (["audit", "--live-workers", "4"], "--live-workers needs --live"),
    (["audit", "--live", "--live-workers", "0"], "--live-workers must be at least 1"),
])
def test_live_usage_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_live_environment_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setenv("KEYGUARD_LIVE_READ_TIMEOUT", "soon")
    assert main(["audit", "--live"]) == 2
    assert "KEYGUARD_LIVE_READ_TIMEOUT='soon' is not a number" in capsys.readouterr().err


# --- the AWS mapping, against moto's in-process mock -------------------------------------------------------

@pytest.fixture
def mocked_aws(monkeypatch):
    from moto import mock_aws
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "VAULT_ADDR", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        import boto3
        yield boto3.session.Session(region_name=REGION)


class _Quiet:
    def task(self, *args, **kwargs):
        import contextlib
        return contextlib.nullcontext(lambda n=None: None)


def test_discovery_maps_keys_buckets_and_policies(mocked_aws):
    from keyguard.sources import live
    kms, s3, iam = (mocked_aws.client(s) for s in ("kms", "s3", "iam"))
    key = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=180)
    other = kms.create_key()["KeyMetadata"]
    s3.create_bucket(Bucket="data")
    s3.put_bucket_encryption(Bucket="data", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
        "BucketKeyEnabled": True}]})
    s3.create_bucket(Bucket="plain")
    iam.create_policy(PolicyName="wide", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    audit = live.run(None, 2, _Quiet())
    by_name = {r.name: r for r in audit.resources}
    assert by_name[key["KeyId"]].props["enableKeyRotation"] is True
    assert by_name[key["KeyId"]].props["rotationPeriodInDays"] in (180, 365)   # moto omits the period: yearly
    assert by_name[other["KeyId"]].props["enableKeyRotation"] is False
    assert by_name[key["KeyId"]].props["deletionWindowInDays"] == UNREADABLE
    assert "not exposed" in audit.reasons[by_name[key["KeyId"]].urn]["deletionWindowInDays"]
    assert by_name["data-encryption"].props["rules"] == [{
        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key["Arn"]},
        "bucketKeyEnabled": True}]
    assert json.loads(by_name["wide"].props["policy"])["Statement"][0]["Action"] == "s3:*"
    assert audit.aws["region"] == REGION and audit.aws["account"] == ACCOUNT and audit.vault is None
    outcomes = {o.name: o for o in evaluate(Stack(audit.resources), catalog.resolve(None))}
    flagged = {(o.name, f.urn.rsplit("::", 1)[-1]) for o in outcomes.values() for f in o.findings if f.kind == "violation"}
    assert {("kms-key-rotation-enabled", other["KeyId"]), ("iam-no-wildcard-actions", "wide"),
            ("s3-bucket-sse-kms-cmk", "plain")} <= flagged
    assert not {f for f in flagged if f[1] in (key["KeyId"], "data", "data-encryption")} - {
        ("s3-bucket-sse-uses-stack-key", "data-encryption")}


def test_state_export_resources_read_live_with_drift(mocked_aws):
    from keyguard.sources import live
    kms, s3 = mocked_aws.client("kms"), mocked_aws.client("s3")
    key = kms.create_key()["KeyMetadata"]     # rotation never enabled
    s3.create_bucket(Bucket=BUCKET)
    declared = baseline()
    declared["key"] = make(T["key"], "ai-app-kms-key", dict(declared["key"].props),
                           {"id": key["KeyId"], "keyId": key["KeyId"], "arn": key["Arn"]})
    audit = live.run([declared["key"], declared["bucket"], declared["encryption"]], 2, _Quiet())
    found = {(d.urn.rsplit("::", 1)[-1], d.property) for d in audit.drift}
    assert ("ai-app-kms-key", "enableKeyRotation") in found
    assert ("ai-app-data-encryption", None) in found        # no encryption configuration any more
    by_name = {r.name: r for r in audit.resources}
    assert by_name["ai-app-data-encryption"].props["rules"] == UNREADABLE
    assert by_name["ai-app-kms-key"].outputs["arn"] == key["Arn"] != KEY_ARN
    assert BUCKET_ARN.endswith(by_name["ai-app-data"].props["bucket"])


# --- servers that do not answer: bounded, one line, exit 2 --------------------------------------------

def _free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_silent_endpoints_end_in_one_line_and_exit_2(capsys, monkeypatch):
    import socket
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)     # accepts connections, never answers
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        for name, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                            "VAULT_ADDR": f"http://127.0.0.1:{_free_port()}", "VAULT_TOKEN": "kg-sentinel-token",
                            "KEYGUARD_LIVE_READ_TIMEOUT": "1", "KEYGUARD_LIVE_CONNECT_TIMEOUT": "1",
                            "KEYGUARD_LIVE_MAX_ATTEMPTS": "1"}.items():
            monkeypatch.setenv(name, value)
        assert main(["audit", "--live", "--format", "json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("keyguard: error: live audit read nothing: ")
    assert "timeout" in err and endpoint in err and "unreachable" in err and "kg-sentinel-token" not in err
