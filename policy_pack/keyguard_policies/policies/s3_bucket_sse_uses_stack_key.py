"""A bucket's KMS key is managed by this stack, so its rotation, deletion window and key policy
are reviewed together with the bucket."""
from ..kms_keys import KeyLookup
from ..s3_encryption import BUCKET_TYPES, all_rules
from ..values import describe_unknown, is_unknown
from . import Violation, judge_each, unverified

NAME = "s3-bucket-sse-uses-stack-key"
SUPPORTED_RESOURCES = BUCKET_TYPES


def check_stack(stack, params):
    keys = KeyLookup.of(stack)
    yield from judge_each(stack.of_type(*SUPPORTED_RESOURCES), lambda bucket: _judge(stack, keys, bucket))


def _judge(stack, keys, bucket):
    rules, ambiguous = all_rules(stack, bucket)
    if not rules and ambiguous:
        yield unverified("an encryption configuration targets a bucket not known yet; the key it names may be "
                         "this bucket's")
    for rule in rules:
        if is_unknown(rule.algorithm):
            yield unverified(describe_unknown(rule.algorithm, f"{rule.path}.sseAlgorithm"), rule.source.urn)
            continue
        if not rule.uses_kms:
            continue
        where = f"{rule.path}.kmsMasterKeyId"
        if keys.resolve(rule.key, rule.key_dependencies) is not None:
            continue
        if is_unknown(rule.key):
            yield unverified(describe_unknown(rule.key, where), rule.source.urn)
        elif not rule.key:
            yield Violation(f"{where} is not set: the AWS-managed key aws/s3 is not managed by this stack",
                            urn=rule.source.urn)
        elif keys.unknown_identity and rule.key.startswith("arn:"):
            yield unverified(f"{where} names {rule.key}, and this stack's key ARNs are not known yet",
                             rule.source.urn)
        else:
            yield Violation(f"{where} names {rule.key!r}, a key this stack does not manage",
                            evidence=f"kmsMasterKeyId={rule.key!r}", urn=rule.source.urn)
