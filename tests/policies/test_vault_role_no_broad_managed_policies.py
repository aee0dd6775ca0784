import pytest

from tests.baseline import ACCOUNT, UNKNOWN, baseline, baseline_with, run

POLICY = "vault-role-no-broad-managed-policies"
OWN = f"arn:aws:iam::{ACCOUNT}:policy/ai-app-extra"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("name", ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonS3FullAccess",
                                  "AWSKeyManagementServicePowerUser" + "FullAccess"])
def test_broad_aws_managed_policy_is_flagged(name):
    outcome = run(POLICY, baseline_with("role", policyArns=[f"arn:aws:iam::aws:policy/{name}"]))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any(name in m for m in outcome.messages)


def test_broad_policy_with_path_and_single_value():
    outcome = run(POLICY, baseline_with("role", policyArns="arn:aws:iam::aws:policy/job-function/AdministratorAccess"))
    assert outcome.violations == {(POLICY, "ai-app-role")}


def test_narrow_aws_managed_and_own_policies_pass():
    arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", OWN]
    assert run(POLICY, baseline_with("role", policyArns=arns)).status == "pass"


def test_customer_policy_named_like_full_access_is_not_aws_managed():
    resources = baseline_with("role", policyArns=[f"arn:aws:iam::{ACCOUNT}:policy/MyFullAccess"])
    assert run(POLICY, resources).status == "pass"


def test_allowed_policy_arns_parameter_takes_effect():
    other = f"arn:aws:iam::{ACCOUNT}:policy/other"
    resources = baseline_with("role", policyArns=[OWN, other])
    assert run(POLICY, resources).status == "pass"
    outcome = run(POLICY, resources, {"allowedPolicyArns": [OWN]})
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert len(outcome.messages) == 1 and other in outcome.messages[0]
    assert run(POLICY, resources, {"allowedPolicyArns": [OWN, other]}).status == "pass"


def test_allowed_list_does_not_excuse_a_broad_policy():
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    outcome = run(POLICY, baseline_with("role", policyArns=[admin]), {"allowedPolicyArns": [admin]})
    assert outcome.violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("groups", [["ai-app-readers"], "ai-app-readers"])
def test_iam_groups_are_reported(groups):
    outcome = run(POLICY, baseline_with("role", iamGroups=groups))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert any("ai-app-readers" in m and "cannot be checked" in m for m in outcome.messages)


def test_empty_lists_pass():
    assert run(POLICY, baseline_with("role", policyArns=[], iamGroups=[])).status == "pass"


@pytest.mark.parametrize("changes", [{"policyArns": UNKNOWN}, {"policyArns": [OWN, UNKNOWN]}, {"iamGroups": UNKNOWN}])
def test_unknown_values_are_unverifiable(changes):
    outcome = run(POLICY, baseline_with("role", **changes))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("arns", [[42], [None], [{"arn": OWN}]])
def test_malformed_policy_arns_fail_closed(arns):
    outcome = run(POLICY, baseline_with("role", policyArns=arns))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert all("malformed input" in m for m in outcome.messages), outcome.messages
