"""Every bucket encrypts by default with a customer-managed KMS key. Stack-level: a bucket's
encryption often lives in a separate BucketServerSideEncryptionConfiguration resource."""
from ..kms_keys import KeyLookup, is_aws_managed
from ..s3_encryption import BUCKET_TYPES, KMS_ALGORITHMS, all_rules
from ..values import describe_unknown, is_unknown
from . import Violation, judge_each, unverified

NAME = "s3-bucket-sse-kms-cmk"
SUPPORTED_RESOURCES = BUCKET_TYPES


def check_stack(stack, params):
    keys = KeyLookup.of(stack)
    yield from judge_each(stack.of_type(*SUPPORTED_RESOURCES), lambda bucket: _judge(stack, keys, bucket))


def _judge(stack, keys, bucket):
    rules, ambiguous = all_rules(stack, bucket)
    if not rules:
        if ambiguous:
            yield unverified("an encryption configuration targets a bucket not known yet; it may be this one")
        else:
            yield Violation(f"bucket {bucket.name} has no default encryption configuration, so S3 encrypts "
                            "with SSE-S3 (AES256) keys it manages, not a customer-managed KMS key")
        return
    for rule in rules:
        where = rule.path  # the finding names the resource
        if is_unknown(rule.algorithm):
            yield unverified(describe_unknown(rule.algorithm, f"{where}.sseAlgorithm"), rule.source.urn)
        elif rule.algorithm not in KMS_ALGORITHMS:
            yield Violation(f"{where}.sseAlgorithm is {rule.algorithm!r}, not aws:kms or aws:kms:dsse",
                            evidence=f"sseAlgorithm={rule.algorithm!r}", urn=rule.source.urn)
        elif is_unknown(rule.key):
            if keys.from_dependencies(rule.key_dependencies) is None:
                yield unverified(describe_unknown(rule.key, f"{where}.kmsMasterKeyId"), rule.source.urn)
        elif not rule.key:
            yield Violation(f"{where}.kmsMasterKeyId is not set, so S3 uses the AWS-managed key aws/s3",
                            evidence="kmsMasterKeyId unset", urn=rule.source.urn)
        elif not isinstance(rule.key, str):
            yield Violation(f"malformed input: {where}.kmsMasterKeyId is not a string", urn=rule.source.urn)
        elif is_aws_managed(rule.key):
            yield Violation(f"{where}.kmsMasterKeyId {rule.key!r} is an AWS-managed key",
                            evidence=f"kmsMasterKeyId={rule.key!r}", urn=rule.source.urn)
