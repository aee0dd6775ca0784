"""Scenario: credentials issued by Vault for the deployed stack's role write and read the application's
objects, and every object comes back encrypted with SSE-KMS under the stack's key."""
from __future__ import annotations

import hashlib

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

OBJECTS = {
    "models/embedding-v1.bin": bytes(range(256)) * 64,
    "prompts/system.txt": b"You are a helpful assistant.\n",
    "datasets/train/part-0000.jsonl": b'{"text": "hello"}\n' * 100,
}


def _same_key(answer: str, stack) -> bool:
    """Emulators name the key by ARN (as configured); accept the bare key id too."""
    return answer in (stack.key_arn, stack.key_id)


def test_issued_credentials_are_a_new_iam_user(issued, deployment):
    assert issued.credentials.access_key_id != deployment.admin.access_key_id
    assert issued.credentials.access_key_id != deployment.vault_root.access_key_id
    assert issued.credentials.secret_access_key
    iam = deployment.client("iam")
    users = {user["UserName"] for user in iam.list_users()["Users"]}
    owners = [name for name in users
              if issued.credentials.access_key_id in
              [key["AccessKeyId"] for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]]
    assert len(owners) == 1 and owners[0].startswith("vault-")


def test_credentials_write_and_read_objects_encrypted_with_the_stack_key(issued, deployment):
    app = deployment.client("s3", issued.credentials)
    bucket = deployment.stack.bucket
    for key, body in OBJECTS.items():
        put = app.put_object(Bucket=bucket, Key=key, Body=body)  # no SSE parameter: bucket default applies
        assert put["ServerSideEncryption"] == "aws:kms"
        assert _same_key(put["SSEKMSKeyId"], deployment.stack)

    listed = {item["Key"] for item in app.list_objects_v2(Bucket=bucket)["Contents"]}
    assert set(OBJECTS) <= listed

    for key in listed:  # every object in the bucket, not only ours
        got = app.get_object(Bucket=bucket, Key=key)
        body = got["Body"].read()
        assert got["ServerSideEncryption"] == "aws:kms", key
        assert _same_key(got["SSEKMSKeyId"], deployment.stack), key
        if key in OBJECTS:
            assert hashlib.sha256(body).digest() == hashlib.sha256(OBJECTS[key]).digest()
        head = deployment.client("s3").head_object(Bucket=bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert _same_key(head["SSEKMSKeyId"], deployment.stack)
        assert head.get("BucketKeyEnabled") is True


def test_explicit_sse_kms_with_the_stack_key_is_accepted(issued, deployment):
    app = deployment.client("s3", issued.credentials)
    put = app.put_object(Bucket=deployment.stack.bucket, Key="explicit/kms.txt", Body=b"explicit",
                         ServerSideEncryption="aws:kms", SSEKMSKeyId=deployment.stack.key_arn)
    assert put["ServerSideEncryption"] == "aws:kms"
    assert _same_key(put["SSEKMSKeyId"], deployment.stack)
