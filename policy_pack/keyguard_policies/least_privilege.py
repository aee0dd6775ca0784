"""What the least-privilege rules share: the Allow statements they judge in each document of a
resource (with KMS key policies' `*` read as the key), and ARN helpers."""
from __future__ import annotations

import functools
import re
from typing import Iterator

from . import iam_catalog
from .documents import Document, Statement, document_types, documents_of
from .model import Resource, per_resource
from .values import is_unknown

DOCUMENT_TYPES = document_types()
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[^:]*:(\d{12}):key/.+$")


def key_arn_of(resource: Resource) -> str | None:
    """The key a key policy governs: the Key's ARN, or a KeyPolicy's keyId when it is an ARN."""
    value = resource.get("arn") if resource.type == "aws:kms/key:Key" else resource.props.get("keyId")
    return value if isinstance(value, str) and not is_unknown(value) and _KEY_ARN.match(value) else None


@per_resource
def judged_statements(resource: Resource) -> tuple[tuple[Document, Statement, tuple[str, ...]], ...]:
    """(document, Allow statement, its resources) for every statement the rules judge."""
    key_arn = key_arn_of(resource)
    key_account = _KEY_ARN.match(key_arn).group(1) if key_arn else None
    return tuple((document, statement, document.effective_resources(statement, key_arn))
                 for document in documents_of(resource) for statement in document.allow_statements(key_account))


def split_arn(arn: str) -> tuple[str, str, str, str, str] | None:
    """(partition, service, region, account, resource) or None when it is not an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[1], parts[2], parts[3], parts[4], parts[5]


@functools.lru_cache(maxsize=4096)
def names_everything(arn: str) -> bool:
    """`*`, or an ARN whose resource part names no particular resource (`arn:aws:s3:::*`,
    `arn:aws:s3:::*/*`, `arn:aws:kms:*:*:key/*`): only wildcards and resource-type words."""
    if arn == "*":
        return True
    if "*" not in arn:
        return False  # a concrete ARN names one resource
    parts = split_arn(arn)
    if parts is None:
        return False
    _, service, _, _, resource_part = parts
    if service == "*":
        return True
    segments = [s for s in re.split(r"[/:]", resource_part) if s]
    if "*" not in segments:
        return False
    keywords = iam_catalog.resource_type_keywords(service)
    return all(s == "*" or s.lower() in keywords for s in segments)


def shorten(items, limit: int = 4) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
