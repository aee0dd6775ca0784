"""S3 Bucket Keys on KMS default encryption: far fewer KMS calls, same protection."""
from ..s3_encryption import BUCKET_TYPES, CONFIG_TYPES, config_rules, inline_rules
from ..values import as_bool, known
from . import Violation

NAME = "s3-bucket-key-enabled"
SUPPORTED_RESOURCES = BUCKET_TYPES + CONFIG_TYPES


def check(resource, params):
    rules = config_rules(resource) if resource.type in CONFIG_TYPES else inline_rules(resource)
    for rule in rules:
        known(rule.algorithm, f"{rule.path}.sseAlgorithm")
        if rule.uses_kms and not as_bool(rule.bucket_key_enabled, f"{rule.path}.bucketKeyEnabled"):
            yield Violation(f"{rule.path} uses {rule.algorithm} without bucketKeyEnabled: every object "
                            "operation calls KMS", evidence=f"bucketKeyEnabled={rule.bucket_key_enabled!r}")
