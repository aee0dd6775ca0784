"""Objects that choose their own encryption choose SSE-KMS with a customer-managed key."""
from ..kms_keys import ALIAS_TYPE, KEY_TYPE, is_aws_managed
from ..s3_encryption import KMS_ALGORITHMS, OBJECT_TYPES
from ..values import as_str, is_unknown
from . import Violation

NAME = "s3-object-sse-kms"
SUPPORTED_RESOURCES = OBJECT_TYPES


def check(resource, params):
    algorithm = as_str(resource.props.get("serverSideEncryption"), "serverSideEncryption")
    if not algorithm:
        return
    if algorithm not in KMS_ALGORITHMS:
        yield Violation(f"serverSideEncryption is {algorithm!r}, not aws:kms or aws:kms:dsse",
                        evidence=f"serverSideEncryption={algorithm!r}")
        return
    if is_unknown(resource.props.get("kmsKeyId")) and any(
            urn.rsplit("::", 2)[-2].rsplit("$", 1)[-1] in (KEY_TYPE, ALIAS_TYPE)
            for urn in resource.depends_on("kmsKeyId")):
        return  # computed from a key (or alias) of this stack: customer-managed
    key = as_str(resource.props.get("kmsKeyId"), "kmsKeyId")
    if key and is_aws_managed(key):
        yield Violation(f"kmsKeyId {key!r} is an AWS-managed key", evidence=f"kmsKeyId={key!r}")
