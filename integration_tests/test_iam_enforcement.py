"""Scenario: with IAM enforcement (moto), Vault's credentials for the deployed stack's role can do
exactly what the role document allows, and a role the policy pack flags (`s3:*` on `*`) really reaches
data it should not. LocalStack does not enforce IAM: these tests skip there and say so."""
from __future__ import annotations

import json

import botocore.exceptions
import pytest

from . import clients, stack_deploy

pytestmark = [pytest.mark.integration, pytest.mark.iam_enforcement, pytest.mark.timeout(600)]

BROAD_DOCUMENT = {"Version": "2012-10-17",
                  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def _denied(call, *args, **kwargs) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response
    status = error.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = error.get("Error", {}).get("Code", "")
    # moto answers KMS denials with HTTP 403 and the XML in the message, not AccessDeniedException
    assert status == 403 or "AccessDenied" in code, error
    assert "InvalidAccessKeyId" not in code and "InvalidClientTokenId" not in code, error
    return caught.value


def _allowed_first(app, deployment) -> None:
    """The same credentials do work for what the document allows: a denial below is the policy's."""
    app.list_objects_v2(Bucket=deployment.stack.bucket)


def test_unknown_credentials_are_rejected(iam_enforced):
    bogus = clients.AwsCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam_enforced.client("s3", bogus).list_objects_v2(Bucket=iam_enforced.stack.bucket)
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_denied_on_another_bucket(iam_enforced, issued):
    app = iam_enforced.client("s3", issued.credentials)
    _allowed_first(app, iam_enforced)
    _denied(app.list_objects_v2, Bucket=iam_enforced.other_bucket)
    _denied(app.get_object, Bucket=iam_enforced.other_bucket, Key="not-for-the-app.txt")
    _denied(app.put_object, Bucket=iam_enforced.other_bucket, Key="exfiltrated.txt", Body=b"x")


def test_denied_delete_object(iam_enforced, issued):
    app = iam_enforced.client("s3", issued.credentials)
    app.put_object(Bucket=iam_enforced.stack.bucket, Key="keep-me.txt", Body=b"keep")
    _denied(app.delete_object, Bucket=iam_enforced.stack.bucket, Key="keep-me.txt")
    head = iam_enforced.client("s3").head_object(Bucket=iam_enforced.stack.bucket, Key="keep-me.txt")
    assert head["ContentLength"] == 4


def test_denied_iam_create_user(iam_enforced, issued):
    _allowed_first(iam_enforced.client("s3", issued.credentials), iam_enforced)
    iam = iam_enforced.client("iam", issued.credentials)
    _denied(iam.create_user, UserName=clients.unique_name("escalated"))


def test_denied_kms_schedule_key_deletion(iam_enforced, issued, settings):
    _allowed_first(iam_enforced.client("s3", issued.credentials), iam_enforced)
    kms = iam_enforced.client("kms", issued.credentials)
    _denied(kms.schedule_key_deletion, KeyId=iam_enforced.stack.key_arn,
            PendingWindowInDays=settings.key_deletion_window_days)
    state = iam_enforced.client("kms").describe_key(KeyId=iam_enforced.stack.key_arn)["KeyMetadata"]["KeyState"]
    assert state == "Enabled"


def test_flagged_broad_role_really_reaches_the_other_bucket(iam_enforced, vault, vault_backend, settings, tmp_path):
    """The policy pack flags `s3:*` on `*` (iam-no-wildcard-actions, iam-no-wildcard-resources) and not
    the stack's document; live, the flagged role does reach data outside the stack and the stack's
    role does not (test_denied_on_another_bucket): the verdict matches the behaviour."""
    role = "ai-app-broad"
    clients.write_role(vault, vault_backend.path, role, settings.credential_type, BROAD_DOCUMENT)
    stored = vault.read(f"{vault_backend.path}/roles/{role}")["data"]["policy_document"]
    assert json.loads(stored) == BROAD_DOCUMENT
    # the deployed stack's export with the broad role beside the stack's own, through `keyguard audit --state`
    report = stack_deploy.audit(stack_deploy.with_role(stack_deploy.export(iam_enforced.workspace), role, stored),
                                tmp_path)
    assert {"iam-no-wildcard-actions", "iam-no-wildcard-resources"} <= stack_deploy.violated(report, role)
    assert not {"iam-no-wildcard-actions", "iam-no-wildcard-resources"} & stack_deploy.violated(report, "ai-app-role")
    broad = clients.issue_credentials(vault, vault_backend.path, role)
    try:
        app = iam_enforced.client("s3", broad.credentials)
        listed = [item["Key"] for item in app.list_objects_v2(Bucket=iam_enforced.other_bucket)["Contents"]]
        assert "not-for-the-app.txt" in listed
        body = app.get_object(Bucket=iam_enforced.other_bucket, Key="not-for-the-app.txt")["Body"].read()
        assert body == b"someone else's data"
        app.delete_object(Bucket=iam_enforced.stack.bucket, Key="does-not-exist.txt")  # allowed too
    finally:
        vault.sys.revoke_lease(broad.lease_id)
        vault.delete(f"{vault_backend.path}/roles/{role}")
