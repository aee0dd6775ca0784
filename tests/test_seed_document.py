"""The seed's Vault role document (seeds/000_cd1872afcdc672eb.txt) is not least privilege: it grants
s3:ListBucket on an object ARN and S3 actions on the KMS key ARN. iam-action-resource-match must flag
exactly that, and pass the stack's own document. It also grants no KMS action, so its reads and writes
of the SSE-KMS bucket fail: iam-sse-kms-key-grants flags that, even once the KMS ARN is removed."""
from pathlib import Path

from keyguard_stack.documents import role_policy_document
from tests.baseline import (BUCKET, BUCKET_ARN, IAM_LEAST_PRIVILEGE, KEY_ARN, KEY_ID, UNKNOWN, baseline, make, run,
                            with_props, with_role_document)

POLICY = "iam-action-resource-match"
KEY_GRANTS = "iam-sse-kms-key-grants"
# The seed travels with the tests (a clean clone has no ../shared); where the original sits next to
# the checkout, the copy must still be it.
SEED = Path(__file__).resolve().parent / "fixtures" / "seed-000_cd1872afcdc672eb.txt"
ORIGINAL_SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_cd1872afcdc672eb.txt"


def seed_role_document(bucket_arn: str, key_arn: str) -> dict:
    """Exactly what the seed's `policy_document=...apply(lambda args: json.dumps({...}))` builds."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:PutObject",
                "s3:ListBucket"
            ],
            "Resource": [
                f"{bucket_arn}/*",  # S3 bucket ARN
                f"{key_arn}"  # KMS key ARN
            ]
        }]
    }


def test_reconstruction_matches_the_seed_text():
    if ORIGINAL_SEED.exists():
        assert SEED.read_bytes() == ORIGINAL_SEED.read_bytes()
    text = " ".join(SEED.read_text().split())
    assert '"Action": [ "s3:GetObject", "s3:PutObject", "s3:ListBucket" ]' in text
    assert '"Resource": [ f"{args[0]}/*", # S3 bucket ARN f"{args[1]}" # KMS key ARN ]' in text
    assert "s3_bucket.arn, kms_key.arn" in text


def test_seed_document_is_flagged_by_iam_action_resource_match():
    outcome = run(POLICY, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN)))
    assert outcome.violations == {(POLICY, "ai-app-role")}
    assert outcome.unverifiable == set()
    assert outcome.messages == [
        f"policyDocument statement #1 grants s3:ListBucket on {BUCKET_ARN}/*, {KEY_ARN}, which applies to "
        "accesspoint (arn:aws:s3:<Region>:<Account>:accesspoint/<AccessPointName>) or bucket (arn:aws:s3:::<BucketName>)",
        f"policyDocument statement #1 lists resource {KEY_ARN}, of a service none of its actions "
        "(s3:GetObject, s3:PutObject, s3:ListBucket) belongs to",
    ]


def test_seed_document_as_an_object_is_flagged_too():
    resources = baseline()
    resources["role"] = with_props(resources["role"], policyDocument=seed_role_document(BUCKET_ARN, KEY_ARN))
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-role")}


def test_seed_document_passes_the_other_least_privilege_policies():
    # its defects are mismatched pairs, which only iam-action-resource-match judges
    resources = with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN))
    for policy in IAM_LEAST_PRIVILEGE:
        if policy != POLICY:
            assert run(policy, resources).violations == set(), policy


def test_seed_document_is_flagged_by_iam_sse_kms_key_grants():
    outcome = run(KEY_GRANTS, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN)))
    assert outcome.violations == {(KEY_GRANTS, "ai-app-role")} and outcome.unverifiable == set()
    assert outcome.messages == [
        f"policyDocument lets its holder {what} objects of bucket {BUCKET} (statement #1) but does not allow "
        f"{action} on the bucket's SSE-KMS key {KEY_ARN}: every {what} is denied at run time"
        for what, action in (("read", "kms:Decrypt"), ("write", "kms:GenerateDataKey"))]


def test_seed_document_without_the_kms_arn_is_flagged_only_for_its_missing_key_grants():
    # remove the KMS ARN and s3:ListBucket: the S3 grants are right, the document still cannot read or write
    document = seed_role_document(BUCKET_ARN, KEY_ARN)
    document["Statement"][0].update(Action=["s3:GetObject", "s3:PutObject"], Resource=[f"{BUCKET_ARN}/*"])
    resources = with_role_document(document)
    for policy in IAM_LEAST_PRIVILEGE:
        assert run(policy, resources).violations == set(), policy
    assert run(KEY_GRANTS, resources).violations == {(KEY_GRANTS, "ai-app-role")}


def test_seed_document_is_unverifiable_while_the_arns_are_unknown():
    # during preview the seed's document is an Output of not-yet-created ARNs
    resources = baseline()
    resources["role"] = with_props(resources["role"], policyDocument=UNKNOWN)
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == {(POLICY, "ai-app-role")}


def test_stack_role_document_is_not_flagged():
    document = role_policy_document(BUCKET_ARN, KEY_ARN)
    resources = with_role_document(document)
    for policy in IAM_LEAST_PRIVILEGE + [KEY_GRANTS]:
        outcome = run(policy, resources)
        assert outcome.violations == set() and outcome.unverifiable == set(), (policy, outcome.messages)
        assert outcome.status == "pass"


def test_stack_role_document_fixes_each_seed_defect():
    document = role_policy_document(BUCKET_ARN, KEY_ARN)
    grants = {(a, r) for s in document["Statement"] for a in s["Action"] for r in s["Resource"]}
    assert ("s3:ListBucket", BUCKET_ARN) in grants
    assert {("s3:GetObject", f"{BUCKET_ARN}/*"), ("s3:PutObject", f"{BUCKET_ARN}/*")} <= grants
    assert {("kms:Decrypt", KEY_ARN), ("kms:GenerateDataKey", KEY_ARN)} <= grants
    assert not any(a.startswith("s3:") and r == KEY_ARN for a, r in grants)


def test_seed_bucket_shape_with_inline_kms_encryption_passes_s3_bucket_sse_kms_cmk():
    # the seed encrypts inline with kms_key.id: deprecated, but customer-managed
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = make("aws:s3/bucket:Bucket", "ai-app-data", {
        "bucket": BUCKET, "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ID}}}}, {"id": BUCKET, "arn": BUCKET_ARN})
    assert run("s3-bucket-sse-kms-cmk", resources).status == "pass"
