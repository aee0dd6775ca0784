"""The minimal read-only permissions `keyguard audit --live --state` needs, shipped as templates:
an AWS IAM policy document and a Vault ACL policy. `${Name}` placeholders name the stack's own
resources (key id, bucket, IAM policy, mounts), so the grants stay scoped to what the audit reads
and keyguard's own least-privilege policies pass on them."""
from __future__ import annotations

import string
from importlib import resources
from typing import Mapping

FILES = {"aws": "live-audit-aws-policy.json", "vault": "live-audit-vault-policy.hcl"}


def template(kind: str) -> str:
    return resources.files(__name__).joinpath(FILES[kind]).read_text(encoding="utf-8")


def placeholders(kind: str) -> set[str]:
    return {m.group("braced") for m in string.Template.pattern.finditer(template(kind)) if m.group("braced")}


def render(kind: str, values: Mapping[str, str]) -> str:
    """The template with every placeholder filled; a missing value is an error, never left in."""
    return string.Template(template(kind)).substitute(values)
