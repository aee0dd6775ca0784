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
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, NoReturn

from pulumi_policy import ResourceValidationPolicy, Secret, StackValidationArgs, StackValidationPolicy
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


class ResourceAndStackPolicy(ResourceValidationPolicy):
    """A resource policy whose `stack_validate` also runs in AnalyzeStack (see the module notes)."""

    def __init__(self, stack_validate, **kwargs):
        super().__init__(**kwargs)
        self._stack_validate = stack_validate

    def validate(self, args, report_violation):
        if isinstance(args, StackValidationArgs):
            return self._stack_validate(args, report_violation)
        return super().validate(args, report_violation)


StackValidationPolicy.register(ResourceAndStackPolicy)
