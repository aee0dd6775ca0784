"""Scenario: iam-sse-kms-key-grants matters at run time, on the deployed stack. With IAM enforcement
(moto), credentials Vault issues on the deployed mount for a role document the policy flags (the seed's,
or the deployed role's without its KMS statement) are denied kms:GenerateDataKey and kms:Decrypt on the
stack key, the two calls S3 makes with the caller's permissions to write and read an SSE-KMS object.
moto's S3 does not make those calls itself, so the test makes them directly, as S3 would. The verdicts
come from `keyguard audit --state` of the deployed stack's `pulumi stack export` with the role added.

The allowed side: moto authorizes every KMS request against the resource "*" (moto/core/responses.py
`call_action`: only IAM, STS and SQS determine a resource), so a grant scoped to the key ARN, as in the
deployed role's own document, is refused there although AWS honours it. The control is therefore the
deployed role's document with its KMS statement on "*", which the policy passes too (a "*" resource
covers the key); it differs from the deployed document in nothing else. LocalStack does not enforce
IAM: these tests skip there and say so."""
from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from typing import Any

import botocore.exceptions
import pytest

from tests.test_seed_document import seed_role_document

from . import clients, stack_deploy

pytestmark = [pytest.mark.integration, pytest.mark.iam_enforcement, pytest.mark.timeout(600)]

POLICY = "iam-sse-kms-key-grants"


def _verdict(deployment, name: str, document: str, tmp_path) -> set[str]:
    """The policies the role `name` with `document` (as Vault stores it) violates, judged beside the
    deployed key, bucket and encryption in the deployed stack's export."""
    report = stack_deploy.audit(stack_deploy.with_role(stack_deploy.export(deployment.workspace), name, document),
                                tmp_path)
    assert not [f for f in report["findings"] if f["kind"] == "unverifiable" and f["policy"] == POLICY], report
    return stack_deploy.violated(report, name)


def _without_kms(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    document["Statement"] = [s for s in document["Statement"] if not any(a.startswith("kms:") for a in s["Action"])]
    return document


def _kms_on_star(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    for statement in document["Statement"]:
        if any(a.startswith("kms:") for a in statement["Action"]):
            statement["Resource"] = "*"
    return document


def _access_denied(call, *args, **kwargs) -> str:
    """The call fails with AccessDenied; returns the denial's message. moto answers KMS denials with
    HTTP 403 and the query-protocol XML error as the message."""
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403, error
    code, message = error["Error"].get("Code", ""), error["Error"].get("Message", "")
    if message.lstrip().startswith("<?xml"):
        root = ET.fromstring(message)
        code, message = root.findtext(".//Code", ""), root.findtext(".//Message", "")
    assert code in ("AccessDenied", "AccessDeniedException"), error
    return message


@pytest.fixture
def role_for(vault, vault_backend, settings):
    """Write a Vault role with a document, issue its credentials; revoke and delete afterwards."""
    made: list[tuple[str, clients.IssuedCredentials]] = []

    def make(name: str, document: dict[str, Any]) -> tuple[clients.IssuedCredentials, str]:
        clients.write_role(vault, vault_backend.path, name, settings.credential_type, document)
        stored = vault.read(f"{vault_backend.path}/roles/{name}")["data"]["policy_document"]
        issued = clients.issue_credentials(vault, vault_backend.path, name)
        made.append((name, issued))
        return issued, stored

    yield make
    for name, issued in made:
        try:
            vault.sys.revoke_lease(issued.lease_id)
        finally:
            vault.delete(f"{vault_backend.path}/roles/{name}")


@pytest.fixture
def ciphertext(iam_enforced) -> bytes:
    """A data key S3 would have stored with an object written under the bucket's default encryption."""
    kms = iam_enforced.client("kms")
    return kms.generate_data_key(KeyId=iam_enforced.stack.key_arn, KeySpec="AES_256")["CiphertextBlob"]


@pytest.mark.parametrize("flagged", ["seed", "stack-without-kms"])
def test_credentials_for_a_flagged_document_are_denied_the_bucket_key(flagged, iam_enforced, role_for, ciphertext,
                                                                      tmp_path):
    deployment = iam_enforced.stack
    document = (seed_role_document(deployment.bucket_arn, deployment.key_arn) if flagged == "seed"
                else _without_kms(deployment.role_document))
    role = f"ai-app-{flagged}"
    issued, stored = role_for(role, document)
    assert POLICY in _verdict(iam_enforced, role, stored, tmp_path)

    # the credentials are valid and S3 itself lets them write and read (moto's S3 skips the KMS calls) ...
    app = iam_enforced.client("s3", issued.credentials)
    app.put_object(Bucket=deployment.bucket, Key=f"{role}.txt", Body=b"written")
    assert app.get_object(Bucket=deployment.bucket, Key=f"{role}.txt")["Body"].read() == b"written"
    # ... but the KMS calls S3 makes for them on AWS are refused: every write and read would fail
    kms = iam_enforced.client("kms", issued.credentials)
    denied = _access_denied(kms.generate_data_key, KeyId=deployment.key_arn, KeySpec="AES_256")
    assert "kms:GenerateDataKey" in denied
    denied = _access_denied(kms.decrypt, CiphertextBlob=ciphertext, KeyId=deployment.key_arn)
    assert "kms:Decrypt" in denied


def test_credentials_for_a_document_the_policy_passes_use_the_bucket_key(iam_enforced, role_for, ciphertext,
                                                                          tmp_path):
    deployment = iam_enforced.stack
    role = "ai-app-kms-star"
    issued, stored = role_for(role, _kms_on_star(deployment.role_document))
    assert POLICY not in _verdict(iam_enforced, role, stored, tmp_path)
    # the deployed role itself, as the stack declares it: passes
    report = stack_deploy.audit(stack_deploy.export(iam_enforced.workspace), tmp_path)
    assert POLICY not in stack_deploy.violated(report, "ai-app-role")
    assert POLICY in {p["name"] for p in report["policies"] if p["status"] == "pass"}

    kms = iam_enforced.client("kms", issued.credentials)
    data_key = kms.generate_data_key(KeyId=deployment.key_arn, KeySpec="AES_256")
    assert len(data_key["Plaintext"]) == 32
    assert data_key["KeyId"] in (deployment.key_arn, deployment.key_id)
    again = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], KeyId=deployment.key_arn)
    assert again["Plaintext"] == data_key["Plaintext"]
    assert len(kms.decrypt(CiphertextBlob=ciphertext, KeyId=deployment.key_arn)["Plaintext"]) == 32
