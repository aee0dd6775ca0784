"""Drift: a judged property whose live value differs from the export's input. Values are compared
by meaning, not by text: JSON documents parsed (statement order kept, single values and lists
alike, action and resource lists as sets), numbers against numeric strings, Vault durations
("1h") against seconds, a key ARN against its key id, HCL parsed when python-hcl2 is installed
(else compared without comments and whitespace)."""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from keyguard_policies.model import Resource
from keyguard_policies.values import UNREADABLE, is_unknown

from . import iam, kms, s3, vault
from .reading import Reading

SKIP = object()          # not compared when the export does not declare it (a provider default)

_DOC, _HCL, _INT, _DUR, _BOOL, _STR, _LIST, _RULES, _INLINE_RULES, _INLINE_POLICIES, _TUNE, _KEYREF = (
    "document", "hcl", "int", "duration", "bool", "str", "list", "rules", "inline-rules", "inline-policies",
    "tune", "key")

COMPARED: dict[str, dict[str, tuple[str, Any]]] = {
    kms.KEY: {"enableKeyRotation": (_BOOL, False), "rotationPeriodInDays": (_INT, SKIP),
              "customerMasterKeySpec": (_STR, "SYMMETRIC_DEFAULT"), "keyUsage": (_STR, "ENCRYPT_DECRYPT"),
              "policy": (_DOC, SKIP), "deletionWindowInDays": (_INT, SKIP)},
    kms.ALIAS: {"targetKeyId": (_KEYREF, SKIP)},
    kms.KEY_POLICY: {"policy": (_DOC, SKIP)},
    **{t: {"serverSideEncryptionConfiguration": (_INLINE_RULES, SKIP),
           "serverSideEncryptionConfigurations": (_INLINE_RULES, SKIP)} for t in s3.BUCKET_TYPES},
    **{t: {"rules": (_RULES, SKIP)} for t in s3.ENCRYPTION_TYPES},
    s3.POLICY: {"policy": (_DOC, SKIP)},
    s3.PUBLIC_ACCESS: {p: (_BOOL, False) for p in ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy",
                                                   "restrictPublicBuckets")},
    iam.POLICY: {"policy": (_DOC, SKIP)},
    iam.ROLE: {"maxSessionDuration": (_INT, 3600), "inlinePolicies": (_INLINE_POLICIES, SKIP),
               "managedPolicyArns": (_LIST, SKIP), "assumeRolePolicy": (_DOC, SKIP)},
    iam.ROLE_POLICY: {"policy": (_DOC, SKIP)},
    iam.USER_POLICY: {"policy": (_DOC, SKIP)},
    iam.GROUP_POLICY: {"policy": (_DOC, SKIP)},
    **{t: {"defaultLeaseTtlSeconds": (_INT, 0), "maxLeaseTtlSeconds": (_INT, 0)}
       for t in (vault.SECRET_BACKEND, vault.MOUNT)},
    vault.ROLE: {"credentialType": (_STR, SKIP), "policyDocument": (_DOC, SKIP), "policyArns": (_LIST, []),
                 "iamGroups": (_LIST, []), "roleArns": (_LIST, []), "permissionsBoundaryArn": (_STR, ""),
                 "defaultStsTtl": (_DUR, 0), "maxStsTtl": (_DUR, 0)},
    vault.AUTH_BACKEND: {"tune": (_TUNE, {})},
    vault.APPROLE_ROLE: {"tokenPolicies": (_LIST, []), "tokenTtl": (_DUR, 0), "tokenMaxTtl": (_DUR, 0),
                         "tokenPeriod": (_DUR, 0), "bindSecretId": (_BOOL, True), "secretIdTtl": (_DUR, 0),
                         "secretIdNumUses": (_INT, 0)},
    vault.ACL_POLICY: {"policy": (_HCL, SKIP)},
}


@dataclasses.dataclass(frozen=True)
class Drift:
    urn: str
    resource_type: str
    property: str | None      # None: the resource itself is gone
    declared: Any
    live: Any
    message: str


def compare(declared: Resource, reading: Reading) -> list[Drift]:
    if reading.gone:
        return [Drift(declared.urn, declared.type, None, "exists", "not found",
                      f"the resource no longer exists ({reading.gone}); its checks are unverifiable")]
    out = []
    for prop, (kind, default) in COMPARED.get(declared.type, {}).items():
        if prop not in reading.props or prop in reading.not_compared:
            continue   # the live system did not answer it (an older engine, or not meaningful now)
        live = reading.props[prop]
        if live == UNREADABLE:
            continue
        value = declared.props.get(prop)
        if value is None:
            if default is SKIP:
                continue
            value = default
        if _has_unknown(value):
            continue  # unknown or a secret the export keeps encrypted: nothing to compare with
        try:
            same = normalize(kind, value) == normalize(kind, live)
        except ValueError:
            same = False
        if not same:
            out.append(Drift(declared.urn, declared.type, prop, shown(value), shown(live),
                             f"{prop} drifted: declared {brief(value)}, live {brief(live)}"))
    return out


def _has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return is_unknown(value)


# --- semantic normal forms -------------------------------------------------------------------------

def normalize(kind: str, value: Any) -> Any:
    if kind == _DOC:
        return _document(value)
    if kind == _HCL:
        return _hcl(value)
    if kind == _INT:
        return _int(value)
    if kind == _DUR:
        return duration_seconds(value)
    if kind == _BOOL:
        return _bool(value)
    if kind == _STR:
        return "" if value is None else str(value)
    if kind == _LIST:
        return sorted({str(v) for v in (value if isinstance(value, list) else [value] if value else [])})
    if kind == _KEYREF:
        return str(value).rsplit("/", 1)[-1] if isinstance(value, str) and ":key/" in value else value
    if kind == _RULES:
        return _rules(value)
    if kind == _INLINE_RULES:
        if isinstance(value, dict):
            value = [value]
        rules = []
        for config in value or []:
            rule = config.get("rule") if "rule" in config else config.get("rules")
            rules.extend(rule if isinstance(rule, list) else [rule] if rule else [])
        return _rules(rules)
    if kind == _INLINE_POLICIES:
        return sorted((str(p.get("name")), json.dumps(_document(p.get("policy")), sort_keys=True))
                      for p in value or [] if isinstance(p, dict))
    if kind == _TUNE:
        if isinstance(value, list):
            value = value[0] if value else {}
        value = value or {}
        return (duration_seconds(value.get("defaultLeaseTtl")), duration_seconds(value.get("maxLeaseTtl")))
    raise ValueError(kind)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("boolean")
    return int(float(value))


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")


def duration_seconds(value: Any) -> int:
    """Vault durations: seconds as a number or numeric string, or Go-style text ("1h30m", "90s")."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {value!r}")
    return int(sum(float(n) * _UNITS[u] for n, u in parts))


def _rules(rules: Any) -> list:
    out = []
    for rule in rules or []:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        if isinstance(default, list):
            default = default[0] if default else {}
        out.append((str(default.get("sseAlgorithm") or ""), str(default.get("kmsMasterKeyId") or ""),
                    _bool(rule.get("bucketKeyEnabled"))))
    return sorted(out)


_LISTY = ("Action", "NotAction", "Resource", "NotResource")


def _document(value: Any) -> Any:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        return value
    statements = value.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    out = dict(value)
    if isinstance(statements, list):
        out["Statement"] = [_statement(s) for s in statements]
    return json.loads(json.dumps(out, sort_keys=True))


def _statement(statement: Any) -> Any:
    if not isinstance(statement, dict):
        return statement
    out = dict(statement)
    for key in _LISTY:
        if key in out:
            items = out[key] if isinstance(out[key], list) else [out[key]]
            out[key] = sorted({str(i) for i in items})
    for key in ("Principal", "NotPrincipal"):
        if isinstance(out.get(key), dict):
            out[key] = {k: sorted({str(i) for i in (v if isinstance(v, list) else [v])}) for k, v in out[key].items()}
    if isinstance(out.get("Condition"), dict):
        out["Condition"] = {op: {k: sorted({str(i) for i in (v if isinstance(v, list) else [v])})
                                 for k, v in (keys or {}).items()} for op, keys in out["Condition"].items()}
    return out


def _hcl(value: Any) -> Any:
    """An ACL policy compared by the rules Vault reads from it (vault_acl.parse: HCL or JSON, blocks
    merged), so comments, whitespace and syntax do not count as drift; unparseable text as text."""
    if value is None:
        return None
    text = str(value)
    try:
        from keyguard_policies import vault_acl
        return sorted(rule.evidence() for rule in vault_acl.parse(text))
    except Exception:  # noqa: BLE001 - unparseable: compare as text
        pass
    if text.lstrip().startswith("{"):
        try:
            return json.dumps(json.loads(text), sort_keys=True)
        except ValueError:
            pass
    text = re.sub(r"(?m)(#|//).*$", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"\s+", "", text)


# --- how a value is shown ----------------------------------------------------------------------------

def shown(value: Any) -> Any:
    """A JSON document string is shown parsed, so reports can lay it out; anything else as is."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def brief(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(shown(value), sort_keys=True)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        text = json.dumps(shown(value), sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
