"""What every policy that reads IAM documents shares: a malformed document is a violation
naming the defect wherever it lives (fail closed), and an unknown one is unverifiable."""
import pytest

from tests.baseline import APP, IAM_LEAST_PRIVILEGE, UNKNOWN, baseline, malformed_documents, raw_carriers, run, with_props

# iam-resources-scoped-to-stack reads identity documents only: its own module covers them
EVERY_LOCATION = [p for p in IAM_LEAST_PRIVILEGE if p != "iam-resources-scoped-to-stack"]


@pytest.mark.parametrize("policy", EVERY_LOCATION)
@pytest.mark.parametrize("kinds,principal", [(("identity",), None), (("resource", "key"), APP)])
@pytest.mark.parametrize("case", range(len(malformed_documents())))
def test_malformed_document_fails_closed_everywhere(policy, kinds, principal, case):
    """Identity documents carry no Principal (it is a defect of its own there); resource and key
    policies need one."""
    value, defect = malformed_documents(principal)[case]
    carriers = raw_carriers(value, kinds)
    outcome = run(policy, carriers)
    assert outcome.violations == {(policy, c.name) for c in carriers}
    assert all(defect in m for m in outcome.messages), outcome.messages


@pytest.mark.parametrize("policy", IAM_LEAST_PRIVILEGE)
def test_unknown_document_is_unverifiable(policy):
    resources = baseline()
    resources["role"] = with_props(resources["role"], policyDocument=UNKNOWN)
    outcome = run(policy, resources)
    assert outcome.violations == set()
    assert outcome.unverifiable == {(policy, "ai-app-role")}
