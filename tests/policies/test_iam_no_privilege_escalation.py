import pytest

from keyguard_policies.policies.iam_no_privilege_escalation import escalation_actions

from tests.baseline import (ACCOUNT, APP, KEY_ARN, OBJECTS, ROOT, allow, baseline, document_carriers, make,
                            policy_doc, role_document, run, with_key_policy, with_props, with_role_document)

POLICY = "iam-no-privilege-escalation"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ai-app-worker"
KEY_POLICY_JUDGES = ["iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-action-resource-match", POLICY]


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


def test_pass_role_scoped_to_one_role_is_still_flagged():
    outcome = run(POLICY, with_role_document(policy_doc(allow("iam:PassRole", ROLE_ARN))))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.messages == ["policyDocument statement #1 grants privilege-escalation action(s) iam:PassRole"]


@pytest.mark.parametrize("action", ["iam:*", "iam:Put*Policy", "*", "iam:passrole", "iam:Pass*", "iam:Attach*Policy",
                                    "iam:CreateAccessKey", "iam:CreatePolicyVersion", "iam:UpdateAssumeRolePolicy",
                                    "sts:AssumeRole", "sts:*", "lambda:UpdateFunctionCode", "*:*"])
def test_escalation_actions_are_flagged(action):
    outcome = run(POLICY, with_role_document(policy_doc(allow(["s3:GetObject", action], [OBJECTS, ROLE_ARN]))))
    assert outcome.violations == {(POLICY, "ai-app-role")}


def test_put_policy_pattern_names_the_actions():
    outcome = run(POLICY, with_role_document(policy_doc(allow("iam:Put*Policy", "*"))))
    [message] = outcome.messages
    assert "iam:PutGroupPolicy" in message and "iam:PutRolePolicy" in message and "iam:PutUserPolicy" in message


def test_not_action_allow_is_flagged():
    outcome = run(POLICY, with_role_document(policy_doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})))
    assert outcome.violations == {(POLICY, "ai-app-role")}


def test_not_action_excluding_every_escalation_action_passes():
    services = sorted({a.split(":")[0] for a in escalation_actions()})  # every service of the generated set
    doc = policy_doc({"Effect": "Allow", "NotAction": [f"{s}:*" for s in services], "Resource": OBJECTS})
    assert run(POLICY, with_role_document(doc)).violations == set()
    doc = policy_doc({"Effect": "Allow", "NotAction": [f"{s}:*" for s in services if s != "ecs"], "Resource": OBJECTS})
    assert run(POLICY, with_role_document(doc)).violations == {(POLICY, "ai-app-role")}


@pytest.mark.parametrize("action", ["kms:Decrypt", "kms:GenerateDataKey", "s3:GetObject", "iam:GetRole",
                                    "iam:ListRoles", "sts:GetCallerIdentity", "s3:Put*"])
def test_harmless_actions_pass(action):
    assert run(POLICY, with_role_document(policy_doc(allow(action, "*")))).status == "pass"


def test_escalation_in_deny_is_fine():
    doc = role_document()
    doc["Statement"].append({"Effect": "Deny", "Action": ["iam:*", "sts:AssumeRole"], "Resource": "*"})
    assert run(POLICY, with_role_document(doc)).status == "pass"


@pytest.mark.parametrize("form", ["string", "object"])
def test_single_statement_and_single_values(form):
    doc = {"Version": "2012-10-17", "Statement": allow("sts:AssumeRole", ROLE_ARN)}
    assert run(POLICY, with_role_document(doc, form)).violations == {(POLICY, "ai-app-role")}


def test_every_document_location_and_form():
    carriers = document_carriers(policy_doc(allow("iam:PassRole", ROLE_ARN)))
    assert run(POLICY, carriers).violations == {(POLICY, c.name) for c in carriers}


def test_every_document_location_and_form_passes():
    carriers = document_carriers(policy_doc(allow("s3:GetObject", OBJECTS)))
    assert run(POLICY, carriers).status == "pass"


def test_key_policy_root_delegation_is_not_a_violation():
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=policy_doc(ROOT))
    assert run(POLICY, resources).status == "pass"


def test_key_policy_granting_pass_role_is_judged():
    resources = baseline()
    resources["key"] = with_props(resources["key"], policy=policy_doc(ROOT, allow("iam:PassRole", "*", Principal=APP)))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}


# The KMS key policy semantics the four least-privilege policies share (SPEC: Policy catalog)

@pytest.mark.parametrize("policy", KEY_POLICY_JUDGES)
@pytest.mark.parametrize("principal", [{"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
                                       {"AWS": ACCOUNT}])
@pytest.mark.parametrize("form", ["string", "object"])
def test_default_root_delegation_is_not_a_violation(policy, principal, form):
    outcome = run(policy, with_key_policy(policy_doc(dict(ROOT, Principal=principal)), form))
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("policy", KEY_POLICY_JUDGES)
def test_default_root_delegation_on_a_key_policy_resource(policy):
    resources = baseline()
    resources["key_policy"] = make("aws:kms/keyPolicy:KeyPolicy", "key-policy",
                                   {"keyId": KEY_ARN, "policy": policy_doc(ROOT)})
    assert run(policy, resources).status == "pass"


def test_another_accounts_root_with_kms_star_is_judged():
    other = dict(ROOT, Principal={"AWS": "arn:aws:iam::999999999999:root"})
    assert run("iam-no-wildcard-actions", with_key_policy(policy_doc(other))).violations == \
        {("iam-no-wildcard-actions", "ai-app-kms-key")}
    resources = baseline()
    resources["key_policy"] = make("aws:kms/keyPolicy:KeyPolicy", "key-policy",
                                   {"keyId": KEY_ARN, "policy": policy_doc(other)})
    assert run("iam-no-wildcard-actions", resources).violations == {("iam-no-wildcard-actions", "key-policy")}


@pytest.mark.parametrize("changes", [{"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
                                     {"Resource": KEY_ARN}, {"Action": ["kms:*", "iam:PassRole"]}])
def test_statements_that_only_resemble_the_default_are_judged(changes):
    outcome = run("iam-no-wildcard-actions", with_key_policy(policy_doc(dict(ROOT, **changes))))
    assert outcome.violations == {("iam-no-wildcard-actions", "ai-app-kms-key")}


# fail closed and unknown



def test_every_escalation_action_of_a_statement_is_named():
    """Several action strings of one statement, each granting escalation actions: the message
    names all of them (the union over the statement's strings), case-folded and deduplicated."""
    doc = policy_doc(allow(["s3:GetObject", "iam:PassRole", "iam:Put*Policy", "IAM:PASSROLE", "kms:Decrypt",
                            "iam:CreatePolicyVersion"], "*"))
    outcome = run(POLICY, with_role_document(doc))
    assert outcome.messages == ["policyDocument statement #1 grants privilege-escalation action(s) "
                                "iam:CreatePolicyVersion, iam:PassRole, iam:PutGroupPolicy, iam:PutRolePolicy and 1 more"]
