"""KMS keys, aliases and key policies as the policies read them (`aws:kms/key:Key` and friends),
from DescribeKey, GetKeyRotationStatus, GetKeyPolicy and ListAliases. Read-only."""
from __future__ import annotations

from typing import Any, Iterator

from keyguard_policies.model import Resource

from .clients import Aws, Unreadable
from .reading import Reading, as_json_text

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
NOT_EXPOSED_WINDOW = ("not exposed: KMS reports a key's deletion window only while the key is pending "
                      "deletion (kms:DescribeKey)")


def key_reference(resource: Resource) -> str | None:
    for value in (resource.outputs.get("arn"), resource.outputs.get("keyId"), resource.outputs.get("id"),
                  resource.props.get("keyId")):
        if isinstance(value, str) and value and (value.startswith("arn:") or _looks_like_key_id(value)):
            return value
    return None


def _looks_like_key_id(value: str) -> bool:
    return len(value) >= 32 and value.count("-") >= 4 or value.startswith("mrk-")


def read_key(aws: Aws, key_id: str, discovering: bool = False) -> Reading:
    reading = Reading(KEY)
    metadata: dict[str, Any] = {}

    def describe() -> dict:
        metadata.update(aws.call("kms", "describe_key", KeyId=key_id)["KeyMetadata"])
        values = {"keyId": metadata.get("KeyId"), "arn": metadata.get("Arn"),
                  "customerMasterKeySpec": metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec"),
                  "keyUsage": metadata.get("KeyUsage"), "description": metadata.get("Description"),
                  "isEnabled": metadata.get("KeyState") == "Enabled",
                  "multiRegion": bool(metadata.get("MultiRegion"))}
        return values

    if not reading.fill(("customerMasterKeySpec", "keyUsage", "isEnabled", "description", "multiRegion"),
                        describe, missing_is_gone=True):
        for name in ("enableKeyRotation", "rotationPeriodInDays", "policy", "deletionWindowInDays"):
            reading.unreadable(name, reading.reasons["keyUsage"])
        return reading
    reading.outputs.update(keyId=metadata.get("KeyId"), arn=metadata.get("Arn"), id=metadata.get("KeyId"))
    reading.props.pop("keyId", None)
    reading.props.pop("arn", None)
    if metadata.get("KeyState") == "PendingDeletion" and metadata.get("PendingDeletionWindowInDays"):
        reading.props["deletionWindowInDays"] = metadata["PendingDeletionWindowInDays"]
    else:
        reading.unreadable("deletionWindowInDays", NOT_EXPOSED_WINDOW)
    if metadata.get("KeyManager") == "AWS":
        reading.outputs["awsManaged"] = True
        if discovering:
            return reading  # skipped by discovery: nothing more to read

    def rotation() -> dict:
        answer = aws.call("kms", "get_key_rotation_status", KeyId=metadata["KeyId"])
        enabled = bool(answer.get("KeyRotationEnabled"))
        if not enabled:
            reading.not_compared.add("rotationPeriodInDays")  # the period only exists while rotating
        period = answer.get("RotationPeriodInDays")
        if enabled and period is None:
            # endpoints that predate configurable periods (and moto) omit it: they rotate yearly
            period = 365
        return {"enableKeyRotation": enabled, "rotationPeriodInDays": period}

    symmetric = (metadata.get("KeySpec") or "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
    if symmetric and metadata.get("Origin") != "EXTERNAL":
        reading.fill(("enableKeyRotation", "rotationPeriodInDays"), rotation)
    else:  # AWS rotates only symmetric keys with AWS key material: nothing to ask
        reading.props["enableKeyRotation"] = False
    reading.fill(("policy",), lambda: {"policy": as_json_text(
        aws.call("kms", "get_key_policy", KeyId=metadata["KeyId"], PolicyName="default")["Policy"])})
    return reading


def read_declared_key(aws: Aws, declared: Resource) -> Reading:
    ref = key_reference(declared)
    if ref is None:
        return Reading.unidentified(KEY, "the export has no id or ARN for this key (never created?)")
    return read_key(aws, ref)


def read_alias(aws: Aws, declared: Resource) -> Reading:
    name = declared.props.get("name") or declared.outputs.get("name") or declared.outputs.get("id")
    if not isinstance(name, str) or not name.startswith("alias/"):
        return Reading.unidentified(ALIAS, "the export has no alias name")
    reading = Reading(ALIAS)

    def target() -> dict:
        metadata = aws.call("kms", "describe_key", KeyId=name)["KeyMetadata"]
        return {"name": name, "targetKeyId": metadata["KeyId"]}

    reading.fill(("name", "targetKeyId"), target, missing_is_gone=True)
    return reading


def read_key_policy(aws: Aws, declared: Resource) -> Reading:
    key_id = declared.props.get("keyId") or declared.outputs.get("keyId")
    if not isinstance(key_id, str):
        return Reading.unidentified(KEY_POLICY, "the export has no key id for this key policy")
    reading = Reading(KEY_POLICY)

    def policy() -> dict:
        text = aws.call("kms", "get_key_policy", KeyId=key_id, PolicyName="default")["Policy"]
        return {"keyId": key_id, "policy": as_json_text(text)}

    reading.fill(("policy",), policy, missing_is_gone=True)
    reading.props.setdefault("keyId", key_id)
    return reading


READERS = {KEY: read_declared_key, ALIAS: read_alias, KEY_POLICY: read_key_policy}


def discover(aws: Aws) -> Iterator[tuple[str, str, Any]]:
    """(name, type, read) for every customer-managed key and alias of the account and region.
    AWS-managed keys (KeyManager AWS) are skipped once described."""
    for key in aws.pages("kms", "list_keys", "Keys"):
        key_id = key["KeyId"]
        yield key_id, KEY, lambda key_id=key_id: read_key(aws, key_id, discovering=True)
    for alias in aws.pages("kms", "list_aliases", "Aliases"):
        if alias.get("AliasName", "").startswith("alias/aws/") or not alias.get("TargetKeyId"):
            continue
        yield alias["AliasName"], ALIAS, lambda alias=alias: _alias_reading(alias)


def _alias_reading(alias: dict) -> Reading:
    reading = Reading(ALIAS, props={"name": alias["AliasName"], "targetKeyId": alias["TargetKeyId"]})
    reading.outputs.update(arn=alias.get("AliasArn"), name=alias["AliasName"], id=alias["AliasName"])
    return reading


__all__ = ["READERS", "discover", "Unreadable"]
