"""Builds pulumi-policy Policy objects from the catalog and the rule modules. With
pulumi_policy_compat (where the SDK's internals are used) this is the only module that imports
pulumi_policy; the rules never see its proxies, only plain values."""
from __future__ import annotations

from typing import Any, Mapping

from pulumi_policy import (EnforcementLevel, PolicyComplianceFramework, PolicyConfigSchema, ReportViolation,
                           ResourceValidationArgs, ResourceValidationPolicy, Severity, StackValidationArgs,
                           StackValidationPolicy)

from . import catalog
from .engine import run_resource_rule, run_stack_rule
from .model import UNVERIFIABLE, Finding, Resource, Stack
from .policies import RULES, Rule
from .pulumi_policy_compat import (ResourceAndStackPolicy, TypedResourcePolicy, plain, raise_unverifiable,
                                   shared_by_policies, with_changes)

_LEVELS = {"advisory": EnforcementLevel.ADVISORY, "mandatory": EnforcementLevel.MANDATORY,
           "remediate": EnforcementLevel.REMEDIATE, "disabled": EnforcementLevel.DISABLED}
_SEVERITIES = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}


def _params(rule: Rule, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The CLI sends the config merged with the schema defaults; fill any gap from the catalog.
    The config is the same on every call after Configure, so the checked parameters of the last
    config seen are reused (the rules only read them; `keyguard audit` shares one set too)."""
    last = _LAST_PARAMS.get(rule.NAME)
    if last is not None and last[0] == config:
        return last[1]
    params = rule.info.defaults()
    for key, value in (config or {}).items():
        if key in rule.info.config_schema:
            params[key] = catalog._checked(value, rule.info.config_schema[key], f"{rule.NAME}.{key}")
    _LAST_PARAMS[rule.NAME] = (config, params)
    return params


_LAST_PARAMS: dict[str, tuple[Mapping[str, Any] | None, dict[str, Any]]] = {}


def _report(findings: list[Finding], report_violation: ReportViolation, with_urn: bool) -> None:
    """Violations go to the engine; unverifiable checks become pulumi-policy's own advisory
    "can't be known during preview" note (the check runs again at update)."""
    unknown = [f for f in findings if f.kind == UNVERIFIABLE]
    for finding in findings:
        if finding.kind != UNVERIFIABLE:
            report_violation(finding.message, finding.urn if with_urn else None)
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise_unverifiable(unknown[0].message.removeprefix("cannot be verified: ") + more)


def _config_error(rule: Rule, err: catalog.ConfigError, report_violation: ReportViolation) -> None:
    report_violation(f"invalid policy configuration, failing closed: {err}", None)


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    supported = frozenset(rule.SUPPORTED_RESOURCES)
    not_applicable = f"applies to {', '.join(sorted(supported))}"

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in supported:
            args.not_applicable(not_applicable)
        try:
            params = _params(rule, args.get_config())
        except catalog.ConfigError as err:
            return _config_error(rule, err, report_violation)
        resource = shared_by_policies(args, Resource)  # one Resource per request, whichever policies run
        _report(run_resource_rule(rule, resource, params), report_violation, with_urn=False)

    def remediate(args: ResourceValidationArgs):
        """New inputs, or None. A configuration the pack cannot use changes nothing and does not
        raise (an exception here aborts the whole update with "failed to run remediation"), yet
        nothing passes: the CLI analyzes every resource right after remediating it, with this
        policy at mandatory, and `validate` fails closed on the same configuration. Rules'
        `remediate` functions never raise on their inputs."""
        if args.resource_type not in supported:
            return None
        try:
            params = _params(rule, args.get_config())
        except catalog.ConfigError:
            return None
        fixed = rule.remediate(plain(args.props), params)
        if fixed is None:
            return None
        return with_changes(args.props, fixed)

    kwargs = dict(validate=validate, remediate=remediate if rule.remediate else None, resource_types=supported,
                  not_applicable_reason=not_applicable, **_metadata(rule))
    if rule.stack_part:
        return ResourceAndStackPolicy(_stack_validate(rule, stack_part=True), **kwargs)
    return TypedResourcePolicy(**kwargs)


def _stack_validate(rule: Rule, stack_part: bool):
    """AnalyzeStack: a stack rule, or the stack part of a resource rule (least_privilege's
    delegation-shaped key-policy statements), over the stack's resources."""
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        try:
            params = _params(rule, args.get_config())
        except catalog.ConfigError as err:
            return _config_error(rule, err, report_violation)
        stack = Stack(Resource(
            urn=r.urn, type=r.resource_type, props=plain(r.props),
            dependencies=tuple(d.urn for d in r.dependencies),
            property_dependencies={k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()},
        ) for r in args.resources)
        if stack_part:
            subjects = rule.stack_subjects(stack)
            if subjects:
                _report(run_stack_rule(rule, stack, params, subjects), report_violation, with_urn=True)
            return None
        if not any(True for _ in rule.subjects(stack)):
            args.not_applicable(f"the stack has no {', '.join(rule.SUPPORTED_RESOURCES)} to judge")
        _report(run_stack_rule(rule, stack, params), report_violation, with_urn=True)

    return validate


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    return StackValidationPolicy(validate=_stack_validate(rule, stack_part=False), **_metadata(rule))


def _metadata(rule: Rule) -> dict[str, Any]:
    info = rule.info
    frameworks = catalog.controls()["frameworks"]
    first = info.controls[0].split(":", 1)[0] if info.controls else None
    framework = None
    if first:
        ids = [c.split(":", 1)[1] for c in info.controls if c.startswith(first + ":")]
        framework = PolicyComplianceFramework(name=frameworks[first]["name"], version=frameworks[first]["version"],
                                              reference=", ".join(ids), specification=frameworks[first]["url"])
    schema = None
    if info.config_schema:
        schema = PolicyConfigSchema(properties=dict(info.config_schema))
    return dict(
        name=info.name, description=info.description, enforcement_level=_LEVELS[info.enforcement],
        config_schema=schema, severity=_SEVERITIES[info.severity], framework=framework,
        tags=list(info.tags) + list(info.controls), remediation_steps=info.remediation, url=info.url)


def build_policies() -> list:
    return [(_stack_policy if rule.KIND == "stack" else _resource_policy)(rule) for rule in RULES.values()]
