import pytest

from keyguard_policies.policies import RULES
from tests.baseline import DELETE, UNKNOWN, T, baseline, baseline_with, make, run, with_props

POLICY = "kms-key-rotation-enabled"
remediate = RULES[POLICY].remediate
DEFAULTS = {"maxRotationPeriodDays": 365}


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("value", [False, DELETE, None, "false"])
def test_rotation_off_or_unset_is_flagged(value):
    outcome = run(POLICY, baseline_with("key", enableKeyRotation=value))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert any("enableKeyRotation" in m for m in outcome.messages)


def test_rotation_as_string_true_passes():
    assert run(POLICY, baseline_with("key", enableKeyRotation="true")).status == "pass"


@pytest.mark.parametrize("period", [366, 366.0, "400", 2560])
def test_rotation_period_above_maximum_is_flagged(period):
    outcome = run(POLICY, baseline_with("key", rotationPeriodInDays=period))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert any("rotationPeriodInDays" in m for m in outcome.messages)


@pytest.mark.parametrize("period", [90, 365, 365.0, "365", DELETE])
def test_rotation_period_within_maximum_passes(period):
    assert run(POLICY, baseline_with("key", rotationPeriodInDays=period)).status == "pass"


def test_rotation_off_and_period_too_long_is_one_resource_two_messages():
    outcome = run(POLICY, baseline_with("key", enableKeyRotation=False, rotationPeriodInDays=730))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert len(outcome.messages) == 2


def test_max_rotation_period_parameter_takes_effect():
    resources = baseline_with("key", rotationPeriodInDays=180)
    assert run(POLICY, resources).status == "pass"
    assert run(POLICY, resources, {"maxRotationPeriodDays": 90}).violations == {(POLICY, "ai-app-kms-key")}
    resources = baseline_with("key", rotationPeriodInDays=730)
    assert run(POLICY, resources, {"maxRotationPeriodDays": 730}).status == "pass"


@pytest.mark.parametrize("spec,usage", [("RSA_2048", "ENCRYPT_DECRYPT"), ("ECC_NIST_P256", "SIGN_VERIFY"),
                                        ("HMAC_256", "GENERATE_VERIFY_MAC"),
                                        ("SYMMETRIC_DEFAULT", "GENERATE_VERIFY_MAC")])
def test_asymmetric_and_hmac_keys_are_not_subject(spec, usage):
    outcome = run(POLICY, baseline_with("key", customerMasterKeySpec=spec, keyUsage=usage, enableKeyRotation=False))
    assert outcome.violations == set() and outcome.status == "pass"


def test_key_spec_property_is_read_too():
    outcome = run(POLICY, baseline_with("key", customerMasterKeySpec=DELETE, keySpec="RSA_4096",
                                        enableKeyRotation=False))
    assert outcome.violations == set()


def test_key_with_defaults_only_is_symmetric_and_flagged():
    resources = baseline()
    resources["key"] = make(T["key"], "ai-app-kms-key", {"description": "x"})
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


@pytest.mark.parametrize("changes", [{"enableKeyRotation": UNKNOWN}, {"rotationPeriodInDays": UNKNOWN},
                                     {"customerMasterKeySpec": UNKNOWN}])
def test_unknown_values_are_unverifiable(changes):
    outcome = run(POLICY, baseline_with("key", **changes))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-kms-key")}


@pytest.mark.parametrize("changes", [{"enableKeyRotation": 1}, {"rotationPeriodInDays": "a year"},
                                     {"rotationPeriodInDays": 365.5}])
def test_malformed_values_fail_closed(changes):
    outcome = run(POLICY, baseline_with("key", **changes))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert all("malformed input" in m for m in outcome.messages)


def test_two_keys_one_bad():
    resources = baseline()
    resources["key2"] = make(T["key"], "other-key", {"enableKeyRotation": False})
    assert run(POLICY, resources).violations == {(POLICY, "other-key")}


# remediation

def test_remediate_turns_rotation_on():
    props = dict(baseline()["key"].props, enableKeyRotation=False)
    fixed = remediate(props, DEFAULTS)
    assert fixed["enableKeyRotation"] is True
    assert {k: v for k, v in fixed.items() if k != "enableKeyRotation"} == \
        {k: v for k, v in props.items() if k != "enableKeyRotation"}
    assert props["enableKeyRotation"] is False  # input not mutated


def test_remediate_sets_rotation_when_unset():
    fixed = remediate({"description": "k"}, DEFAULTS)
    assert fixed == {"description": "k", "enableKeyRotation": True}


def test_remediate_caps_rotation_period():
    fixed = remediate({"enableKeyRotation": False, "rotationPeriodInDays": 730.0}, DEFAULTS)
    assert fixed == {"enableKeyRotation": True, "rotationPeriodInDays": 365}
    assert remediate({"enableKeyRotation": True, "rotationPeriodInDays": 400},
                     {"maxRotationPeriodDays": 180}) == {"enableKeyRotation": True, "rotationPeriodInDays": 180}


def test_remediate_returns_none_when_compliant():
    assert remediate(dict(baseline()["key"].props), DEFAULTS) is None
    assert remediate({"enableKeyRotation": True}, DEFAULTS) is None


def test_remediate_leaves_asymmetric_keys_alone():
    assert remediate({"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}, DEFAULTS) is None


def test_remediated_props_pass_the_check():
    resources = baseline()
    fixed = remediate(dict(resources["key"].props, enableKeyRotation=False, rotationPeriodInDays=900), DEFAULTS)
    resources["key"] = with_props(resources["key"], **fixed)
    assert run(POLICY, resources).status == "pass"


def test_remediate_with_unknown_period_still_turns_rotation_on():
    fixed = remediate({"enableKeyRotation": False, "rotationPeriodInDays": UNKNOWN}, DEFAULTS)
    assert fixed == {"enableKeyRotation": True, "rotationPeriodInDays": UNKNOWN}


@pytest.mark.parametrize("props", [{"customerMasterKeySpec": UNKNOWN}, {"keyUsage": 7},
                                   {"enableKeyRotation": True, "rotationPeriodInDays": "a year"}])
def test_remediate_never_raises_on_unknown_or_malformed_input(props):
    fixed = remediate(props, DEFAULTS)
    assert fixed is None or fixed["enableKeyRotation"] is True
