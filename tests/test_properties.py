"""Property-based tests of the rules (hypothesis):

1. no rule raises on arbitrary JSON-like documents, in any document location: the engine never
   reports a "could not be evaluated" internal error;
2. a malformed document always yields a violation from every least-privilege policy (fail closed);
3. adding a wildcard action or resource to a statement of a valid document never removes a finding.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyguard_policies import catalog, iam_catalog
from keyguard_policies.documents import IDENTITY, KEY_POLICY, locations
from keyguard_policies.engine import evaluate
from keyguard_policies.model import VIOLATION, Stack
from keyguard_policies.policies import RULES
from tests.baseline import ACCOUNT, BUCKET_ARN, IAM_LEAST_PRIVILEGE, KEY_ARN, ROOT, UNKNOWN, baseline, make

# Derandomized so CI sees the same examples every run (a gate must not flake); raise
# KEYGUARD_HYPOTHESIS_EXAMPLES, or set KEYGUARD_HYPOTHESIS_RANDOM=1, to explore further.
SETTINGS = settings(max_examples=int(os.environ.get("KEYGUARD_HYPOTHESIS_EXAMPLES", 200)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow],
                    derandomize=not os.environ.get("KEYGUARD_HYPOTHESIS_RANDOM"))

# The policies that read policy documents: six resource rules over every location, the stack rule
# over identity documents, and the key-policy rule over key policies.
LEAST_PRIVILEGE = [*IAM_LEAST_PRIVILEGE, "kms-key-policy-no-public-principal"]
INTERNAL_ERROR = "could not be evaluated"
CARRIER_KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/5d1c0c3e-carrier"

# ---------------------------------------------------------------------------------------------
# Strategies

ACTIONS = st.one_of(
    st.sampled_from(sorted(a.name for a in iam_catalog.expand("s3:*"))),
    st.sampled_from(sorted(a.name for a in iam_catalog.expand("kms:*"))),
    st.sampled_from(sorted(a.name for a in iam_catalog.expand("sts:*")) + ["iam:PassRole", "iam:GetRole",
                                                                           "dynamodb:GetItem", "ec2:DescribeInstances"]),
    st.sampled_from(["s3:Get*", "s3:List*", "kms:Generate*", "s3:GetObjects", "s3:*"]),
)
ARNS = st.sampled_from([
    BUCKET_ARN, f"{BUCKET_ARN}/*", f"{BUCKET_ARN}/models/*", KEY_ARN,
    f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/ai-app-data", "arn:aws:s3:::someone-elses-bucket",
    "arn:aws:s3:::someone-elses-bucket/*", "arn:aws:kms:us-east-1:999999999999:key/other",
    "*", "arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:aws:kms:*:*:key/*", "arn:aws:s3:::ai-*",
    f"arn:aws:iam::{ACCOUNT}:role/ai-app-worker", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t",
])
PRINCIPALS = st.sampled_from([
    {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    {"AWS": "arn:aws:iam::999999999999:root"}, {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/app", "*"]},
    "*", {"AWS": "*"}, {"Service": "s3.amazonaws.com"},
])
CONDITIONS = st.sampled_from([
    {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, {"Bool": {"aws:SecureTransport": "false"}},
    {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
])


def one_or_list(strategy):
    return st.one_of(strategy, st.lists(strategy, min_size=1, max_size=3))


@st.composite
def statements(draw):
    statement = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])), "Principal": draw(PRINCIPALS)}
    statement["NotAction" if draw(st.integers(0, 9)) == 0 else "Action"] = draw(one_or_list(ACTIONS))
    statement["NotResource" if draw(st.integers(0, 9)) == 0 else "Resource"] = draw(one_or_list(ARNS))
    if draw(st.booleans()):
        statement["Sid"] = draw(st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True))
    if draw(st.integers(0, 3)) == 0:
        statement["Condition"] = draw(CONDITIONS)
    return statement


@st.composite
def documents(draw):
    """Valid policy documents: `Statement` a single object or a list, values single or lists."""
    listed = draw(st.lists(statements(), min_size=1, max_size=4))
    if draw(st.integers(0, 4)) == 0:
        listed.insert(0, dict(ROOT))
    doc = {"Statement": listed if len(listed) > 1 or draw(st.booleans()) else listed[0]}
    if draw(st.booleans()):
        doc = {"Version": "2012-10-17", **doc}
    return doc


KEYS = st.one_of(st.sampled_from(["Version", "Statement", "Sid", "Effect", "Action", "NotAction", "Resource",
                                  "NotResource", "Principal", "NotPrincipal", "Condition", "AWS", "StringEquals",
                                  "aws:PrincipalAccount", "policy", "name"]), st.text(max_size=4))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from(["Allow", "Deny", "allow", "*", "s3:GetObject", "s3:*", "s3:Nope*", "kms:Decrypt", "s3GetObject",
                     ":", "arn:", "arn:aws:s3:::", BUCKET_ARN, KEY_ARN, UNKNOWN, "{", "[]", "null", "2012-10-17"]),
)
JSON_LIKE = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)), max_leaves=20)
STATEMENT_KEYS = ["Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
                  "Condition", "Sid"]


@st.composite
def mutated_documents(draw):
    """A valid document with one part replaced by (or extended with) arbitrary JSON, or removed."""
    doc = copy.deepcopy(draw(documents()))
    listed = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    target = draw(st.sampled_from(["statement", "statement", "statement", "document", "element"]))
    if target == "document":
        key = draw(st.sampled_from(["Statement", "Version", "Id"]))
        if draw(st.booleans()):
            doc.pop(key, None)
        else:
            doc[key] = draw(JSON_LIKE)
    elif target == "element" and isinstance(doc["Statement"], list):
        doc["Statement"][draw(st.integers(0, len(listed) - 1))] = draw(JSON_LIKE)
    else:
        statement = listed[draw(st.integers(0, len(listed) - 1))]
        key = draw(st.sampled_from(STATEMENT_KEYS))
        if draw(st.booleans()):
            statement.pop(key, None)
        else:
            statement[key] = draw(JSON_LIKE)
    return doc


ANY_DOCUMENT = st.one_of(JSON_LIKE, mutated_documents(), documents())


def _as_value(document, form):
    if form == "string":
        try:
            return json.dumps(document)
        except (TypeError, ValueError):
            return document
    return document


def fit(document, kind):
    """A valid document as it must appear in a location of `kind`: identity documents carry no
    Principal (AWS rejects one there), resource and key policies need one."""
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), (dict, list)):
        return document
    listed = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    fitted = []
    for statement in listed:
        statement = dict(statement)
        if kind == IDENTITY:
            statement.pop("Principal", None)
            statement.pop("NotPrincipal", None)
        elif "Principal" not in statement and "NotPrincipal" not in statement:
            statement["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}
        fitted.append(statement)
    return {**document, "Statement": fitted if isinstance(document["Statement"], list) else fitted[0]}


def placed(document, form, name="doc", kinds=None) -> list:
    """A valid document in every location (of `kinds`), fitted to each, as a string or object."""
    out = []
    for type_, specs in locations().items():
        if kinds and specs[0]["kind"] not in kinds:
            continue
        out += [c for c in carriers(_as_value(fit(document, specs[0]["kind"]), form), name) if c.type == type_]
    return out


def carriers(value, name="doc", kinds=None) -> list:
    """`value` in every document location (as is: the caller picks the string or object form).
    Keys carry an ARN (so key-policy semantics apply), key policies name the stack's key."""
    out = []
    for type_, specs in locations().items():
        spec = specs[0]
        if kinds and spec["kind"] not in kinds:
            continue
        short = type_.split(":")[-1].lower()
        if spec["property"] == "inlinePolicies[].policy":
            props = {"inlinePolicies": [{"name": "inline", "policy": value}]}
        else:
            props = {spec["property"]: value}
        outputs = {}
        if type_ == "aws:kms/key:Key":
            outputs = {"arn": CARRIER_KEY_ARN}
        elif type_ == "aws:kms/keyPolicy:KeyPolicy":
            props["keyId"] = KEY_ARN
        out.append(make(type_, f"{name}-{short}", props, outputs))
    return out


def _settings(policies=None):
    resolved = catalog.resolve(None)
    if policies is None:
        return resolved
    return {n: s if n in policies else dataclasses.replace(s, enforcement="disabled") for n, s in resolved.items()}


ALL = _settings()
LP_SETTINGS = _settings(LEAST_PRIVILEGE)


def _findings(resources, settings_):
    return [f for outcome in evaluate(Stack(resources), settings_) for f in outcome.findings]


# ---------------------------------------------------------------------------------------------
# 1. No rule raises

@SETTINGS
@given(document=ANY_DOCUMENT, form=st.sampled_from(["string", "object"]))
def test_no_rule_raises_on_arbitrary_documents(document, form):
    resources = [*baseline().values(), *carriers(_as_value(document, form))]
    errors = [f for f in _findings(resources, ALL) if INTERNAL_ERROR in f.message]
    assert errors == []


@SETTINGS
@given(inline=JSON_LIKE)
def test_no_rule_raises_on_arbitrary_inline_policies(inline):
    resources = [*baseline().values(), make("aws:iam/role:Role", "app-role", {"inlinePolicies": inline})]
    assert [f for f in _findings(resources, ALL) if INTERNAL_ERROR in f.message] == []


BASELINE_INPUTS = [(key, prop) for key, resource in baseline().items() for prop in resource.props]


@SETTINGS
@given(where=st.sampled_from(BASELINE_INPUTS), value=JSON_LIKE)
def test_no_rule_raises_on_arbitrary_inputs_anywhere_in_the_stack(where, value):
    """Beyond documents: any input of the design replaced by arbitrary JSON."""
    resources = baseline()
    key, prop = where
    resources[key] = dataclasses.replace(resources[key], props={**resources[key].props, prop: value})
    assert [f for f in _findings(resources.values(), ALL) if INTERNAL_ERROR in f.message] == []


# ---------------------------------------------------------------------------------------------
# 2. Malformed input always yields a violation from every least-privilege policy

BAD_VALUES = {
    "Effect": ["allow", "ALLOW", "", "Permit", None, 1, True, ["Allow"]],
    "Action": [42, None, [], [1], [""], "", {"s3": "GetObject"}, True, ["s3:GetObject", None]],
    "Resource": [42, None, [], [None], "", {"arn": BUCKET_ARN}],
    "Condition": ["x", [1], 1, True],
    "Sid": [1, ["a"], {"a": 1}, True],
}


@st.composite
def malformed_documents(draw):
    """(value, form): a valid document broken in one way that is malformed for every document kind."""
    doc = copy.deepcopy(draw(documents()))
    doc["Statement"] = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    listed = doc["Statement"]
    statement = listed[draw(st.integers(0, len(listed) - 1))]
    defect = draw(st.sampled_from(["json", "no-statement", "statement", "element", "effect", "action", "resource",
                                   "both-actions", "condition", "sid", "top-level"]))
    form = draw(st.sampled_from(["string", "object"]))
    if defect == "json":
        text = json.dumps(doc)
        return text[:draw(st.integers(0, len(text) - 1))] + draw(st.sampled_from(["", ",", "'", "]"])), "string"
    if defect == "no-statement":
        del doc["Statement"]
    elif defect == "statement":
        doc["Statement"] = draw(st.sampled_from([[], None, "Allow", 42, True]))
    elif defect == "element":
        listed[draw(st.integers(0, len(listed) - 1))] = draw(st.sampled_from([None, "x", 42, ["Allow"], True]))
    elif defect == "effect":
        if draw(st.booleans()):
            del statement["Effect"]
        else:
            statement["Effect"] = draw(st.sampled_from(BAD_VALUES["Effect"]))
    elif defect == "action":
        key = "Action" if "Action" in statement else "NotAction"
        statement[key] = draw(st.sampled_from(BAD_VALUES["Action"]))
    elif defect == "resource":
        key = "Resource" if "Resource" in statement else "NotResource"
        statement[key] = draw(st.sampled_from(BAD_VALUES["Resource"]))
    elif defect == "both-actions":
        statement["NotAction" if "Action" in statement else "Action"] = "s3:GetObject"
    elif defect == "condition":
        statement["Condition"] = draw(st.sampled_from(BAD_VALUES["Condition"]))
    elif defect == "sid":
        statement["Sid"] = draw(st.sampled_from(BAD_VALUES["Sid"]))
    elif defect == "top-level":
        return draw(st.sampled_from([[doc], 42, None, True, "not json", [], "[]"])), form
    return _as_value(doc, form), form


def _subjects(policy, resources):
    return {r.urn for r in RULES[policy].subjects(Stack(resources))}


@SETTINGS
@given(case=malformed_documents())
def test_malformed_documents_fail_closed_in_every_least_privilege_policy(case):
    value, _ = case
    if value is None:
        return  # an absent document: nothing to judge
    docs = carriers(value)
    resources = [*baseline().values(), *docs]
    findings = _findings(resources, LP_SETTINGS)
    for policy in LEAST_PRIVILEGE:
        judged = _subjects(policy, docs)
        assert judged, policy
        if value == "":  # an inline policy of "" is pulumi-aws's "no inline policies" marker, not a document
            judged = {u for u in judged if "::aws:iam/role:Role::" not in u}
        flagged = {f.urn for f in findings if f.policy == policy and f.kind == VIOLATION}
        assert judged <= flagged, (policy, judged - flagged)
    assert not any(INTERNAL_ERROR in f.message for f in findings)


def test_every_least_privilege_policy_judges_some_location():
    docs = carriers("{}")
    kinds = {d.urn: locations()[d.type][0]["kind"] for d in docs}
    assert {kinds[u] for u in _subjects("kms-key-policy-no-public-principal", docs)} == {KEY_POLICY}
    assert {kinds[u] for u in _subjects("iam-resources-scoped-to-stack", docs)} == {IDENTITY}
    for policy in LEAST_PRIVILEGE[:6]:
        assert _subjects(policy, docs) == {d.urn for d in docs}


# ---------------------------------------------------------------------------------------------
# 3. A wildcard never removes a finding

def _keys(findings):
    return {(f.policy, f.urn, f.kind) for f in findings}


@st.composite
def widened(draw):
    """(document, the same document with one wildcard added to one Action or Resource, which)."""
    doc = draw(documents())
    listed = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    what = draw(st.sampled_from(["Action", "Resource"]))
    candidates = [i for i, s in enumerate(listed) if what in s]
    if not candidates:
        what = "Resource" if what == "Action" else "Action"
        candidates = [i for i, s in enumerate(listed) if what in s]
    if not candidates:  # every statement uses NotAction and NotResource
        listed[0]["Resource"] = BUCKET_ARN
        listed[0].pop("NotResource", None)
        what, candidates = "Resource", [0]
    index = draw(st.sampled_from(candidates))
    wildcard = draw(st.sampled_from(["*", "s3:*"])) if what == "Action" else "*"
    wide = copy.deepcopy(doc)
    wide_listed = wide["Statement"] if isinstance(wide["Statement"], list) else [wide["Statement"]]
    values = wide_listed[index][what]
    values = list(values) if isinstance(values, list) else [values]
    values.insert(draw(st.integers(0, len(values))), wildcard)
    wide_listed[index][what] = values
    return doc, wide, what


@SETTINGS
@given(pair=widened(), form=st.sampled_from(["string", "object"]), location=st.sampled_from(sorted(locations())))
def test_adding_a_wildcard_never_removes_a_finding(pair, form, location):
    # one location per example (hypothesis covers all of them): "*" expands to the whole catalog
    narrow, wide, what = pair
    base = list(baseline().values())
    place = lambda doc: [c for c in placed(doc, form) if c.type == location]
    before = _keys(_findings([*base, *place(narrow)], LP_SETTINGS))
    after = _keys(_findings([*base, *place(wide)], LP_SETTINGS))
    if what == "Resource":
        if locations()[location][0]["kind"] == "key":
            # SPEC: in a key policy Resource "*" is the key itself, not a wildcard; adding it can
            # rightly settle a mismatch (kms:CancelKeyDeletion next to a bucket ARN)
            before = {k for k in before if k[0] != "iam-action-resource-match"}
        assert before <= after, before - after
        return
    # A wildcard action makes an ARN listed for no action of the statement usable, so that one
    # finding of iam-action-resource-match (the resource side) may go: per policy, every other
    # finding stays, and the resource stays flagged (iam-no-wildcard-actions now judges it).
    reverse = "iam-action-resource-match"
    assert {k for k in before if k[0] != reverse} <= after, before - after
    assert {(u, k) for _, u, k in before} <= {(u, k) for _, u, k in after}, before - after


def test_a_wildcard_action_may_settle_a_reverse_mismatch_but_the_resource_stays_flagged():
    """The one finding a wildcard action can remove, shown by example: S3 actions listing the key ARN
    are a mismatch, but with "*" the key ARN is usable; iam-no-wildcard-actions then flags the role."""
    def outcome(actions):
        doc = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": [f"{BUCKET_ARN}/*", KEY_ARN]}]}
        resources = baseline()
        resources["role"] = dataclasses.replace(resources["role"], props={**resources["role"].props,
                                                                           "policyDocument": json.dumps(doc)})
        return {(f.policy, f.urn.rsplit("::", 1)[-1]) for f in _findings(resources.values(), LP_SETTINGS)}
    assert outcome(["s3:GetObject"]) == {("iam-action-resource-match", "ai-app-role")}
    assert outcome(["s3:GetObject", "*"]) == {("iam-no-wildcard-actions", "ai-app-role"),
                                              ("iam-no-privilege-escalation", "ai-app-role")}


@pytest.mark.parametrize("target", [[KEY_ARN], {"id": KEY_ARN}])
def test_alias_with_a_non_string_target_does_not_crash_the_run(target):
    resources = baseline()
    resources["alias"] = dataclasses.replace(resources["alias"], props={**resources["alias"].props,
                                                                        "targetKeyId": target},
                                             property_dependencies={}, dependencies=())
    findings = _findings(resources.values(), ALL)
    assert not any(INTERNAL_ERROR in f.message for f in findings)


@pytest.mark.parametrize("policy", LEAST_PRIVILEGE)
def test_valid_documents_are_judged_without_errors_by(policy):
    """A smoke check that the strategy's documents are valid: no malformed findings for them."""
    @settings(max_examples=25, deadline=None, derandomize=not os.environ.get("KEYGUARD_HYPOTHESIS_RANDOM"))
    @given(document=documents(), form=st.sampled_from(["string", "object"]))
    def check(document, form):
        docs = placed(document, form)
        findings = _findings([*baseline().values(), *docs], _settings([policy]))
        assert not any("malformed input" in f.message or INTERNAL_ERROR in f.message for f in findings)
    check()
