"""S3 buckets as the policies read them: default encryption (as the separate
`BucketServerSideEncryptionConfiguration` resource, or inline in the shape the export declares
it), bucket key, public access block and bucket policy. Read-only: GetBucketLocation,
GetBucketEncryption, GetBucketPolicy, GetPublicAccessBlock, ListBuckets. Object contents and object
metadata are never read."""
from __future__ import annotations

from typing import Any, Callable, Iterator

from keyguard_policies.model import Resource

from .clients import Aws, Unreadable
from .reading import Reading

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
ENCRYPTION_TYPES = (ENCRYPTION, "aws:s3/bucketServerSideEncryptionConfigurationV2:"
                                "BucketServerSideEncryptionConfigurationV2")
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
_BLOCKS = (("BlockPublicAcls", "blockPublicAcls"), ("IgnorePublicAcls", "ignorePublicAcls"),
           ("BlockPublicPolicy", "blockPublicPolicy"), ("RestrictPublicBuckets", "restrictPublicBuckets"))


def bucket_name(resource: Resource) -> str | None:
    for value in (resource.outputs.get("bucket"), resource.props.get("bucket"), resource.outputs.get("id")):
        if isinstance(value, str) and value:
            return value
    return None


def encryption_rules(aws: Aws, bucket: str) -> list[dict]:
    """The bucket's default-encryption rules in the provider's camelCase shape; [] when none."""
    try:
        answer = aws.call("s3", "get_bucket_encryption", Bucket=bucket)
    except Unreadable as err:
        if "ServerSideEncryptionConfigurationNotFoundError" in err.reason:
            return []
        raise
    rules = []
    for rule in answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        mapped: dict[str, Any] = {"sseAlgorithm": default.get("SSEAlgorithm")}
        if default.get("KMSMasterKeyID"):
            mapped["kmsMasterKeyId"] = default["KMSMasterKeyID"]
        rules.append({"applyServerSideEncryptionByDefault": mapped,
                      "bucketKeyEnabled": bool(rule.get("BucketKeyEnabled"))})
    return rules


def _exists(aws: Aws, bucket: str) -> None:
    aws.call("s3", "get_bucket_location", Bucket=bucket)


def read_bucket(aws: Aws, declared: Resource) -> Reading:
    name = bucket_name(declared)
    if name is None:
        return Reading.unidentified(declared.type, "the export has no name for this bucket")
    reading = Reading(declared.type)
    inline = [p for p in ("serverSideEncryptionConfiguration", "serverSideEncryptionConfigurations")
              if declared.props.get(p) is not None]
    if not reading.fill(["bucket"], lambda: (_exists(aws, name), {"bucket": name})[1], missing_is_gone=True):
        for prop in inline:
            reading.unreadable(prop, reading.reasons["bucket"])
        return reading
    for prop in inline:  # the shape the export declares, so the same rules and drift apply
        def inline_value(prop=prop) -> dict:
            rules = encryption_rules(aws, name)
            if prop == "serverSideEncryptionConfiguration":
                return {prop: {"rule": rules[0]} if len(rules) == 1 else {"rule": rules} if rules else None}
            return {prop: [{"rules": rules}] if rules else []}
        reading.fill([prop], inline_value)
    return reading


def read_encryption(aws: Aws, declared: Resource) -> Reading:
    name = bucket_name(declared)
    if name is None:
        return Reading.unidentified(declared.type, "the export has no bucket for this encryption configuration")
    reading = Reading(declared.type)

    def rules() -> dict:
        found = encryption_rules(aws, name)
        if not found:
            reading.gone = f"bucket {name} has no default-encryption configuration any more"
        return {"bucket": name, "rules": found}

    reading.fill(["rules"], rules, missing_is_gone=True)
    reading.props.setdefault("bucket", name)
    return reading


def read_policy(aws: Aws, declared: Resource) -> Reading:
    name = bucket_name(declared)
    if name is None:
        return Reading.unidentified(POLICY, "the export has no bucket for this bucket policy")
    reading = Reading(POLICY)
    reading.fill(["policy"], lambda: {"policy": aws.call("s3", "get_bucket_policy", Bucket=name)["Policy"]},
                 missing_is_gone=True)
    reading.props.setdefault("bucket", name)
    return reading


def read_public_access(aws: Aws, declared: Resource) -> Reading:
    name = bucket_name(declared)
    if name is None:
        return Reading.unidentified(PUBLIC_ACCESS, "the export has no bucket for this public access block")
    reading = Reading(PUBLIC_ACCESS)

    def blocks() -> dict:
        config = aws.call("s3", "get_public_access_block", Bucket=name)["PublicAccessBlockConfiguration"]
        return {prop: bool(config.get(field)) for field, prop in _BLOCKS}

    reading.fill([prop for _, prop in _BLOCKS], blocks, missing_is_gone=True)
    reading.props["bucket"] = name
    return reading


READERS: dict[str, Callable[[Aws, Resource], Reading]] = {
    **{t: read_bucket for t in BUCKET_TYPES}, **{t: read_encryption for t in ENCRYPTION_TYPES},
    POLICY: read_policy, PUBLIC_ACCESS: read_public_access}


def discover(aws: Aws) -> Iterator[tuple[str, Callable[[], list[tuple[str, Reading]]]]]:
    """One task per bucket of the account in the audited region."""
    try:
        buckets = aws.pages("s3", "list_buckets", "Buckets", BucketRegion=aws.region)
    except Unreadable as err:
        if "BucketRegion" not in err.reason:
            raise
        buckets = aws.pages("s3", "list_buckets", "Buckets")
    for bucket in buckets:
        region = bucket.get("BucketRegion")
        if region and region != aws.region:
            continue
        yield bucket["Name"], lambda name=bucket["Name"]: _discovered_bucket(aws, name)


def _discovered_bucket(aws: Aws, name: str) -> list[tuple[str, Reading]]:
    outputs = {"bucket": name, "id": name, "arn": f"arn:aws:s3:::{name}"}
    bucket = Reading(BUCKET_TYPES[0], props={"bucket": name}, outputs=outputs)   # listed: it exists
    found = [(name, bucket)]
    # no policy judges a public access block and discovery has no export to drift from: not read
    for suffix, reader, type_ in (("encryption", read_encryption, ENCRYPTION), ("policy", read_policy, POLICY)):
        reading = reader(aws, Resource("", type_, {"bucket": name}, {}))
        if reading.gone and all(r.startswith("not found") for r in reading.reasons.values()):
            continue  # nothing configured: no such resource to judge (no encryption: the bucket fails)
        reading.gone = None
        found.append((f"{name}-{suffix}", reading))
    return found
