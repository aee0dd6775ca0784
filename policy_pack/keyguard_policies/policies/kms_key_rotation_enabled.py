"""Symmetric encryption keys rotate automatically, at least yearly (CIS AWS 3.8). Offers a
remediation: with enforcement level `remediate` the pack turns rotation on."""
from ..kms_keys import KEY_TYPE
from ..values import Malformed, Unverifiable, as_bool, as_seconds, as_str
from . import Violation

NAME = "kms-key-rotation-enabled"
SUPPORTED_RESOURCES = (KEY_TYPE,)


def is_symmetric_encryption_key(props) -> bool:
    spec = as_str(props.get("customerMasterKeySpec") or props.get("keySpec"), "customerMasterKeySpec")
    usage = as_str(props.get("keyUsage"), "keyUsage")
    return (spec or "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" and (usage or "ENCRYPT_DECRYPT") == "ENCRYPT_DECRYPT"


def check(resource, params):
    props = resource.props
    if not is_symmetric_encryption_key(props):
        return  # AWS rotates only symmetric encryption keys
    if not as_bool(props.get("enableKeyRotation"), "enableKeyRotation"):
        yield Violation("enableKeyRotation is not true: the key material never rotates",
                        evidence=f"enableKeyRotation={props.get('enableKeyRotation')!r}")
    period = as_seconds(props.get("rotationPeriodInDays"), "rotationPeriodInDays")
    limit = params["maxRotationPeriodDays"]
    if period is not None and period > limit:
        yield Violation(f"rotationPeriodInDays is {period}, above the maximum of {limit}",
                        evidence=f"rotationPeriodInDays={period}")


def remediate(props, params):
    """New inputs with rotation on (and the period capped), or None when nothing changes.
    Never raises: a key whose spec is unknown or malformed is left alone, and so is an unknown or
    malformed period (the check still reports it)."""
    try:
        if not is_symmetric_encryption_key(props):
            return None
    except (Unverifiable, Malformed):
        return None
    fixed = dict(props)
    fixed["enableKeyRotation"] = True
    try:
        period = as_seconds(props.get("rotationPeriodInDays"), "rotationPeriodInDays")
    except (Unverifiable, Malformed):
        period = None
    if period is not None and period > params["maxRotationPeriodDays"]:
        fixed["rotationPeriodInDays"] = params["maxRotationPeriodDays"]
    return None if fixed == dict(props) else fixed
