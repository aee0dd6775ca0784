"""IAM policy documents as the rules see them: found where the SPEC says they live, parsed from a
JSON string or an object, with single values widened to lists. Anything that is not a well-formed
document raises `Malformed` naming the defect, so every rule fails closed on it."""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from importlib import resources as _resources
from typing import Any, Iterator, NamedTuple

from .frozen import EMPTY, freeze
from .model import Resource, per_resource
from .values import (ENCRYPTED_SECRET, UNKNOWN_SENTINELS, UNREADABLE, Malformed, Unverifiable, as_list,
                     contains_unknown, describe_unknown, is_unknown, json_type)

IDENTITY, RESOURCE_POLICY, KEY_POLICY = "identity", "resource", "key"
# What AWS's policy grammar accepts (SPEC: "Documents AWS would reject"); element names are case-sensitive.
DOCUMENT_KEYS = frozenset(("Version", "Id", "Statement"))
VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = frozenset(("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                            "NotResource", "Condition"))
_ROOT_PRINCIPAL = re.compile(r"^(arn:aws[a-z-]*:iam::(\d{12}):root|(\d{12}))$")


@functools.lru_cache(maxsize=1)
def locations() -> dict[str, list[dict[str, str]]]:
    text = _resources.files(__package__).joinpath("data/document_locations.json").read_text()
    return freeze({k: v for k, v in json.loads(text).items() if not k.startswith("_")})


def document_types() -> tuple[str, ...]:
    return tuple(locations())


_EVIDENCE = json.JSONEncoder(sort_keys=True).encode  # json.dumps(raw, sort_keys=True), without its set-up per call


@dataclasses.dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: Any
    not_principal: Any
    condition: dict
    # what the statement was read from: for a document parsed from text, where it sits in that
    # text (`_InText`, read again only when its JSON or `raw` is asked for, so thousands of
    # parsed documents keep no second copy of every statement); for a value the caller owns, a
    # read-only copy of it made when it was read (the caller could change it later)
    _source: Any = dataclasses.field(compare=False, repr=False)

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"

    @property
    def raw(self) -> dict:
        """The statement as it was written, read-only. Copied on first use: the rules read the
        parsed fields, so most statements never need it (a race makes two equal copies)."""
        found = vars(self).get("_raw")
        if found is None:
            found = vars(self)["_raw"] = _read_only_statement(self)
        return found

    def evidence(self) -> str:
        """The statement as JSON, for reports; built once however many rules flag it, and only
        when a report shows it (`model.Finding.evidence`)."""
        found = vars(self).get("_evidence_text")
        if found is None:
            source = self._source
            found = vars(self)["_evidence_text"] = _EVIDENCE(source.value() if type(source) is _InText else source)
        return found


class _InText(NamedTuple):
    """Where a statement is in the document text it was parsed from."""
    text: str
    index: int  # in the document's Statement list; -1 when Statement is the one statement object

    def value(self) -> dict:
        """The statement's JSON value, parsed again: a private copy (the text is immutable)."""
        statements = _loads(self.text)["Statement"]
        return statements if self.index < 0 else statements[self.index]


def _read_only_statement(statement: Statement) -> dict:
    """A read-only copy of the statement's source that shares the parts already copied."""
    source = statement._source
    if type(source) is not _InText:
        return source  # already a read-only copy
    source = source.value()
    frozen = freeze(source)
    for key, value in (("Principal", statement.principal), ("NotPrincipal", statement.not_principal),
                       ("Condition", statement.condition)):
        if key in source and value is not None and value is not EMPTY:
            _set_item(frozen, key, value)
    return frozen


@dataclasses.dataclass(frozen=True)
class Document:
    path: str          # where it was found, e.g. "policyDocument" or "inlinePolicies[0].policy"
    kind: str          # IDENTITY, RESOURCE_POLICY or KEY_POLICY
    statements: tuple[Statement, ...]

    def allow_statements(self) -> Iterator[Statement]:
        """Allow statements the least-privilege rules judge on the document alone. In a key policy
        a statement shaped like AWS's default delegation to an account root is judged with the
        stack (least_privilege.judge_delegations): only the key's own account makes it the default."""
        for statement in self.statements:
            if statement.allows and not (self.kind == KEY_POLICY and delegated_account(statement)):
                yield statement

    def judged(self) -> tuple[tuple["Document", Statement, tuple[str, ...]], ...]:
        """(document, statement, its resources) for each statement of `allow_statements` in a
        document that is not a key policy (whose resources then are what the statement lists):
        worked out once per parsed document, which the parse cache shares between resources."""
        found = vars(self).get("_judged")
        if found is None:
            assert self.kind != KEY_POLICY, "a key policy's resources depend on its key"
            found = vars(self)["_judged"] = tuple([(self, s, s.resources) for s in self.allow_statements()])
        return found

    def effective_resources(self, statement: Statement, key_arn: str | None = None) -> tuple[str, ...]:
        """In a key policy, `Resource: "*"` means the key itself."""
        if self.kind == KEY_POLICY:
            key = key_arn or "arn:aws:kms:*:*:key/*"
            return tuple(key if r == "*" else r for r in statement.resources)
        return statement.resources


def delegated_account(statement: Statement) -> str | None:
    """The account whose root `{"AWS": "arn:aws:iam::<account>:root"}` (or the bare account id) is
    given `kms:*` on `*` with no condition: the shape of AWS's default key-policy statement, which
    it is only when that account is the key's own. None for any other statement."""
    if not statement.allows or statement.not_actions or statement.condition or statement.not_principal is not None:
        return None
    if not isinstance(statement.principal, dict) or set(statement.principal) != {"AWS"}:
        return None
    principals = as_list(statement.principal["AWS"])
    if len(principals) != 1 or not isinstance(principals[0], str):
        return None
    match = _ROOT_PRINCIPAL.match(principals[0])
    if not match or statement.resources != ("*",) or not all(a.lower() == "kms:*" for a in statement.actions):
        return None
    return match.group(2) or match.group(3)


@per_resource
def documents_of(resource: Resource) -> tuple[Document, ...]:
    """Every policy document the resource carries, parsed."""
    plans = _plans().get(resource.type)
    if plans is None:
        return ()
    if len(plans) == 1 and plans[0][1] is None:  # one plain property, the common case
        prop, _, kind = plans[0]
        value = resource.props.get(prop)
        return () if value is None else (parse(value, prop, kind),)
    return tuple(_documents(resource, plans))


@functools.lru_cache(maxsize=1)
def _plans() -> dict[str, tuple[tuple[str, str | None, str], ...]]:
    """Per resource type, where its documents are: (property, None, kind) for a property that
    holds one, (list property, field, kind) for a list of objects that hold one each."""
    out = {}
    for type_, specs in locations().items():
        plans = []
        for spec in specs:
            prop = spec["property"]
            if "[]." in prop:
                list_name, field = prop.split("[].", 1)
                plans.append((list_name, field, spec["kind"]))
            else:
                plans.append((prop, None, spec["kind"]))
        out[type_] = tuple(plans)
    return out


def _documents(resource: Resource, plans) -> Iterator[Document]:
    for prop, field, kind in plans:
        if field is not None:
            list_name = prop
            items = resource.props.get(list_name)
            if is_unknown(items):
                raise Unverifiable(describe_unknown(items, list_name))
            for i, item in enumerate(as_list(items)):
                if not isinstance(item, dict):
                    raise Malformed(f"{list_name}[{i}] is not an object")
                if item.get(field) not in (None, ""):  # {"name": "", "policy": ""}: "no inline policies"
                    yield parse(item[field], f"{list_name}[{i}].{field}", kind)
        elif resource.props.get(prop) is not None:
            yield parse(resource.props[prop], prop, kind)


def parse(raw: Any, path: str = "policy", kind: str = IDENTITY) -> Document:
    """A document from a JSON string (parsed once, however many rules read it) or an object.
    Documents are shared between rules, resources and threads: every part is read-only (each
    statement keeps a read-only copy of what it was read from, never the value itself)."""
    if isinstance(raw, str):
        return _parse_text(raw, path, kind)
    return _parse_value(raw, path, kind)


@functools.lru_cache(maxsize=16384)
def _parse_text(raw: str, path: str, kind: str) -> Document:
    if is_unknown(raw):
        raise Unverifiable(describe_unknown(raw, path))
    try:
        value = _loads(raw)  # private to this call: _statement keeps read-only copies of its parts
    except ValueError as err:
        raise Malformed(f"{path} is not valid JSON ({getattr(err, 'msg', err)} at line "
                        f"{getattr(err, 'lineno', '?')} column {getattr(err, 'colno', '?')})") from None
    # an unknown can hide inside the text only as one of the sentinel strings: look only then
    return _parse_value(value, path, kind, check_unknown=_has_sentinel(raw), text=raw)


try:  # orjson comes with policy_sentry; json is the fallback
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads

_SENTINELS = tuple(sorted(UNKNOWN_SENTINELS | {ENCRYPTED_SECRET, UNREADABLE}))


# Every sentinel contains one of these (Pulumi's are version-4 UUIDs: "-4" starts their third
# group); a text with neither holds no sentinel, found with two searches instead of nine.
_SENTINEL_MARKS = ("-4", "keyguard:")
assert all(any(mark in s for mark in _SENTINEL_MARKS) for s in _SENTINELS)


def _has_sentinel(raw: str) -> bool:
    """Whether one of the sentinel strings occurs in the text (a few substring searches are about
    three times faster than one regular expression of the alternatives)."""
    if "-4" not in raw and "keyguard:" not in raw:
        return False
    for sentinel in _SENTINELS:
        if sentinel in raw:
            return True
    return False


def _parse_value(raw: Any, path: str, kind: str, check_unknown: bool = True, text: str | None = None) -> Document:
    """`text`: the JSON text `raw` was just parsed from (so `raw` is private to this call)."""
    if check_unknown and contains_unknown(raw):
        raise Unverifiable(describe_unknown(raw if is_unknown(raw) else "", path))
    if not isinstance(raw, dict):
        raise Malformed(f"{path} is a JSON {json_type(raw)}, not a policy document object")
    if not raw.keys() <= DOCUMENT_KEYS:
        unknown = [k for k in raw if k not in DOCUMENT_KEYS]
        raise Malformed(f"{path} has {_keys(unknown)} besides Version, Id and Statement, which AWS rejects")
    if "Version" in raw and raw["Version"] not in VERSIONS:
        raise Malformed(f"{path}.Version is {raw['Version']!r}; it must be \"2012-10-17\" or \"2008-10-17\"")
    if "Statement" not in raw:
        raise Malformed(f"{path} has no Statement")
    raw_statements = raw["Statement"]
    single = isinstance(raw_statements, dict)
    if single:
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise Malformed(f"{path}.Statement must be a statement object or a non-empty list of them")
    document = _new(Document)  # the frozen dataclass's fields, set in one call (see _statement)
    vars(document).update(path=path, kind=kind,
                          statements=tuple([_statement(s, i, path, kind, text, single) for i, s in enumerate(raw_statements)]))
    return document


def _statement(raw: Any, index: int, path: str, kind: str, text: str | None = None, single: bool = False) -> Statement:
    if not isinstance(raw, dict):
        raise Malformed(f"{_where(path, index)} is a JSON {json_type(raw)}, not an object")
    if not raw.keys() <= STATEMENT_KEYS:
        unknown = [k for k in raw if k not in STATEMENT_KEYS]
        raise Malformed(f"{_where(path, index)} has {_keys(unknown)}, not a statement element AWS accepts")
    effect = raw.get("Effect")
    if effect != "Allow" and effect != "Deny":
        raise Malformed(f"{_where(path, index)}.Effect is {effect!r}; it must be \"Allow\" or \"Deny\"")
    has_action, has_resource = "Action" in raw, "Resource" in raw
    if has_action == ("NotAction" in raw):
        raise Malformed(f"{_where(path, index)} must have exactly one of Action and NotAction")
    if has_resource == ("NotResource" in raw):
        raise Malformed(f"{_where(path, index)} must have exactly one of Resource and NotResource")
    if kind == IDENTITY:
        if "Principal" in raw or "NotPrincipal" in raw:
            raise Malformed(f"{_where(path, index)} names a {'Principal' if 'Principal' in raw else 'NotPrincipal'}, "
                            "which an identity policy cannot have (AWS rejects it)")
    elif ("Principal" in raw) == ("NotPrincipal" in raw):
        raise Malformed(f"{_where(path, index)} of a {'key' if kind == KEY_POLICY else 'bucket'} policy "
                        f"{'has no Principal' if 'Principal' not in raw else 'has both Principal and NotPrincipal'}")
    condition = raw.get("Condition") or EMPTY
    if not isinstance(condition, dict):
        raise Malformed(f"{_where(path, index)}.Condition is not an object")
    for operator, clauses in condition.items():
        if not isinstance(clauses, dict):
            raise Malformed(f"{_where(path, index)}.Condition.{operator} is a JSON {json_type(clauses)}, "
                            "not an object of condition keys")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise Malformed(f"{_where(path, index)}.Sid is not a string")
    actions = _strings(raw, "Action" if has_action else "NotAction", path, index)
    resources = _strings(raw, "Resource" if has_resource else "NotResource", path, index)
    # parsed from `text`: nothing is kept but where it is; a value the caller owns: copied now
    if text is None:
        source = parts = freeze(raw)  # read-only parts (a copy's parts are returned as they are by `freeze`)
    else:
        source, parts = _new_tuple(_InText, (text, -1 if single else index)), raw
    principal, not_principal = parts.get("Principal"), parts.get("NotPrincipal")
    # built without the frozen dataclass's __init__ (one object.__setattr__ per field, a third of
    # the cost of reading a statement); the fields are exactly the dataclass's
    statement = _new(Statement)
    vars(statement).update({
        "index": index, "sid": sid, "effect": effect,
        "actions": actions if has_action else (), "not_actions": () if has_action else actions,
        "resources": resources if has_resource else (), "not_resources": () if has_resource else resources,
        "principal": principal if principal is None or type(principal) is str else freeze(principal),
        "not_principal": not_principal if not_principal is None or type(not_principal) is str else freeze(not_principal),
        "condition": freeze(parts.get("Condition")) if condition else EMPTY, "_source": source})
    return statement


_new_tuple = tuple.__new__  # a NamedTuple without its generated __new__'s Python frame
_new = object.__new__
_set_item = dict.__setitem__
_ONLY_STR = {str}


def _keys(names: list) -> str:
    return ("key " if len(names) == 1 else "keys ") + ", ".join(repr(n) for n in names)


def _where(path: str, index: int) -> str:
    return f"{path}.Statement[{index}]"


def _strings(raw: dict, key: str, path: str, index: int) -> tuple[str, ...]:
    value = raw.get(key)
    # the common forms, checked at C speed: one string, or a list of non-empty strings
    if type(value) is str and value:
        return (value,)
    if type(value) is list and value and {*map(type, value)} == _ONLY_STR and "" not in value:
        return tuple(value)
    if value is None:
        if key in raw:
            raise Malformed(f"{_where(path, index)}.{key} contains None, not a non-empty string")
        return ()
    if isinstance(value, str) and value:  # the common single-value form
        return (value,)
    values = as_list(value)
    if not values:
        raise Malformed(f"{_where(path, index)}.{key} is empty")
    for item in values:
        if not isinstance(item, str) or not item:
            raise Malformed(f"{_where(path, index)}.{key} contains {item!r}, not a non-empty string")
    return tuple(values)
