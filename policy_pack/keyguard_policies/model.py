"""The small core every rule speaks: a resource as plain values, the stack it sits in, and the
finding a rule returns. Nothing here imports Pulumi, so the pack, `keyguard audit` and the tests
share it unchanged."""
from __future__ import annotations

import dataclasses
import functools
import threading
from typing import Any, Iterable, Iterator, Mapping

VIOLATION = "violation"
UNVERIFIABLE = "unverifiable"


_NOT_GIVEN: Any = object()


@dataclasses.dataclass(frozen=True, init=False)
class Resource:
    """One resource: `props` are the inputs the policies judge; `outputs` (when a source has them)
    only help identify it (its ARN or id); dependencies are URNs."""
    urn: str
    type: str
    props: Mapping[str, Any]
    outputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def __init__(self, urn: str, type: str, props: Mapping[str, Any], outputs: Mapping[str, Any] = _NOT_GIVEN,
                 dependencies: tuple[str, ...] = (), property_dependencies: Mapping[str, tuple[str, ...]] = _NOT_GIVEN):
        # the dataclass's own __init__, in one call instead of one object.__setattr__ per field
        # (a large export builds one per resource)
        vars(self).update(urn=urn, type=type, props=props, outputs={} if outputs is _NOT_GIVEN else outputs,
                          dependencies=dependencies,
                          property_dependencies={} if property_dependencies is _NOT_GIVEN else property_dependencies)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def get(self, key: str, default: Any = None) -> Any:
        """A property, falling back to the outputs (an id or ARN known only after create)."""
        if key in self.props and self.props[key] is not None:
            return self.props[key]
        return self.outputs.get(key, default)

    def depends_on(self, prop: str) -> tuple[str, ...]:
        """URNs the given property was computed from."""
        return tuple(self.property_dependencies.get(prop, ()))


class Stack:
    """The resources of one stack, indexed by URN and by type."""

    def __init__(self, resources: Iterable[Resource]):
        self.resources: list[Resource] = list(resources)
        self.by_urn: dict[str, Resource] = {r.urn: r for r in self.resources}
        self._by_type: dict[str, list[Resource]] = {}
        self._memo: dict[str, Any] = {}
        self._lock = threading.RLock()
        for resource in self.resources:
            self._by_type.setdefault(resource.type, []).append(resource)

    def memo(self, key: str, build):
        """An index derived from the stack, built once (stack rules share them), under a lock so
        concurrent callers never see two different builds or a half-built one."""
        try:
            return self._memo[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._memo:
                self._memo[key] = build(self)
            return self._memo[key]

    def of_type(self, *types: str) -> Iterator[Resource]:
        for type_ in types:
            yield from self._by_type.get(type_, ())

    def __len__(self) -> int:
        return len(self.resources)


def per_resource(fn):
    """Remember `fn(resource)` for the last resource asked about (and what it raised): rules run
    one after another on the same resource, so each derived view is built once. One slot per
    function and thread (pulumi-policy serves Analyze on a thread pool: a shared slot could hand
    one resource another's view); holding the resource keeps its identity from being reused. The
    views are immutable, so the rules cannot change what the next rule reads."""
    local = threading.local()

    @functools.wraps(fn)
    def wrapper(resource):
        slot = getattr(local, "slot", None)
        if slot is None or slot[0] is not resource:
            try:
                slot = (resource, fn(resource), None)
            except Exception as err:  # re-raised below, for every rule that asks
                slot = (resource, None, err)
            local.slot = slot
        if slot[2] is not None:
            raise slot[2]
        return slot[1]

    return wrapper


class LazyText:
    """A dataclass field of text that may be given as its source instead: any object with an
    `evidence()` method (a policy statement), called the first time the field is read. Rules
    flag thousands of statements whose JSON only a report shows; the pack never shows it.
    Equality, `repr`, `dataclasses.replace` and `asdict` all read the text."""

    def __set_name__(self, owner, name: str):
        self.slot = "_" + name

    def __get__(self, obj, owner=None):
        if obj is None:
            return ""  # the field's default
        value = obj.__dict__[self.slot]
        if type(value) is not str:
            value = obj.__dict__[self.slot] = value.evidence()  # a race builds the same text twice
        return value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.slot] = value


@dataclasses.dataclass(frozen=True, init=False)
class Finding:
    """What a rule reports: a violation, or a check that could not be made (unverifiable).
    `evidence` is the offending value or statement, shown in reports."""
    policy: str
    kind: str
    urn: str
    resource_type: str
    message: str
    evidence: str = LazyText()  # type: ignore[assignment]

    def __init__(self, policy: str, kind: str, urn: str, resource_type: str, message: str, evidence="") -> None:
        # the frozen dataclass's fields, set in one call (an audit makes one per finding)
        vars(self).update(policy=policy, kind=kind, urn=urn, resource_type=resource_type, message=message,
                          _evidence=evidence)
