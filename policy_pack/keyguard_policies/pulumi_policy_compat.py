"""Every place where keyguard relies on how pulumi-policy behaves beyond its documented API, kept
in this one module so that an SDK upgrade has one file to re-check. Checked against pulumi-policy
1.21.0 (`CHECKED_AGAINST`; tests/test_pulumi_policy_compat.py fails when the installed SDK is another
version or behaves differently).

Public API used here: the `Mapping`/`Sequence` protocol of `args.props` (pulumi-policy's own
examples read props by key), `pulumi_policy.Secret`, and item assignment on a remediation's
`args.props` (the SDK's secrets proxy keeps a written value secret when it was one).

Beyond the documented API, and why:
- `UnknownValueError` (module `pulumi_policy.proxy`, not re-exported by the package): reading an
  unknown value through the props proxy raises it. `plain()` catches it per item and keeps the
  sentinel it carries (`unknown_type_sentinel`), so the rules see the whole value and decide what
  is unverifiable themselves, instead of a whole policy stopping at the first unknown.
- Raising `UnknownValueError` ourselves (`raise_unverifiable`): the SDK has no call to report "this
  check cannot be judged yet"; its server turns this exception, and only this one, into the advisory
  "can't run policy ... during preview: <message>" note the CLI shows (the check runs again at
  update). The constructor only takes a sentinel and a property path, so the message is set on the
  `message` attribute the server formats.
- `ResourceAndStackPolicy`: a resource policy that AnalyzeStack runs too. Its server picks the
  policies for Analyze with `isinstance(policy, ResourceValidationPolicy)` and for AnalyzeStack with
  `isinstance(policy, StackValidationPolicy)`, and reports the type in GetAnalyzerInfo by the first
  test; a ResourceValidationPolicy registered as a virtual StackValidationPolicy is therefore one
  policy, one name (which the SDK requires to be unique), typed "resource", and run in both. The
  least-privilege rules need it for key-policy statements that only the stack can judge (whose
  account a key is in), so `pulumi up` gives the verdict `keyguard audit` gives.
- `serve` and `_Servicer` (the SDK's `_PolicyAnalyzerServicer`, which `PolicyPack` builds by its
  module-level name): the SDK's Analyze builds, on every call, a "not applicable" entry for each
  of the 27 policies but the one to three that apply, and converts the props (protobuf -> dict ->
  proxy, then `plain()` in each rule) once per policy. `_Servicer.Analyze` is the SDK's Analyze
  with these changes, its answer unchanged (tests/test_pack_startup.py compares both servicers'
  answers): which policies run on a resource type, and the response's static entries for all
  the others, are planned once per type and configuration (a `TypedResourcePolicy` whose
  `resource_types` exclude the type is answered with its `not_applicable_reason`, what its
  validate would have raised); the policies that run share one conversion of the request's props
  (`shared_by_policies`, straight from the protobuf Struct by `plain_struct`), while each still
  gets its own `args` whose `props` proxy, options and provider are built only if read; the SDK's
  per-call runtime settings read the environment once (`_configure_runtime_settings`).
  Its Remediate answers an empty response without converting the props when no policy is at the
  remediate level. `serve` puts it in place of the SDK's class before constructing `PolicyPack`,
  and starts the pack's warm-up in a thread on the engine's first call (the SDK has no hook after
  the port is printed).
"""
from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Mapping, MutableMapping, Sequence
from inspect import isawaitable, signature
from math import isfinite
from typing import Any, Callable, NamedTuple, NoReturn

import pulumi.runtime
from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationArgs, ResourceValidationPolicy, Secret,
                           StackValidationArgs, StackValidationPolicy)
from pulumi_policy import policy as _sdk
from pulumi_policy.deserialize import SPECIAL_SIG_KEY
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

CHECKED_AGAINST = "1.21.0"
_ABSENT = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """The props pulumi-policy hands a policy (unknown-checking and secret-preserving proxies,
    `Secret` markers) as plain dicts, lists and scalars, with unknown values left in place as the
    sentinel strings the rules recognise."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, Mapping):
        return {key: plain(_read(value, key)) for key in value}
    if isinstance(value, Sequence):
        return [plain(_read(value, index)) for index in range(len(value))]
    return value


def _read(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except UnknownValueError as err:
        return err.unknown_type_sentinel


def raise_unverifiable(message: str) -> NoReturn:
    """Report that a check cannot be judged until the values are known: the SDK's advisory
    "can't run policy ... during preview" note carrying `message`."""
    error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
    error.message = message
    raise error


def with_changes(props: MutableMapping[str, Any], changes: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """A remediation's result: `props` (the proxy the SDK passed in `args.props`) with only the
    properties whose value changes written into it, so secrets and unknown values of every other
    property go back to the engine as they came."""
    for key, value in changes.items():
        try:
            current = plain(_read(props, key))
        except KeyError:
            current = _ABSENT
        if current != value:
            props[key] = value
    return props


class TypedResourcePolicy(ResourceValidationPolicy):
    """A resource policy that applies only to `resource_types`: for any other type its validate
    raises not_applicable(`not_applicable_reason`) before reading anything, so the servicer may
    answer that without running it (see the module notes)."""

    def __init__(self, resource_types: frozenset[str], not_applicable_reason: str, **kwargs):
        super().__init__(**kwargs)
        self.resource_types = resource_types
        self.not_applicable_reason = not_applicable_reason


class ResourceAndStackPolicy(TypedResourcePolicy):
    """A resource policy whose `stack_validate` also runs in AnalyzeStack (see the module notes)."""

    def __init__(self, stack_validate, **kwargs):
        super().__init__(**kwargs)
        self._stack_validate = stack_validate

    def validate(self, args, report_violation):
        if isinstance(args, StackValidationArgs):
            return self._stack_validate(args, report_violation)
        return super().validate(args, report_violation)


StackValidationPolicy.register(ResourceAndStackPolicy)


class _Plan(NamedTuple):
    """How the servicer answers Analyze for one resource type under the current configuration."""
    template: Any  # an AnalyzeResponse holding every policy's static "not applicable" entry, in policy order
    runs: tuple  # (policy, enforcement level) of the policies that run, in policy order
    order: tuple  # per policy in order: its static entry, or the index of its run (see _not_applicable_in_order)


class _Request:
    """What the policies that run on one Analyze request share: its props as plain values,
    converted once (the SDK converts them before each policy runs, so a value it cannot convert
    fails the call here too, before any policy runs), the values derived from them
    (`shared_by_policies`), and, built only if a policy reads them, the SDK's own conversion (for
    `args.props`), the resource options and the provider (the SDK builds them per policy;
    keyguard's rules never read them)."""
    __slots__ = ("request", "servicer", "props", "_deserialized", "_options", "_provider", "_values")

    def __init__(self, request, servicer):
        self.request, self.servicer = request, servicer
        self.props = plain_struct(request.properties)
        self._deserialized = self._options = self._provider = _ABSENT
        self._values: dict = {}

    def deserialized(self) -> dict:
        if self._deserialized is _ABSENT:
            self._deserialized = _sdk.deserialize_properties(_sdk.json_format.MessageToDict(self.request.properties))
        return self._deserialized

    def options(self):
        if self._options is _ABSENT:
            self._options = self.servicer._get_resource_options(self.request)
        return self._options

    def provider(self):
        if self._provider is _ABSENT:
            self._provider = self.servicer._get_provider_resource(self.request)
        return self._provider

    def value(self, build: Callable[[str, str, Any], Any]) -> Any:
        value = self._values.get(build, _ABSENT)
        if value is _ABSENT:
            request = self.request
            value = self._values[build] = build(request.urn, request.type, self.props)
        return value


def plain_struct(struct) -> dict:
    """What `plain` gives for the props the SDK's server builds from a request's protobuf Struct
    (`deserialize_properties(MessageToDict(struct))`), in one walk of the Struct instead of three
    (the SDK's conversion was most of an Analyze call). Only plain JSON values are converted here:
    a map carrying the engine's signature key (a secret, asset or archive) or a number JSON cannot
    hold (MessageToDict raises) sends the whole Struct through the SDK's own conversion
    (tests/test_pack_startup.py checks that both give the same)."""
    try:
        return _plain_struct(struct)
    except _SdkConversion:
        return plain(_sdk.deserialize_properties(_sdk.json_format.MessageToDict(struct)))


class _SdkConversion(Exception):
    """A value `_plain_struct` leaves to the SDK's conversion."""


def _plain_struct(struct) -> dict:
    fields = struct.fields
    if SPECIAL_SIG_KEY in fields:
        raise _SdkConversion
    return {key: _plain_value(fields[key]) for key in fields}


def _plain_value(value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return _plain_struct(value.struct_value)
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        if not isfinite(number):
            raise _SdkConversion
        return number
    if kind == "list_value":
        return [_plain_value(item) for item in value.list_value.values]
    return None  # null_value, or no value set (MessageToDict gives None for both)


class _Args(ResourceValidationArgs):
    """The SDK's ResourceValidationArgs, with `props` (a fresh unknown-checking proxy per policy,
    as the SDK gives), `opts` and `provider` built on first read from the request they share."""

    def __init__(self, shared: _Request, config, stack_tags):
        self._shared = shared
        request = shared.request
        super().__init__(request.type, _ABSENT, request.urn, request.name, _ABSENT, _ABSENT, config, stack_tags)

    def _lazy(name: str, build: Callable[["_Args"], Any]):  # noqa: N805 - a property factory for the class body
        slot = "_" + name

        def get(self):
            value = self.__dict__.get(slot, _ABSENT)
            if value is _ABSENT:
                value = self.__dict__[slot] = build(self)
            return value

        def set_(self, value):
            self.__dict__[slot] = value  # _ABSENT (from the SDK's __init__) means "build on first read"
        return property(get, set_)

    props = _lazy("props", lambda self: _sdk.unknown_checking_proxy(self._shared.deserialized()))
    opts = _lazy("opts", lambda self: self._shared.options())
    provider = _lazy("provider", lambda self: self._shared.provider())
    del _lazy


def shared_by_policies(args: ResourceValidationArgs, build: Callable[[str, str, Any], Any]) -> Any:
    """`build(urn, resource type, plain props)` of the resource `args` describe. With the pack's
    servicer it is built once per Analyze request and `build` function, and every policy that runs
    on the request gets that same value (the rules only read it, and their per-resource views are
    then built once per request, as in `keyguard audit`); otherwise it is built on each call. Never
    kept from one request to the next."""
    if type(args) is not _Args:
        return build(args.urn, args.resource_type, plain(args.props))
    return args._shared.value(build)


class _Servicer(_sdk._PolicyAnalyzerServicer):
    """The SDK's analyzer servicer with a cheaper Analyze (see the module notes)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plans: dict[str, _Plan] = {}
        self._runtime_settings = _runtime_settings()
        self._runtime_settings_apply = self._runtime_settings != (None, None)

    def _configure_runtime_settings(self):
        """The SDK's: the Pulumi config and the project, stack and dry-run settings the CLI passes
        in the environment, applied on every call (they are context variables, gone after each
        call), with what cannot change while the pack runs read once (the environment, and the
        parameters of pulumi's Settings, whose signature the SDK inspects on every call: about
        0.2 ms of each Analyze under the CLI). Not called at all when there is nothing to apply."""
        config, settings = self._runtime_settings
        if config is not None:
            for key, value in json.loads(config).items():
                pulumi.runtime.set_config(key, value)
        if settings is not None:
            pulumi.runtime.configure(pulumi.runtime.Settings(**settings))

    def Configure(self, request, context):
        self._warm()
        answer = super().Configure(request, context)
        self._plans = {}  # the enforcement levels changed: plans are rebuilt on first use
        return answer

    def _plan(self, resource_type: str) -> _Plan:
        """Built once per resource type and configuration: which policies run, and the response's
        "not applicable" entries of all the others (the SDK builds 27 messages on every call)."""
        plans = self._plans  # a Configure meanwhile replaces the dict: a plan built now is dropped with it
        plan = plans.get(resource_type)
        if plan is not None:
            return plan
        proto = _sdk.proto
        template, runs, order = proto.AnalyzeResponse(), [], []
        for policy in self._PolicyAnalyzerServicer__policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                continue
            reason = None
            if not policy.has_validation():
                reason = "Policy does not implement validate"
            elif isinstance(policy, TypedResourcePolicy) and resource_type not in policy.resource_types:
                reason = policy.not_applicable_reason
            if reason is not None:
                entry = proto.PolicyNotApplicable(policy_name=policy.name, reason=reason)
                template.not_applicable.append(entry)
                order.append(entry)
                continue
            order.append(len(runs))
            runs.append((policy, EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level))
        plan = plans[resource_type] = _Plan(template, tuple(runs), tuple(order))
        return plan

    def Analyze(self, request, _context):
        proto = _sdk.proto
        if self._runtime_settings_apply:
            self._configure_runtime_settings()
        plan = self._plan(request.type)
        response = proto.AnalyzeResponse()
        response.CopyFrom(plan.template)  # one C-level copy of the static entries
        shared = _Request(request, self) if plan.runs else None
        stack_tags = self._PolicyAnalyzerServicer__stack_tags
        dynamic = None
        for index, (policy, enforcement_level) in enumerate(plan.runs):
            report_violation = self._create_report_violation(response, policy.name, policy.description,
                                                             enforcement_level, policy.severity)
            args = _Args(shared, self._get_policy_config(policy.name), stack_tags)
            try:
                result = policy.validate(args, report_violation)
                if result is not None and isawaitable(result):
                    loop = _sdk.asyncio.new_event_loop()
                    loop.run_until_complete(_sdk.asyncio.Task(result, loop=loop))
                    loop.close()
            except UnknownValueError as e:
                name, version = self._PolicyAnalyzerServicer__policy_pack_name, self._PolicyAnalyzerServicer__policy_pack_version
                response.diagnostics.append(proto.AnalyzeDiagnostic(
                    policyName=policy.name, policyPackName=name, policyPackVersion=version,
                    message=(f"can't run policy '{policy.name}' from policy pack "
                             f"'{name}@v{version}' during preview: {e.message}"),
                    urn="", description=policy.description,
                    enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY)))
            except _sdk._NotApplicableError as e:
                dynamic = dynamic or {}
                dynamic[index] = proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or "")
        if dynamic:
            _not_applicable_in_order(response, plan, dynamic)
        return response

    def Remediate(self, request, context):
        """The SDK's Remediate converts the props before it looks for a policy at the remediate
        level; with none (the defaults) its answer is an empty response, given here directly."""
        if not any(self._get_enforcement_level(policy) == EnforcementLevel.REMEDIATE
                   for policy in self._PolicyAnalyzerServicer__policies):
            if self._runtime_settings_apply:
                self._configure_runtime_settings()
            return _sdk.proto.RemediateResponse()
        return super().Remediate(request, context)

    # The engine's first calls after the port is printed (StackConfigure, GetPluginInfo,
    # GetAnalyzerInfo, Configure) start the warm-up: it then overlaps the program's own start-up.
    def ConfigureStack(self, request, context):
        self._warm()
        return super().ConfigureStack(request, context)

    def GetPluginInfo(self, request, context):
        self._warm()
        return super().GetPluginInfo(request, context)

    def GetAnalyzerInfo(self, request, context):
        self._warm()
        return super().GetAnalyzerInfo(request, context)

    warm_up: Callable[[], None] | None = None
    _warm_lock = threading.Lock()
    _warm_started = False

    def _warm(self) -> None:
        with self._warm_lock:
            if self.warm_up is None or _Servicer._warm_started:
                return
            _Servicer._warm_started = True
        threading.Thread(target=_yielding, args=(self.warm_up,), name="keyguard-warm-up", daemon=True).start()


def _runtime_settings() -> tuple[str | None, dict[str, Any] | None]:
    """(PULUMI_CONFIG, the Settings arguments) as the SDK's `_configure_runtime_settings` reads
    them from the environment; None for what it would not apply."""
    config = os.environ.get("PULUMI_CONFIG")
    if not all(key in os.environ for key in ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN")):
        return config, None
    settings = {"project": os.environ["PULUMI_PROJECT"], "stack": os.environ["PULUMI_STACK"],
                "dry_run": os.environ["PULUMI_DRY_RUN"] == "true"}
    if "organization" in signature(pulumi.runtime.Settings).parameters:
        settings["organization"] = os.environ.get("PULUMI_ORGANIZATION", "organization")
    return config, settings


def _not_applicable_in_order(response, plan: _Plan, dynamic: dict) -> None:
    """A policy that ran said "not applicable": its entry goes where the SDK would put it, among
    the static ones in policy order."""
    del response.not_applicable[:]
    response.not_applicable.extend(
        entry if not isinstance(entry, int) else dynamic[entry] for entry in plan.order
        if not isinstance(entry, int) or entry in dynamic)


WARM_UP_SWITCH_INTERVAL = 0.0005


def _yielding(work: Callable[[], None]) -> None:
    """Run `work` while letting the server's threads take the GIL within half a millisecond
    instead of Python's default 5 ms: every gRPC call takes the GIL several times, and a call
    arriving during the warm-up would otherwise wait about that long each time."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, WARM_UP_SWITCH_INTERVAL))
    try:
        work()
    finally:
        sys.setswitchinterval(previous)


def serve(warm_up: Callable[[], None] | None = None, **pack_args: Any) -> NoReturn:
    """`PolicyPack(**pack_args)`, which serves until the engine stops it, with `_Servicer`.
    `warm_up` (building what the rules would otherwise build on their first call) runs in a
    daemon thread from the engine's first call on, not before the port is printed."""
    _Servicer.warm_up = staticmethod(warm_up) if warm_up is not None else None
    _sdk._PolicyAnalyzerServicer = _Servicer
    PolicyPack(**pack_args)
    raise SystemExit(0)  # PolicyPack returns only after a KeyboardInterrupt stopped its server
