"""Structural guarantees of the first-pass work (issue 12, round 4): a statement's JSON is built
only when a report reads it, a statement parsed from text keeps only where it is in that text,
a document's judged statements are worked out once, and the sentinel pre-check gives the same
answer as the full search. Nothing here is timed (speed is measured by bench/)."""
from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard_policies import documents
from keyguard_policies.documents import KEY_POLICY, parse
from keyguard_policies.engine import run_resource_rule
from keyguard_policies.frozen import FrozenDict, ReadOnlyError
from keyguard_policies.least_privilege import judged_statements
from keyguard_policies.model import Finding, Resource
from keyguard_policies.policies import RULES, Violation
from keyguard_policies.values import UNKNOWN_SENTINELS, Unverifiable
from tests.baseline import OBJECTS, allow, policy_doc

WILD = {"Sid": "Wild", "Effect": "Allow", "Action": ["s3:*", "iam:PassRole"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": ["111122223333"]}}}
CLEAN = allow(["s3:GetObject"], [OBJECTS])


def _policy(document) -> Resource:
    return Resource("urn:pulumi:s::p::aws:iam/policy:Policy::p", "aws:iam/policy:Policy",
                    {"policy": json.dumps(document)})


# --- evidence built when it is read --------------------------------------------------------------------

def test_evidence_is_built_only_when_a_finding_is_read():
    resource = _policy(policy_doc(CLEAN, WILD))
    findings = run_resource_rule(RULES["iam-no-wildcard-actions"], resource, {})
    statement = judged_statements(resource)[1][1]
    assert [f.policy for f in findings] == ["iam-no-wildcard-actions"]
    assert "_evidence_text" not in vars(statement)  # the rules and the engine never built it
    assert findings[0].evidence == json.dumps(WILD, sort_keys=True)
    assert vars(statement)["_evidence_text"] == findings[0].evidence  # built once, now shared
    assert type(vars(findings[0])["_evidence"]) is str  # the finding keeps the text it built


def test_a_finding_with_a_statement_equals_one_with_its_text():
    statement = parse(json.dumps(policy_doc(WILD))).statements[0]
    lazy = Finding("p", "violation", "urn:x", "t", "m", statement)
    text = Finding("p", "violation", "urn:x", "t", "m", json.dumps(WILD, sort_keys=True))
    assert lazy == text and hash(lazy) == hash(text) and repr(lazy) == repr(text)
    assert dataclasses.replace(lazy, message="n").evidence == text.evidence
    assert dataclasses.asdict(lazy)["evidence"] == text.evidence
    assert Finding("p", "violation", "urn:x", "t", "m").evidence == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.evidence = "x"  # type: ignore[misc]


def test_violations_carry_a_statement_until_read_and_then_its_text():
    statement = parse(json.dumps(policy_doc(WILD))).statements[0]
    v = Violation("m", statement)
    assert v._evidence is statement
    assert v.evidence == json.dumps(WILD, sort_keys=True) and v == Violation("m", v.evidence)
    assert [f.name for f in dataclasses.fields(Violation)] == ["message", "evidence", "urn", "kind"]


# --- what a parsed statement keeps ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["list", "single"])
def test_a_statement_parsed_from_text_keeps_only_where_it_is(shape):
    document = {"Version": "2012-10-17", "Statement": [CLEAN, WILD] if shape == "list" else WILD}
    text = json.dumps(document)
    statement = parse(text).statements[-1]
    source = statement._source
    assert type(source) is documents._InText and source.text == text
    assert source.index == (-1 if shape == "single" else 1)
    assert statement.evidence() == json.dumps(WILD, sort_keys=True)
    assert type(statement.raw) is FrozenDict and statement.raw == WILD
    assert statement.raw["Condition"] is statement.condition  # the parts already copied are shared
    assert statement.raw is statement.raw  # copied once
    with pytest.raises(ReadOnlyError):
        statement.raw["Action"].append("s3:GetObject")


def test_a_value_the_caller_owns_is_copied_when_read():
    document = policy_doc(json.loads(json.dumps(WILD)))
    statement = parse(document).statements[0]
    document["Statement"][0]["Action"].append("kms:*")  # the caller changes its value afterwards
    assert statement.actions == ("s3:*", "iam:PassRole")
    assert statement.raw == WILD and statement.evidence() == json.dumps(WILD, sort_keys=True)


# --- a document's judged statements ------------------------------------------------------------------------

def test_judged_statements_are_worked_out_once_per_parsed_document():
    deny = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    text = json.dumps(policy_doc(CLEAN, deny, WILD))
    first, second = _policy(json.loads(text)), _policy(json.loads(text))
    judged = judged_statements(first)
    assert [s.sid for _, s, _ in judged] == [None, "Wild"] and [r for _, _, r in judged] == [(OBJECTS,), ("*",)]
    assert judged_statements(second) is judged  # a second resource with the same text: the same tuple


def test_a_key_policy_is_still_judged_with_its_key():
    key_arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/app"},
                 "Action": "kms:Decrypt", "Resource": "*"}
    key = Resource("urn:pulumi:s::p::aws:kms/key:Key::k", "aws:kms/key:Key",
                   {"policy": json.dumps(policy_doc(statement))}, {"arn": key_arn})
    [(document, _, resources)] = judged_statements(key)
    assert document.kind == KEY_POLICY and resources == (key_arn,)
    with pytest.raises(AssertionError):
        document.judged()  # a key policy's resources depend on its key: never cached per document


# --- the sentinel pre-check ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sentinel", sorted(documents._SENTINELS))
def test_every_sentinel_in_a_document_text_is_found(sentinel):
    text = json.dumps(policy_doc(allow(["s3:GetObject"], [sentinel])))
    assert documents._has_sentinel(text)
    with pytest.raises(Unverifiable):
        parse(text, "policy-" + sentinel)  # a path of its own: not an earlier call's cached answer


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(sorted(documents._SENTINELS) + ["-4", "-", "4", "keyguard", "keyguard:", ":",
                                                                 "arn:aws:s3:::b-4/x", "a", "2012-10-17"]),
                max_size=8).map("".join))
def test_the_pre_check_answers_as_the_full_search(text):
    assert documents._has_sentinel(text) == any(s in text for s in documents._SENTINELS)


def test_the_sentinels_are_the_unknowns_and_the_source_markers():
    assert UNKNOWN_SENTINELS < set(documents._SENTINELS)
