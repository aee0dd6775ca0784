"""Pure builders of the JSON policy documents the stack attaches. Kept free of Pulumi so the
integration tests provision exactly the same documents on the emulator and in Vault."""
from __future__ import annotations

import json
from typing import Any


def role_policy_document(bucket_arn: str, key_arn: str) -> dict[str, Any]:
    """Least privilege for the AI application: list the bucket, read and write its objects, and use
    the bucket's KMS key for SSE-KMS (Decrypt to read, GenerateDataKey to write). Nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ListDataBucket", "Effect": "Allow",
             "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
            {"Sid": "ReadWriteDataObjects", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [f"{bucket_arn}/*"]},
            {"Sid": "UseDataKey", "Effect": "Allow",
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [key_arn]},
        ],
    }


def bucket_tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    """Deny every request to the bucket that does not use TLS (CIS AWS Foundations 2.1.2)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }


def app_acl_policy(backend_path: str, role_name: str) -> str:
    """The Vault ACL policy (HCL) of the AI application's tokens: `read` on the credentials of its one
    AWS role and nothing else. Renewing its leases and revoking itself come from Vault's built-in
    `default` policy, which every token carries unless the role says otherwise."""
    path = json.dumps(f"{backend_path.strip('/')}/creds/{role_name}")
    return f'path {path} {{\n  capabilities = ["read"]\n}}\n'
