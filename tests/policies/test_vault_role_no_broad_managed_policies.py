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
    # AmazonBedrockWebSearchReadOnly's own document passes the least-privilege rules (data/aws_managed_policies.json)
    arns = ["arn:aws:iam::aws:policy/AmazonBedrockWebSearchReadOnly", OWN]
    assert run(POLICY, baseline_with("role", policyArns=arns)).status == "pass"


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::aws:policy/job-function/SystemAdministrator", "arn:aws:iam::aws:policy/job-function/NetworkAdministrator",
    "arn:aws:iam::aws:policy/job-function/DatabaseAdministrator", "arn:aws:iam::aws:policy/job-function/DataScientist",
    "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "arn:aws:iam::aws:policy/job-function/Billing",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",  # reads every bucket's objects and every parameter: the AI app's data and more
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/SecurityAudit",
    "arn:aws-us-gov:iam::aws:policy/job-function/SystemAdministrator", "arn:aws-cn:iam::aws:policy/AdministratorAccess",
    "ARN:AWS:IAM::aws:policy/job-function/systemadministrator", "arn:aws:iam::AWS:policy/POWERUSERACCESS",
    "arn:aws-iso-b:iam::aws:policy/AmazonEC2FullAccess"])
def test_administrative_and_read_everything_policies_are_flagged_in_any_partition_and_case(arn):
    outcome = run(POLICY, baseline_with("role", policyArns=[arn]))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == [m for m in outcome.messages if arn in m]


def test_job_function_policy_message_names_the_rules_its_document_fails():
    outcome = run(POLICY, baseline_with("role", policyArns="arn:aws:iam::aws:policy/job-function/SystemAdministrator"))
    [message] = outcome.messages
    assert "iam-no-privilege-escalation" in message and "iam-no-wildcard-actions" in message


def test_aws_managed_policy_missing_from_the_data_is_unverifiable():
    outcome = run(POLICY, baseline_with("role", policyArns=["arn:aws:iam::aws:policy/AmazonBrandNewServiceReadOnly"]))
    assert outcome.violations == set() and outcome.unverifiable == {(POLICY, "ai-app-role")}


def test_customer_managed_policy_outside_the_allowed_list_with_aws_managed_next_to_it():
    outcome = run(POLICY, baseline_with("role", policyArns=[OWN, "arn:aws:iam::aws:policy/AmazonBedrockWebSearchReadOnly",
                                                            f"arn:aws:iam::{ACCOUNT}:policy/other"]),
                  {"allowedPolicyArns": [OWN, "arn:aws:iam::aws:policy/AmazonBedrockWebSearchReadOnly"]})
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert len(outcome.messages) == 1 and "policy/other" in outcome.messages[0]


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
