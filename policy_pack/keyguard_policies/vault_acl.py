"""Vault ACL policies as plain path rules, read the way Vault reads them (vault/policy.go, v1.21):
HCL parsed by python-hcl2, or Vault's JSON syntax; a leading `/` stripped; a trailing `*` is a
prefix glob; a `+` segment matches any one segment; `+*` is refused; old-style `policy = "write"`
maps to capabilities; capabilities are a list (a bare string is refused) and case-sensitive;
`allowed_parameters` keys are lowercased;
blocks for the same path are merged (capabilities united, `deny` wins). What Vault would refuse,
and what this reading cannot tell apart (duplicated attributes, expressions instead of strings),
raises `Malformed` naming the defect, with the parser's own message for syntax errors."""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .frozen import freeze
from .model import per_resource
from .values import Malformed, as_str, json_type, known

CAPABILITIES = ("create", "read", "update", "delete", "list", "sudo", "patch", "subscribe", "recover", "deny")
WRITE = frozenset({"create", "update", "delete", "patch"})
OLD_POLICIES = {"deny": ("deny",), "read": ("read", "list"),
                "write": ("create", "read", "update", "delete", "list"),
                "sudo": ("create", "read", "update", "delete", "list", "sudo")}
PATH_KEYS = frozenset({"comment", "policy", "capabilities", "allowed_parameters", "denied_parameters",
                       "required_parameters", "min_wrapping_ttl", "max_wrapping_ttl", "mfa_methods",
                       "control_group", "subscribe_event_types"})
TOP_KEYS = frozenset({"name", "path"})

SEG, GLOB = object(), object()   # pattern tokens besides literal characters

POLICY_TYPE = "vault:index/policy:Policy"
AUTH_BACKEND_TYPE = "vault:index/authBackend:AuthBackend"
APPROLE_ROLE_TYPE = "vault:appRole/authBackendRole:AuthBackendRole"
AWS_BACKEND_TYPE = "vault:aws/secretBackend:SecretBackend"
AWS_ROLE_TYPE = "vault:aws/secretBackendRole:SecretBackendRole"
MOUNT_TYPE = "vault:index/mount:Mount"


@dataclasses.dataclass(frozen=True)
class PathRule:
    path: str                                   # as Vault keeps it: no leading "/", trailing "*" kept
    capabilities: frozenset[str]
    allowed_parameters: Mapping[str, list] | None

    @property
    def grants(self) -> bool:
        return bool(self.capabilities) and "deny" not in self.capabilities

    @property
    def glob(self) -> bool:
        return self.path.endswith("*")

    @property
    def wildcard(self) -> bool:
        return self.glob or SEG in tokens(self.path)

    def evidence(self) -> str:
        caps = ", ".join(sorted(self.capabilities))
        params = "" if self.allowed_parameters is None else f" allowed_parameters={json.dumps(self.allowed_parameters, sort_keys=True)}"
        return f'path "{self.path}" {{ capabilities = [{caps}]{params} }}'


def parse(text: Any, where: str = "policy") -> tuple[PathRule, ...]:
    """The merged path rules of one ACL policy (HCL or JSON text). Parsed once per text and place
    (HCL parsing costs about a millisecond, and a stack's copies of one design share the text):
    the rules are immutable, and a malformed text raises the same message every time."""
    if not isinstance(text, str):
        raise Malformed(f"{where} is a JSON {json_type(text)}, not the text of a Vault policy")
    found = _parsed(text, where)
    if isinstance(found, str):
        raise Malformed(found)
    return found


@functools.lru_cache(maxsize=1024)
def _parsed(text: str, where: str) -> tuple[PathRule, ...] | str:
    """The rules, or the message of the `Malformed` the text raises."""
    try:
        raw = _json_policy(text, where) if text.lstrip().startswith("{") else _hcl_cached(text, where)
        return tuple(_merge(_rule(path, body, where) for path, body in raw))
    except Malformed as err:
        return str(err)


@per_resource
def rules_of(resource) -> tuple[PathRule, ...]:
    """The rules of a `vault:index/policy:Policy`; its text unknown (computed from mount paths not
    known yet) makes every check of it unverifiable."""
    text = known(resource.props.get("policy"), "policy")
    if text is None:
        raise Malformed("policy is not set")
    return parse(text)


def policy_name(resource) -> str | None:
    """The name Vault stores the policy under (lowercased, as Vault does)."""
    name = as_str(resource.get("name"), "name")
    return name.strip().lower() if name else None


# --- reading the two syntaxes ---------------------------------------------------------------------------

def _json_policy(text: str, where: str) -> Iterator[tuple[str, dict]]:
    try:
        document = json.loads(text)
    except ValueError as err:
        raise Malformed(f"{where} is not valid JSON: {err}") from None
    if not isinstance(document, dict):
        raise Malformed(f"{where} is a JSON {json_type(document)}, not an object")
    _top_keys(document, where)
    paths = document.get("path", {})
    for group in paths if isinstance(paths, list) else [paths]:
        if not isinstance(group, dict):
            raise Malformed(f"{where}: path must be an object of path rules, not {json_type(group)}")
        for path, body in group.items():
            for one in body if isinstance(body, list) else [body]:
                yield path, _plain_json(one, f'{where}: path "{path}"')


def _plain_json(body: Any, where: str) -> dict:
    if not isinstance(body, dict):
        raise Malformed(f"{where} is a JSON {json_type(body)}, not an object")
    return body


def _hcl_cached(text: str, where: str) -> list[tuple[str, dict]]:
    """`_hcl_policy`'s blocks, kept on disk between runs (parse_cache): importing and setting up
    python-hcl2 costs about 0.25 s in each process. The key holds the text, where it was read (part
    of the messages), this module's source and the installed parser's files."""
    from . import parse_cache

    def compute():
        try:
            return ["ok", [[path, body] for path, body in _hcl_policy(text, where)]]
        except Malformed as err:
            return ["malformed", str(err)]

    key = b"\0".join((_parser_version(), where.encode(), text.encode("utf-8", "surrogatepass")))
    status, value = parse_cache.cached("vault-acl-hcl", key, compute)
    if status != "ok":
        raise Malformed(value)
    return [(path, body) for path, body in value]


@functools.lru_cache(maxsize=1)
def _parser_version() -> bytes:
    """What a parsed HCL policy depends on besides its text: this module's source and the installed
    python-hcl2 and lark (their files' paths, sizes and modification times)."""
    import hashlib
    import importlib.util
    import os
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in ("hcl2", "lark"):
        spec = importlib.util.find_spec(name)
        for directory in (spec.submodule_search_locations or []) if spec else []:
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if entry.is_file():
                    stat = entry.stat()
                    digest.update(f"{entry.path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest().encode()


def _hcl_policy(text: str, where: str) -> Iterator[tuple[str, dict]]:
    import hcl2
    from hcl2.utils import SerializationOptions
    try:
        tree = hcl2.parses_to_tree(text)
    except Exception as err:  # lark's UnexpectedInput family: the parser's message names line and column
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise Malformed(f"{where} is not valid HCL: {first}") from None
    _no_duplicates(tree, where)
    document = hcl2.serialize(hcl2.transform(tree, discard_comments=True),
                              serialization_options=SerializationOptions(with_comments=False))
    _top_keys(document, where)
    paths = document.get("path", [])
    for group in paths if isinstance(paths, list) else [paths]:
        if not isinstance(group, dict):
            raise Malformed(f"{where}: path must be a block with one label, got {group!r}")
        body_keys = [k for k in group if k != "__is_block__"]
        if group.get("__is_block__") or not all(_quoted(k) for k in body_keys):
            raise Malformed(f"{where}: a path block must have exactly one quoted label")
        for label in body_keys:
            body = group[label]
            if not isinstance(body, dict) or any(_quoted(k) for k in body if k != "__is_block__"):
                raise Malformed(f"{where}: path {label} must have exactly one label and a body")
            yield _string(label, where), _hcl_values(body, f"{where}: path {label}")


def _no_duplicates(tree: Any, where: str) -> None:
    """python-hcl2 keeps the last of duplicated attributes silently; Vault's HCL1 does not agree, so
    a duplicate is ambiguous and refused."""
    from lark import Tree
    for node in tree.iter_subtrees():
        if node.data == "body":
            names = [child.children[0].children[0] for child in node.children
                     if isinstance(child, Tree) and child.data == "attribute"]
        elif node.data == "object":
            names = ["".join(str(t) for t in child.children[0].scan_values(lambda _: True))
                     for child in node.children if isinstance(child, Tree) and child.data == "object_elem"]
        else:
            continue
        seen = set()
        for name in map(str, names):
            key = name.strip('"').lower()
            if key in seen:
                raise Malformed(f"{where} sets {name} twice in one block; which one Vault uses is ambiguous")
            seen.add(key)


def _top_keys(document: dict, where: str) -> None:
    unknown = sorted(set(document) - TOP_KEYS - {"__is_block__"})
    if unknown:
        raise Malformed(f"{where} has top-level key {unknown[0]!r}; Vault accepts only name and path")


def _quoted(text: Any) -> bool:
    return isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == '"'


def _string(value: Any, where: str) -> str:
    """A quoted HCL string as its text; anything else (a bare word, a heredoc) is refused."""
    if _quoted(value):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, str):
            return decoded
    raise Malformed(f"{where}: {value!r} is not a plain quoted string")


def _hcl_values(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {(_string(k, where) if _quoted(k) else k): _hcl_values(v, where)
                for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_hcl_values(v, where) for v in value]
    if isinstance(value, str):
        return {"true": True, "false": False, "null": None}[value] if value in ("true", "false", "null") \
            else _string(value, where)
    return value


# --- one rule -----------------------------------------------------------------------------------------

def _rule(path: str, body: dict, where: str) -> PathRule:
    label = f'{where}: path "{path}"'
    unknown = sorted(set(body) - PATH_KEYS)
    if unknown:
        raise Malformed(f"{label} has key {unknown[0]!r}, which Vault does not accept")
    if path.startswith("/"):
        path = path[1:]
    if "+*" in path:
        raise Malformed(f"{label}: invalid use of wildcards ('+*' is forbidden)")
    capabilities: list[str] = []
    raw = body.get("capabilities")
    if raw is not None and not isinstance(raw, list):  # Vault's HCL1 decoder: "unknown slice type"
        raise Malformed(f"{label}: capabilities is {raw!r}, not a list; Vault refuses the policy")
    for cap in raw or []:
        if not isinstance(cap, str) or cap not in CAPABILITIES:
            raise Malformed(f"{label}: invalid capability {cap!r}")
        capabilities.append(cap)
    if "policy" in body:
        old = body["policy"]
        if old not in OLD_POLICIES:
            raise Malformed(f"{label}: invalid policy {old!r}")
        capabilities = list(OLD_POLICIES[old]) if old == "deny" else capabilities + list(OLD_POLICIES[old])
    if "deny" in capabilities:
        capabilities = ["deny"]
    allowed = body.get("allowed_parameters")
    if allowed is not None:
        if not isinstance(allowed, dict):
            raise Malformed(f"{label}: allowed_parameters is a {json_type(allowed)}, not an object")
        allowed = {str(k).lower(): v if isinstance(v, list) else [v] for k, v in allowed.items()}
    return PathRule(path, frozenset(capabilities), freeze(allowed))


def _merge(rules: Iterable[PathRule]) -> list[PathRule]:
    """Blocks for the same path act as one (Vault's ACL merges them): capabilities united, deny wins,
    allowed parameters united (a block without them allows every parameter)."""
    merged: dict[str, PathRule] = {}
    for rule in rules:
        seen = merged.get(rule.path)
        if seen is None:
            merged[rule.path] = rule
            continue
        caps = seen.capabilities | rule.capabilities
        if "deny" in caps:
            caps = frozenset({"deny"})
        params = None
        if seen.allowed_parameters is not None and rule.allowed_parameters is not None:
            params = {k: list(seen.allowed_parameters.get(k, [])) + list(rule.allowed_parameters.get(k, []))
                      for k in {*seen.allowed_parameters, *rule.allowed_parameters}}
            for k in params:  # an empty list (any value) on either side stays "any value"
                if seen.allowed_parameters.get(k) == [] or rule.allowed_parameters.get(k) == []:
                    params[k] = []
        merged[rule.path] = PathRule(rule.path, caps, freeze(params))
    return list(merged.values())


# --- path patterns ------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def tokens(pattern: str) -> tuple:
    """Literal characters, SEG for a `+` segment, GLOB for a trailing `*` (a `*` elsewhere is literal)."""
    out: list = []
    glob = pattern.endswith("*")
    body = pattern[:-1] if glob else pattern
    for i, segment in enumerate(body.split("/")):
        if i:
            out.append("/")
        if segment == "+":
            out.append(SEG)
        else:
            out.extend(segment)
    if glob:
        out.append(GLOB)
    return tuple(out)


def overlaps(a: str, b: str) -> bool:
    """Is there a request path both patterns match? (Used with an area pattern such as `sys/*`.)"""
    ta, tb = tokens(a), tokens(b)

    @functools.lru_cache(maxsize=None)
    def walk(i: int, j: int) -> bool:
        x = ta[i] if i < len(ta) else None
        y = tb[j] if j < len(tb) else None
        if x is GLOB or y is GLOB:
            return True
        if x is None and y is None:
            return True
        if x is None:
            return y is SEG and walk(i, j + 1)
        if y is None:
            return x is SEG and walk(i + 1, j)
        if x is SEG and y is SEG:
            return walk(i + 1, j) or walk(i, j + 1) or walk(i + 1, j + 1)
        if x is SEG:
            return walk(i + 1, j) if y == "/" else (walk(i, j + 1) or walk(i + 1, j))
        if y is SEG:
            return walk(i, j + 1) if x == "/" else (walk(i + 1, j) or walk(i, j + 1))
        return x == y and walk(i + 1, j + 1)

    return walk(0, 0)


def contains(area: str, pattern: str) -> bool:
    """Does every path `pattern` matches lie in `area` (an exact path, or a glob/segment pattern)?"""
    regex = _area_regex(area)
    if area.endswith("*"):
        return regex.match(pattern[:-1] if pattern.endswith("*") else pattern) is not None
    return not pattern.endswith("*") and regex.fullmatch(pattern) is not None


@functools.lru_cache(maxsize=4096)
def _area_regex(area: str) -> re.Pattern:
    """An area's expression, built once: a stack's copies of one design share their areas."""
    return re.compile("".join("[^/]+" if t is SEG else "" if t is GLOB else re.escape(t) for t in tokens(area)))
