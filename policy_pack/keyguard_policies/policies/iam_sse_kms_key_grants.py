"""Reading or writing an SSE-KMS object needs the bucket's key too: S3 calls kms:Decrypt on it for
every read and kms:GenerateDataKey for every write, with the caller's permissions. A document that
grants the S3 side only (the seed's) hands out credentials whose reads and writes fail.

Scope: identity documents (Vault role documents, IAM policies and inline policies). Bucket and key
policies are not judged: they grant to other principals, whose own identity policies are not here.
Reads are s3:GetObject and s3:GetObjectVersion; writes are s3:PutObject (CopyObject is a read of the
source and a write of the target, so both rules apply). Multipart uploads also need kms:Decrypt;
that is left to the remediation text, since single-part writers do not. A grant counts only on the
key ARN (or a pattern or `*` matching it): IAM ignores key ids, alias names and alias ARNs in
Resource for cryptographic operations. Grants the key policy makes to a named principal are not
considered (the IAM users Vault issues are created per request and cannot be named there)."""
import re

from ..documents import IDENTITY, documents_of, locations
from ..grants import allowed, covers_action, statements_reaching
from ..kms_keys import KeyLookup, is_aws_managed
from ..s3_encryption import BUCKET_TYPES, all_rules, bucket_names
from ..values import Malformed, Unverifiable, describe_unknown, is_unknown, json_type
from . import Violation, judge_each

NAME = "iam-sse-kms-key-grants"
SUPPORTED_RESOURCES = tuple(t for t, specs in locations().items() if all(s["kind"] == IDENTITY for s in specs))
NEEDS = (("read", ("s3:GetObject", "s3:GetObjectVersion"), "kms:Decrypt"),
         ("write", ("s3:PutObject",), "kms:GenerateDataKey"))
S3_ACTIONS = tuple(a for _, actions, _ in NEEDS for a in actions)


class _Buckets:
    """The stack's buckets whose objects need a key grant, with the key ARNs (or why they are not
    known), indexed by name so that a document naming its buckets is matched without trying every
    bucket of a large stack."""

    def __init__(self, stack, keys):
        self.all: list[tuple] = []
        self.by_name: dict[str, list[tuple]] = {}
        self.unnamed: list[tuple] = []
        for bucket in stack.of_type(*BUCKET_TYPES):
            keys_needed = _keys_needed(stack, keys, bucket)
            if keys_needed == []:
                continue
            entry = (bucket, keys_needed)
            self.all.append(entry)
            names = bucket_names(bucket)
            for name in names:
                self.by_name.setdefault(name, []).append(entry)
            if not names:
                self.unnamed.append(entry)
        self.position = {id(entry): i for i, entry in enumerate(self.all)}

    def candidates(self, document) -> list[tuple]:
        """The buckets an Allow statement of the document may reach with an object read or write."""
        grants = [s for s in document.statements if s.allows and any(covers_action(s, a) for a in S3_ACTIONS)]
        if not grants:
            return []
        found = {id(entry): entry for entry in self.unnamed}
        for statement in grants:
            if statement.not_resources:
                return self.all
            for pattern in statement.resources:
                name = _bucket_of(pattern)
                if name is _ANY_BUCKET:
                    return self.all
                found.update((id(entry), entry) for entry in self.by_name.get(name, ()))
        # in the stack's order, without walking every bucket of a large stack for each document
        return sorted(found.values(), key=lambda entry: self.position[id(entry)])


_ANY_BUCKET = object()
_LITERAL_BUCKET = re.compile(r"arn:[^:*?]*:s3:::([^/*?]*)(?:/.*)?", re.DOTALL)
_OTHER_SERVICE = re.compile(r"arn:[^:*?]*:([^:*?]*):.*", re.DOTALL)


def _bucket_of(pattern: str):
    """The bucket name a resource pattern spells out, `_ANY_BUCKET` when a wildcard leaves it open
    (then the pattern is matched against every bucket), or None when it names no S3 object."""
    literal = _LITERAL_BUCKET.fullmatch(pattern)
    if literal:
        return literal.group(1)
    other = _OTHER_SERVICE.fullmatch(pattern)
    if other and other.group(1) != "s3":
        return None
    return _ANY_BUCKET if "*" in pattern or "?" in pattern else None


def check_stack(stack, params):
    buckets = stack.memo(NAME, lambda s: _Buckets(s, KeyLookup.of(s)))
    yield from judge_each(stack.of_type(*SUPPORTED_RESOURCES), lambda resource: _judge(buckets, resource))


def _keys_needed(stack, keys, bucket) -> list[str] | Exception:
    """The key ARNs a grant must name to use the bucket's objects, or why they are not known (raised
    only for a document that reaches the bucket's objects)."""
    try:
        return _key_arns(stack, keys, bucket)
    except Unverifiable as err:
        return err
    except Malformed as err:
        return Unverifiable(f"the default encryption of bucket {bucket.name} is malformed ({err}), so the key "
                            "a grant must name is not known")


def _object_prefixes(bucket) -> list[str]:
    """`arn:<partition>:s3:::<name>/` for each known name; the partition from the bucket's ARN."""
    arn = bucket.get("arn")
    partition = arn.split(":")[1] if isinstance(arn, str) and arn.startswith("arn:") and arn.count(":") >= 5 else "aws"
    return [f"arn:{partition}:s3:::{name}/" for name in sorted(bucket_names(bucket))]


def _judge(buckets, resource):
    if not buckets.all:
        return  # no bucket of the stack is encrypted with a key that needs a grant: nothing to read here
    for document in documents_of(resource):
        if document.kind != IDENTITY:
            continue
        for bucket, keys_needed in buckets.candidates(document):
            yield from _judge_bucket(document, bucket, keys_needed)


def _judge_bucket(document, bucket, keys_needed):
    prefixes = _object_prefixes(bucket)
    unnamed = not prefixes
    if unnamed or isinstance(keys_needed, Exception):
        if unnamed:  # the name is not known yet: any S3 object grant may be on this bucket
            prefixes = ["arn:aws:s3:::"]
        if not any(_reaching(document, actions, prefixes) for _, actions, _ in NEEDS):
            return
        if isinstance(keys_needed, Exception):
            raise keys_needed
        raise Unverifiable(f"{document.path} grants S3 object access, and the name of bucket {bucket.name} "
                           "(encrypted with a KMS key) is not known yet")
    name = sorted(bucket_names(bucket))[0]
    for key_arn in keys_needed:
        for what, actions, kms_action in NEEDS:
            # the key grant first: a document that has it needs no search for the statements reaching the objects
            if allowed(document, kms_action, key_arn):
                continue
            reaching = _reaching(document, actions, prefixes)
            if not reaching:
                continue
            labels = ", ".join(dict.fromkeys(s.label for s in reaching))
            yield Violation(
                f"{document.path} lets its holder {what} objects of bucket {name} ({labels}) but does not allow "
                f"{kms_action} on the bucket's SSE-KMS key {key_arn}: every {what} is denied at run time",
                evidence=f"{kms_action} on {key_arn}")


def _reaching(document, actions, prefixes) -> list:
    return [s for p in prefixes for s in statements_reaching(document, actions, p)]


def _key_arns(stack, keys, bucket) -> list[str]:
    """The ARNs of the KMS keys the bucket's default encryption names, that need an IAM grant."""
    rules, ambiguous = all_rules(stack, bucket)
    if not rules and ambiguous:
        raise Unverifiable(f"an encryption configuration targets a bucket not known yet; it may encrypt bucket "
                           f"{bucket.name} with a key this document needs")
    arns: list[str] = []
    for rule in rules:
        if is_unknown(rule.algorithm):
            raise Unverifiable(describe_unknown(rule.algorithm, f"{rule.source.name} {rule.path}.sseAlgorithm"))
        if not rule.uses_kms:
            continue
        arn = _key_arn(keys, rule)
        if arn is not None and arn not in arns:
            arns.append(arn)
    return arns


def _key_arn(keys, rule) -> str | None:
    where = f"{rule.source.name} {rule.path}.kmsMasterKeyId"
    value = rule.key
    if is_unknown(value):  # only then does the dependency tell which key it is
        key = keys.from_dependencies(rule.key_dependencies)
        if key is None:
            raise Unverifiable(describe_unknown(value, where))
        return _stack_key_arn(key, where)
    if value is None or value == "":
        return None  # the AWS-managed aws/s3 key: its key policy lets the account use it through S3
    if not isinstance(value, str):
        raise Malformed(f"{where} is a {json_type(value)}, not a string")
    if is_aws_managed(value):
        return None
    if value.startswith("arn:") and ":key/" in value:
        return value  # a known key ARN is judged as the key it names
    key = keys.resolve(value)  # a key id, alias name or alias ARN of a stack key
    if key is None:
        raise Unverifiable(f"{where} is {value!r}, which names no key of this stack by its ARN; the key ARN a "
                           "grant must name is not known here")
    return _stack_key_arn(key, where)


def _stack_key_arn(key, where: str) -> str:
    arn = key.get("arn")
    if isinstance(arn, str) and arn.startswith("arn:") and not is_unknown(arn):
        return arn
    raise Unverifiable(f"{where} names key {key.name}, whose ARN is not known yet")
