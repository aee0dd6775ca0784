"""The part of keyguard's `aws` and `vault` providers that knows the Pulumi provider protocol.

Each resource type is a `ResourceType` subclass working on plain Python values (camelCase keys as
pulumi-aws 7 / pulumi-vault 7 name them); `KeyguardProvider` adapts them to
`pulumi.provider.experimental`: unknown inputs become `UNKNOWN`, secrets are unwrapped and marked
again on the way out, and at preview nothing is called on a server (computed outputs stay unknown).
A type no handler implements fails with a clear error: never a silent echo.
"""
from __future__ import annotations

import hashlib
import json
import sys
from typing import Any, Iterable, Mapping

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime import rpc
from pulumi.provider.experimental.provider import (CheckFailure, CheckRequest, CheckResponse, ConfigureRequest,
                                                   ConfigureResponse, CreateRequest, CreateResponse, DeleteRequest,
                                                   DiffRequest, DiffResponse, PropertyDiff, PropertyDiffKind,
                                                   Provider, ReadRequest, ReadResponse, UpdateRequest,
                                                   UpdateResponse)
from pulumi.provider.experimental.server import main as serve


class _Unknown:
    """A value not known yet (preview, or an output of a resource not created)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
UNKNOWN_SENTINEL = rpc.UNKNOWN


class ProviderError(Exception):
    """An operation the provider refuses or a server rejected, with a message for the user."""


def to_plain(value: PropertyValue, secrets: set[str] | None = None, key: str = "") -> Any:
    """PropertyValue -> plain Python (UNKNOWN for computed); records top-level secret keys."""
    if value.is_secret and secrets is not None and key:
        secrets.add(key)
    inner = value.value
    if isinstance(inner, Computed) or inner == UNKNOWN_SENTINEL:
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: to_plain(v) for k, v in inner.items()}
    if isinstance(inner, tuple):
        return [to_plain(v) for v in inner]
    return inner


def plain_map(values: Mapping[str, PropertyValue], secrets: set[str] | None = None) -> dict[str, Any]:
    return {k: to_plain(v, secrets, k) for k, v in values.items()}


def from_plain(value: Any, secret: bool = False) -> PropertyValue:
    if value is UNKNOWN:
        # The SDK cannot marshal Computed(); on the wire an unknown is the engine's sentinel string.
        return PropertyValue(UNKNOWN_SENTINEL, is_secret=secret)
    if isinstance(value, Mapping):
        return PropertyValue({k: from_plain(v) for k, v in value.items() if v is not None}, is_secret=secret)
    if isinstance(value, (list, tuple)):
        return PropertyValue([from_plain(v) for v in value], is_secret=secret)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return PropertyValue(value, is_secret=secret)
    if isinstance(value, (int, float)):
        return PropertyValue(float(value), is_secret=secret)
    raise TypeError(f"cannot return a {type(value).__name__} as a property")


def out_map(values: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, PropertyValue]:
    secret = set(secrets)
    return {k: from_plain(v, k in secret) for k, v in values.items() if v is not None}


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def as_int(value: Any) -> int | None:
    """Pulumi numbers arrive as floats (3600.0); None stays None."""
    if value is None:
        return None
    return int(value)


def single(value: Any) -> dict[str, Any] | None:
    """A nested block given either as one object or as a one-element list (pulumi-aws 7 uses both)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def canonical_json(value: Any) -> str | None:
    """A policy document, string or object, as sorted JSON (None if absent or not JSON)."""
    if value is None or value is UNKNOWN:
        return None
    try:
        obj = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def suffix(seed: bytes | str, name: str, length: int = 7) -> str:
    """Deterministic auto-name suffix from the engine's random seed (stable across previews)."""
    raw = seed if isinstance(seed, bytes) else str(seed).encode()
    return hashlib.sha256(raw + name.encode()).hexdigest()[:length]


class ResourceType:
    """One resource type. Subclasses set `token`, `inputs`, `replace_on`, `computed` and implement
    `create`/`read`/`update`/`delete` on plain values; `client` is the provider's server client."""

    token: str = ""
    #: input property names the type accepts (anything else is a check failure)
    inputs: frozenset[str] = frozenset()
    #: inputs required at check
    required: frozenset[str] = frozenset()
    #: inputs whose change forces a replacement
    replace_on: frozenset[str] = frozenset()
    #: output properties computed by the server (unknown at preview)
    computed: tuple[str, ...] = ()
    #: inputs holding a JSON policy document (compared as JSON in diff, checked as JSON)
    json_inputs: frozenset[str] = frozenset()
    #: defaults the real provider applies at check
    defaults: Mapping[str, Any] = {}
    #: properties always returned as secrets (the real provider's secret schema properties), whatever
    #: the program marked
    secrets: frozenset[str] = frozenset()

    def check(self, name: str, olds: dict[str, Any], news: dict[str, Any], seed: bytes) -> list[str]:
        """Normalise `news` in place; return failure messages as "property: reason"."""
        failures = [f"{key}: unknown property of {self.token}" for key in news
                    if key not in self.inputs and not key.startswith("__")]
        failures += [f"{key}: required by {self.token}" for key in sorted(self.required) if news.get(key) is None]
        for key in self.json_inputs:
            value = news.get(key)
            if isinstance(value, str) and not contains_unknown(value) and canonical_json(value) is None:
                failures.append(f"{key}: not a JSON document")
        for key, value in self.defaults.items():
            news.setdefault(key, value)
        return failures

    def same(self, key: str, old: Any, new: Any) -> bool:
        if key in self.json_inputs:
            return canonical_json(old) == canonical_json(new)
        if isinstance(old, float) or isinstance(new, float):
            try:
                return float(old) == float(new)
            except (TypeError, ValueError):
                return False
        return old == new

    def preview_outputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {**inputs, **{key: UNKNOWN for key in self.computed if inputs.get(key) is None}}

    def create(self, client: Any, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def read(self, client: Any, rid: str, state: dict[str, Any]) -> dict[str, Any] | None:
        """Current outputs from the server, or None when the resource is gone."""
        raise NotImplementedError

    def update(self, client: Any, rid: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def delete(self, client: Any, rid: str, state: dict[str, Any]) -> None:
        raise NotImplementedError


class KeyguardProvider(Provider):
    """A provider serving a fixed set of `ResourceType`s against one server client."""

    def __init__(self, package: str, types: Iterable[ResourceType]) -> None:
        self.package = package
        self.types = {t.token: t for t in types}
        self.config: dict[str, Any] = {}
        self._client: Any = None

    # --- configuration -------------------------------------------------------------------------------
    def make_client(self, config: dict[str, Any]) -> Any:
        raise NotImplementedError

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.make_client(self.config)
        return self._client

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        # Default providers get "aws:region"-style variables; explicit ones get args. Either way a
        # structured value (endpoints) arrives JSON-encoded in a string.
        def decode(value: Any) -> Any:
            if isinstance(value, str) and value[:1] in ("[", "{"):
                try:
                    return json.loads(value)
                except ValueError:
                    return value
            return value

        config: dict[str, Any] = {}
        for key, value in (request.variables or {}).items():
            config[key.split(":", 1)[-1].replace("config:", "")] = decode(value)
        config.update({k: decode(v) for k, v in plain_map(request.args or {}).items() if v is not None})
        self.config = config
        self._client = None
        return ConfigureResponse(accept_secrets=True, supports_preview=True, accept_outputs=False,
                                 accept_resources=False)

    # --- resources -----------------------------------------------------------------------------------
    def handler(self, token: str) -> ResourceType:
        try:
            return self.types[token]
        except KeyError:
            raise ProviderError(
                f"keyguard's offline '{self.package}' provider does not implement {token} "
                f"(it implements: {', '.join(sorted(self.types))})") from None

    async def check(self, request: CheckRequest) -> CheckResponse:
        handler = self.handler(request.type)
        secrets: set[str] = set(handler.secrets)
        news = plain_map(request.new_inputs, secrets)
        olds = plain_map(request.old_inputs or {})
        failures = handler.check(request.name, olds, news, request.random_seed or b"")
        return CheckResponse(
            inputs=out_map(news, secrets),
            failures=[CheckFailure(property=f.split(":", 1)[0], reason=f) for f in failures])

    async def diff(self, request: DiffRequest) -> DiffResponse:
        handler = self.handler(request.type)
        olds = plain_map(request.old_state)
        news = plain_map(request.new_inputs)
        ignore = set(request.ignore_changes or ())
        changed: dict[str, PropertyDiff] = {}
        # Old state holds outputs too: a key absent from the new inputs is a removal only when the
        # server does not compute or default it.
        removed = {k for k in olds if k in handler.inputs and k not in handler.computed and k not in handler.defaults}
        for key in sorted(set(news) | removed):
            if key in ignore or key.startswith("__"):
                continue
            old, new = olds.get(key), news.get(key)
            if contains_unknown(new) or not handler.same(key, old, new):
                replace = key in handler.replace_on
                if old is None:
                    kind = PropertyDiffKind.ADD_REPLACE if replace else PropertyDiffKind.ADD
                elif new is None:
                    kind = PropertyDiffKind.DELETE_REPLACE if replace else PropertyDiffKind.DELETE
                else:
                    kind = PropertyDiffKind.UPDATE_REPLACE if replace else PropertyDiffKind.UPDATE
                changed[key] = PropertyDiff(kind, True)
        replaces = [k for k in changed if k in handler.replace_on]
        return DiffResponse(changes=bool(changed), replaces=replaces, diffs=list(changed),
                            detailed_diff=changed, delete_before_replace=False)

    async def create(self, request: CreateRequest) -> CreateResponse:
        handler = self.handler(request.type)
        secrets: set[str] = set(handler.secrets)
        inputs = plain_map(request.properties, secrets)
        if request.preview:
            return CreateResponse(resource_id=None, properties=out_map(handler.preview_outputs(inputs), secrets))
        rid, outputs = self._call(handler.create, request.name, inputs)
        return CreateResponse(resource_id=rid, properties=out_map({**inputs, **outputs}, secrets))

    async def read(self, request: ReadRequest) -> ReadResponse:
        handler = self.handler(request.type)
        secrets: set[str] = set(handler.secrets)
        state = plain_map(request.properties, secrets)
        inputs = plain_map(request.inputs)
        current = self._call(handler.read, request.resource_id, {**inputs, **state})
        if current is None:
            return ReadResponse(resource_id="", properties={}, inputs={})
        return ReadResponse(resource_id=request.resource_id, properties=out_map({**state, **current}, secrets),
                            inputs=out_map(inputs, secrets))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        handler = self.handler(request.type)
        secrets: set[str] = set(handler.secrets)
        olds = plain_map(request.olds)
        news = plain_map(request.news, secrets)
        if request.preview:
            return UpdateResponse(properties=out_map({**olds, **news}, secrets))
        outputs = self._call(handler.update, request.resource_id, olds, news)
        kept = {k: v for k, v in olds.items() if k not in handler.inputs}
        return UpdateResponse(properties=out_map({**kept, **news, **outputs}, secrets))

    async def delete(self, request: DeleteRequest) -> None:
        handler = self.handler(request.type)
        self._call(handler.delete, request.resource_id, plain_map(request.properties))

    def _call(self, method: Any, *args: Any) -> Any:
        try:
            return method(self.client, *args)
        except ProviderError:
            raise
        except Exception as error:  # a server's refusal, reported as the provider's error
            raise ProviderError(f"{type(error).__name__}: {error}") from error


def run(provider: KeyguardProvider, version: str) -> None:
    """Serve the provider on the port printed to stdout (the plugin protocol)."""
    serve(sys.argv[1:], version, provider)
