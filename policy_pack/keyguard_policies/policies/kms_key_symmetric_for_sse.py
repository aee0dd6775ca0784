"""S3 SSE-KMS works only with symmetric encryption keys. Judges the stack's keys that S3
encryption (bucket defaults, configuration resources, objects) refers to; a key outside the
stack is not applicable."""
from ..kms_keys import KEY_TYPE, KeyLookup
from ..s3_encryption import BUCKET_TYPES, CONFIG_TYPES, OBJECT_TYPES, config_rules, inline_rules
from ..values import UNKNOWN, Malformed, Unverifiable, as_str, describe_unknown, is_unknown
from . import Violation, judge_each, unverified

NAME = "kms-key-symmetric-for-sse"
SUPPORTED_RESOURCES = (KEY_TYPE,)


def _references(stack):
    """(referring resource, key value, dependencies) for every S3 use of a KMS key."""
    for resource in stack.of_type(*BUCKET_TYPES, *CONFIG_TYPES):
        try:
            rules = config_rules(resource) if resource.type in CONFIG_TYPES else inline_rules(resource)
        except Unverifiable:
            # the rules are not known yet, but the keys they were computed from are
            props = ("rules",) if resource.type in CONFIG_TYPES else (
                "serverSideEncryptionConfiguration", "serverSideEncryptionConfigurations")
            for prop in props:
                if resource.depends_on(prop):
                    yield resource, UNKNOWN, resource.depends_on(prop), prop
            continue
        except Malformed:
            continue  # reported by s3-bucket-sse-kms-cmk
        for rule in rules:
            if rule.uses_kms or is_unknown(rule.algorithm):
                yield resource, rule.key, rule.key_dependencies, rule.path
    for obj in stack.of_type(*OBJECT_TYPES):
        if obj.props.get("kmsKeyId") is not None:
            yield obj, obj.props["kmsKeyId"], obj.depends_on("kmsKeyId"), "kmsKeyId"


def _resolve(stack):
    return stack.memo(NAME, _resolve_once)


def _resolve_once(stack):
    keys = KeyLookup.of(stack)
    used, unknown = {}, []
    for resource, value, deps, path in _references(stack):
        key = keys.resolve(value, deps)
        if key is not None:
            used[key.urn] = key
        elif is_unknown(value):
            unknown.append((resource, describe_unknown(value, path) + "; the key it names cannot be checked"))
        elif keys.unknown_identity and isinstance(value, str) and value.startswith("arn:") and ":key/" in value:
            # a known ARN while some stack key's ARN is not: it may name that key
            unknown.append((resource, f"{path} names {value}, and this stack's key ARNs are not known yet"))
    return used, unknown


def subjects(stack):
    used, unknown = _resolve(stack)
    return list(used.values()) + [resource for resource, _ in unknown]


def check_stack(stack, params):
    used, unknown = _resolve(stack)
    yield from judge_each(used.values(), _judge)
    for resource, what in unknown:
        yield unverified(what, resource.urn)


def _judge(key):
    spec = as_str(key.props.get("customerMasterKeySpec") or key.props.get("keySpec"), "customerMasterKeySpec")
    usage = as_str(key.props.get("keyUsage"), "keyUsage")
    if (spec or "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        yield Violation(f"key {key.name} encrypts S3 data but its spec is {spec}, not SYMMETRIC_DEFAULT",
                        evidence=f"customerMasterKeySpec={spec!r}")
    if (usage or "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        yield Violation(f"key {key.name} encrypts S3 data but its usage is {usage}, not ENCRYPT_DECRYPT",
                        evidence=f"keyUsage={usage!r}")
