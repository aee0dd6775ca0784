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
  module-level name): the SDK's Analyze converts a resource's props (protobuf -> dict -> proxy)
  once per policy, before the policy can say it does not apply; with 27 policies of which one to
  three apply to a resource, that was most of an Analyze call. `_Servicer.Analyze` is the SDK's
  Analyze with two changes: a `TypedResourcePolicy` whose `resource_types` exclude the request's
  type is answered "not applicable" with its `not_applicable_reason` (what its validate would have
  raised) without converting anything, and the props are converted once per request (each policy
  still gets its own proxy; the rules only read props). Everything else, the response included,
  is the SDK's (tests/test_pack_startup.py compares both servicers' answers). Its Remediate
  answers an empty response without converting the props when no policy is at the remediate
  level. `serve` puts it in place of the SDK's class before constructing `PolicyPack`, and starts
  the pack's warm-up in a thread on the engine's first call (the SDK has no hook after the port
  is printed).
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, MutableMapping, Sequence
from inspect import isawaitable
from typing import Any, Callable, NoReturn

from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationArgs, ResourceValidationPolicy, Secret,
                           StackValidationArgs, StackValidationPolicy)
from pulumi_policy import policy as _sdk
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


class _Servicer(_sdk._PolicyAnalyzerServicer):
    """The SDK's analyzer servicer with a cheaper Analyze (see the module notes)."""

    def _resource_policies(self) -> list[tuple[Any, bool, frozenset[str] | None]]:
        """(policy, has_validation, resource types or None) of the resource policies, in order:
        the policies never change once served, and the ABC isinstance checks are slow."""
        plan = getattr(self, "_plan", None)
        if plan is None:
            plan = self._plan = [
                (policy, policy.has_validation(),
                 policy.resource_types if isinstance(policy, TypedResourcePolicy) else None)
                for policy in self._PolicyAnalyzerServicer__policies if isinstance(policy, ResourceValidationPolicy)]
        return plan

    def Analyze(self, request, _context):
        proto = _sdk.proto
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        deserialized = None
        for policy, has_validation, resource_types in self._resource_policies():
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == EnforcementLevel.DISABLED:
                continue
            if not has_validation:
                response.not_applicable.append(proto.PolicyNotApplicable(
                    policy_name=policy.name, reason="Policy does not implement validate"))
                continue
            if resource_types is not None and request.type not in resource_types:
                response.not_applicable.append(proto.PolicyNotApplicable(
                    policy_name=policy.name, reason=policy.not_applicable_reason))
                continue
            if enforcement_level == EnforcementLevel.REMEDIATE:
                enforcement_level = EnforcementLevel.MANDATORY
            report_violation = self._create_report_violation(response, policy.name, policy.description,
                                                             enforcement_level, policy.severity)
            if deserialized is None:
                deserialized = _sdk.deserialize_properties(_sdk.json_format.MessageToDict(request.properties))
            args = ResourceValidationArgs(request.type, _sdk.unknown_checking_proxy(deserialized), request.urn,
                                          request.name, self._get_resource_options(request),
                                          self._get_provider_resource(request), self._get_policy_config(policy.name),
                                          self._PolicyAnalyzerServicer__stack_tags)
            try:
                result = policy.validate(args, report_violation)
                if isawaitable(result):
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
                response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or ""))
        return response

    def Remediate(self, request, context):
        """The SDK's Remediate converts the props before it looks for a policy at the remediate
        level; with none (the defaults) its answer is an empty response, given here directly."""
        if not any(self._get_enforcement_level(policy) == EnforcementLevel.REMEDIATE
                   for policy in self._PolicyAnalyzerServicer__policies):
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

    def Configure(self, request, context):
        self._warm()
        return super().Configure(request, context)

    warm_up: Callable[[], None] | None = None
    _warm_lock = threading.Lock()
    _warm_started = False

    def _warm(self) -> None:
        with self._warm_lock:
            if self.warm_up is None or _Servicer._warm_started:
                return
            _Servicer._warm_started = True
        threading.Thread(target=_yielding, args=(self.warm_up,), name="keyguard-warm-up", daemon=True).start()


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
