"""What keyguard relies on in pulumi-policy (policy_pack/keyguard_policies/pulumi_policy_compat.py):
these tests fail when the installed SDK is another version or behaves differently. The first group
builds props with the SDK's own functions, as its server does; the second drives the real pack over
gRPC, the way the Pulumi CLI does (Remediate, then Analyze, as the engine orders them)."""
from __future__ import annotations

import dataclasses
import json
from importlib.metadata import version

import pytest
from google.protobuf import json_format
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties, serialize_properties
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from keyguard.analyzer_client import LEVELS, PackProcess, merged_config
from keyguard_policies import pulumi_policy_compat as compat

from .conftest import REPO

MANDATORY, ADVISORY = LEVELS["mandatory"], LEVELS["advisory"]


def secret(value):
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


WIRE = {  # props as the engine sends them during a preview: secrets, unknowns at every depth
    "description": secret("app key"),
    "policy": UNKNOWN_STRING_VALUE,
    "enableKeyRotation": False,
    "rotationPeriodInDays": UNKNOWN_NUMBER_VALUE,
    "tags": {"team": secret("ml"), "owner": UNKNOWN_STRING_VALUE},
    "statements": [{"Resource": [UNKNOWN_STRING_VALUE, "arn:aws:s3:::b/*"]}, UNKNOWN_STRING_VALUE],
}
PLAIN = {**WIRE, "description": "app key", "tags": {"team": "ml", "owner": UNKNOWN_STRING_VALUE}}


def validate_props():
    """What the SDK's server passes to `validate` (Analyze and AnalyzeStack)."""
    return unknown_checking_proxy(deserialize_properties(WIRE))


def remediate_props():
    """What the SDK's server passes to `remediate`."""
    return unknown_checking_proxy(deserialize_properties(WIRE, True))


def test_checked_against_the_installed_sdk():
    """A new pulumi-policy needs the compat module re-checked (its docstring lists what to check)."""
    assert version("pulumi-policy") == compat.CHECKED_AGAINST
    pins = dict(line.split("==") for line in (REPO / "policy_pack" / "requirements.txt").read_text().split()
                if "==" in line)
    assert pins["pulumi_policy"] == compat.CHECKED_AGAINST


def test_reading_an_unknown_raises_with_its_sentinel():
    """The behaviour plain() is built on: the proxy raises on an unknown, carrying the sentinel."""
    props = validate_props()
    with pytest.raises(UnknownValueError) as raised:
        props["tags"]["owner"]
    assert raised.value.unknown_type_sentinel == UNKNOWN_STRING_VALUE
    assert raised.value.message == "string value at .tags.owner can't be known during preview"
    with pytest.raises(UnknownValueError):
        props["statements"][1]


@pytest.mark.parametrize("props", [validate_props, remediate_props], ids=["validate", "remediate"])
def test_plain_keeps_unknowns_and_unwraps_secrets(props):
    value = compat.plain(props())
    assert value == PLAIN
    assert type(value) is dict and type(value["statements"]) is list and type(value["tags"]) is dict


def test_raise_unverifiable_is_the_sdks_unknown_value_error():
    with pytest.raises(UnknownValueError) as raised:
        compat.raise_unverifiable("policyDocument is not known yet")
    assert raised.value.message == "policyDocument is not known yet"


def test_with_changes_writes_only_changes_and_keeps_secrets_and_unknowns():
    props = remediate_props()
    result = compat.with_changes(props, {**compat.plain(props), "enableKeyRotation": True, "description": "rotated"})
    wire = serialize_properties(result)  # what the SDK's server sends back to the engine
    assert wire["enableKeyRotation"] is True
    assert wire["description"] == secret("rotated")  # a secret stays a secret when rewritten
    assert wire["tags"]["team"] == secret("ml")  # untouched secrets go back as they came
    assert wire["policy"] == UNKNOWN_STRING_VALUE and wire["rotationPeriodInDays"] == UNKNOWN_NUMBER_VALUE
    assert wire["statements"] == WIRE["statements"]
    assert compat.with_changes(remediate_props(), {"newProperty": 1})["newProperty"] == 1


# --- the same behaviour through the real pack, over gRPC --------------------------------------
@pytest.fixture(scope="module")
def pack():
    with PackProcess(REPO / "policy_pack") as process:
        yield process


def by_type(resources, suffix):
    return next(r for r in resources if r.type.endswith(suffix))


def test_analyze_sees_secret_values(pack, program_resources):
    pack.configure(merged_config())
    backend = by_type(program_resources, "secretBackend:SecretBackend")
    hidden = dataclasses.replace(backend, props={**backend.props, "maxLeaseTtlSeconds": secret(999999)})
    [diagnostic] = pack.analyze(hidden).diagnostics
    assert (diagnostic.policyName, diagnostic.enforcementLevel) == ("vault-mount-ttl-bounds", MANDATORY)
    assert "999999" in diagnostic.message


def test_analyze_with_an_unknown_deep_in_a_document(pack, program_resources):
    """An unknown ARN inside a statement reaches the rules (not a crash in the proxy, not a pass):
    the checks of the document are advisory preview notes, and the rest of the role is judged."""
    pack.configure(merged_config())
    role = by_type(program_resources, "SecretBackendRole")
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:*"], "Resource": ["arn:aws:s3:::b/*", UNKNOWN_STRING_VALUE]}]}
    props = {**role.props, "policyDocument": document, "credentialType": "session_token"}
    diagnostics = pack.analyze(dataclasses.replace(role, props=props)).diagnostics
    notes = {d.policyName for d in diagnostics if d.enforcementLevel == ADVISORY and "during preview" in d.message
             and "policyDocument" in d.message}
    assert notes == {"iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-no-not-action-not-resource",
                     "iam-known-actions", "iam-action-resource-match", "iam-no-privilege-escalation"}
    assert {d.policyName for d in diagnostics if d.enforcementLevel == MANDATORY} == {"vault-role-credential-type"}


def remediate_config(**params):
    return merged_config({"kms-key-rotation-enabled": {"enforcementLevel": "remediate", **params}})


def test_remediation_keeps_secrets_and_unknowns(pack, program_resources):
    pack.configure(remediate_config())
    key = by_type(program_resources, "kms/key:Key")
    off = dataclasses.replace(key, props={**key.props, "enableKeyRotation": False, "description": secret("app key"),
                                          "policy": UNKNOWN_STRING_VALUE})
    [remediation] = pack.remediate(off).remediations
    fixed = json_format.MessageToDict(remediation.properties)
    assert remediation.policyName == "kms-key-rotation-enabled" and not remediation.diagnostic
    assert fixed == {**off.props, "enableKeyRotation": True}


@pytest.mark.parametrize("bad", ["yearly", 30, 365.5])
def test_remediate_with_a_bad_config_fails_closed(pack, program_resources, bad):
    """As the engine runs them: Remediate must not fail the update (an RPC error aborts it) nor
    change anything; the Analyze that follows blocks the resource, naming the configuration."""
    pack.configure(remediate_config(maxRotationPeriodDays=bad))
    key = by_type(program_resources, "kms/key:Key")
    off = dataclasses.replace(key, props={**key.props, "enableKeyRotation": False})
    assert list(pack.remediate(off).remediations) == []
    diagnostics = [(d.policyName, d.enforcementLevel, d.message) for d in pack.analyze(off).diagnostics]
    assert len(diagnostics) == 1, diagnostics
    [(name, level, message)] = diagnostics
    assert (name, level) == ("kms-key-rotation-enabled", MANDATORY)
    assert "\ninvalid policy configuration, failing closed: kms-key-rotation-enabled.maxRotationPeriodDays: " in message
    # the compliant key is blocked too: a configuration the pack cannot read never passes anything
    assert [d.policyName for d in pack.analyze(key).diagnostics] == ["kms-key-rotation-enabled"]
    pack.configure(merged_config())


def test_remediation_output_is_json_the_engine_accepts(pack, program_resources):
    """The properties come back as a protobuf Struct the engine turns into resource inputs."""
    pack.configure(remediate_config())
    key = by_type(program_resources, "kms/key:Key")
    off = dataclasses.replace(key, props={**key.props, "enableKeyRotation": False, "rotationPeriodInDays": 2000})
    [remediation] = pack.remediate(off).remediations
    fixed = json.loads(json_format.MessageToJson(remediation.properties))
    assert fixed["enableKeyRotation"] is True and fixed["rotationPeriodInDays"] == 365
    pack.configure(merged_config())


def test_a_resource_policy_with_a_stack_part_is_one_policy_run_in_both_calls(pack, program_resources):
    """ResourceAndStackPolicy: listed once, typed "resource", run by Analyze on the resource's own
    statements and by AnalyzeStack on what needs the stack (a cross-account root in a key policy)."""
    from keyguard_policies.model import Resource
    info = {}
    for p in pack.info().policies:
        info.setdefault(p.name, []).append(p.policy_type)
    resource_type = next(p.policy_type for p in pack.info().policies if p.name == "iam-known-actions")
    assert info["iam-no-wildcard-actions"] == [resource_type]
    key = next(r for r in program_resources if r.type == "aws:kms/key:Key")
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:*", "Resource": "*"}]}
    key_policy = Resource("urn:pulumi:dev::keyguard::aws:kms/keyPolicy:KeyPolicy::kp", "aws:kms/keyPolicy:KeyPolicy",
                          {"keyId": key.outputs["keyId"], "policy": json.dumps(doc)})
    assert [d.policyName for d in pack.analyze(key_policy).diagnostics] == []
    state = [dataclasses.replace(r, props={**r.outputs, **r.props}) for r in program_resources
             if not r.type.startswith("pulumi:providers:")]
    diagnostics = pack.analyze_stack([*state, key_policy]).diagnostics
    assert {(d.policyName, d.urn, d.enforcementLevel) for d in diagnostics} == {
        ("iam-no-wildcard-actions", key_policy.urn, MANDATORY)}
