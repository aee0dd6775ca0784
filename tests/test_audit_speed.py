"""Structural guarantees of the 10,000-resource audit's speed work (issue 12): what is built once,
what is not kept alive, what the collector is left as, and that the shortcuts keep the verdicts
and the read-only sharing. Nothing here is timed (speed is measured by bench/)."""
from __future__ import annotations

import gc
import io
import json
import weakref
from contextlib import redirect_stdout

import pytest

from keyguard import cli, collector
from keyguard.testing import state_export
from keyguard_policies import s3_encryption
from keyguard_policies.documents import parse
from keyguard_policies.frozen import FrozenDict, FrozenList, ReadOnlyError
from keyguard_policies.kms_keys import KeyLookup
from keyguard_policies.model import Resource, Stack
from keyguard_policies.policies import iam_sse_kms_key_grants
from keyguard_policies.values import Malformed, json_type
from tests.baseline import BUCKET_URN, OBJECTS, T, allow, baseline, policy_doc, run, with_props


# --- the collector ---------------------------------------------------------------------------------

def test_an_audit_leaves_the_collector_as_it_found_it(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state_export(baseline().values())))
    before = gc.get_threshold()
    with redirect_stdout(io.StringIO()) as out:
        assert cli.main(["audit", "--state", str(path), "--format", "json"]) == 0
    assert json.loads(out.getvalue())["summary"]["resources"] == len(baseline())
    assert gc.isenabled()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_loading_runs_without_collections_and_freezes_what_it_built():
    assert gc.isenabled()
    try:
        with collector.one_audit():
            assert gc.get_threshold()[0] == collector.EVALUATION_THRESHOLD
            with collector.loading():
                assert not gc.isenabled()
                loaded = [{"n": [i]} for i in range(1000)]
            assert gc.isenabled()
            assert gc.get_freeze_count() >= len(loaded)
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_a_collector_switched_off_stays_off():
    gc.disable()
    try:
        with collector.one_audit(), collector.loading():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- nothing keeps a large stack alive -------------------------------------------------------------

def test_the_key_lookup_does_not_keep_its_stack_alive():
    """The stack memoizes its KeyLookup: a reference back would be a cycle that only a full
    collection frees (every resource of a large stack with it)."""
    stack = Stack(baseline().values())
    lookup = KeyLookup.of(stack)
    assert lookup.resolve(baseline()["key"].outputs["arn"]) is not None
    ref = weakref.ref(stack)
    gc.disable()
    try:
        del stack
        assert ref() is None
    finally:
        gc.enable()


# --- built once --------------------------------------------------------------------------------------

def test_a_buckets_encryption_rules_are_read_once_per_stack():
    stack = Stack(baseline().values())
    bucket = baseline_bucket(stack)
    first = s3_encryption.all_rules(stack, bucket)
    assert s3_encryption.all_rules(stack, bucket) is first
    assert isinstance(first[0], tuple) and first[0]


def test_two_buckets_with_one_urn_do_not_share_their_rules():
    """The memo is keyed by the resource itself: a malformed export that repeats a URN must not
    lend one bucket's encryption to the other."""
    encrypted = with_props(baseline()["bucket"], serverSideEncryptionConfiguration={"rule": {
        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}})
    plain = baseline()["bucket"]
    stack = Stack([encrypted, plain])
    assert encrypted.urn == plain.urn == BUCKET_URN
    assert [r.algorithm for r in s3_encryption.all_rules(stack, encrypted)[0]] == ["AES256"]
    assert s3_encryption.all_rules(stack, plain)[0] == ()


def test_an_unreadable_encryption_is_raised_for_every_rule_that_asks():
    broken = with_props(baseline()["bucket"], serverSideEncryptionConfiguration="not an object")
    stack = Stack([broken])
    for _ in range(2):
        with pytest.raises(Malformed):
            s3_encryption.all_rules(stack, broken)


def baseline_bucket(stack: Stack) -> Resource:
    [bucket] = stack.of_type(T["bucket"])
    return bucket


def test_a_document_with_the_key_grant_is_not_searched_for_object_grants(monkeypatch):
    """The compliant case (the key is granted) needs no search for the statements that reach the
    bucket's objects; only a missing grant does."""
    calls = []
    real = iam_sse_kms_key_grants.statements_reaching
    monkeypatch.setattr(iam_sse_kms_key_grants, "statements_reaching",
                        lambda *args: calls.append(args) or real(*args))
    assert run("iam-sse-kms-key-grants", baseline()).violations == set()
    assert calls == []
    resources = baseline()
    no_key = policy_doc(allow(["s3:GetObject", "s3:PutObject"], OBJECTS))
    resources["role"] = with_props(resources["role"], policyDocument=json.dumps(no_key))
    assert run("iam-sse-kms-key-grants", resources).violations == {("iam-sse-kms-key-grants", "ai-app-role")}
    assert calls


# --- documents stay read-only copies ------------------------------------------------------------------

@pytest.mark.parametrize("form", ["text", "object"])
def test_parsed_statements_are_read_only_copies(form):
    raw = policy_doc(allow(["s3:GetObject", "s3:PutObject"], [OBJECTS]),
                     {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                      "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}})
    document = parse(json.dumps(raw) if form == "text" else raw, "policy")
    first, second = document.statements
    assert type(first.raw) is FrozenDict and first.raw is not raw["Statement"][0]
    assert type(first.raw["Action"]) is FrozenList and type(first.raw["Resource"]) is FrozenList
    assert type(second.condition) is FrozenDict and type(second.condition["Bool"]) is FrozenDict
    assert type(second.condition["Bool"]["aws:SecureTransport"]) is FrozenList
    assert second.raw["Condition"] is second.condition
    with pytest.raises(ReadOnlyError):
        first.raw["Action"].append("s3:*")
    with pytest.raises(ReadOnlyError):
        second.condition["Bool"]["aws:SecureTransport"].append("true")
    assert first.actions == ("s3:GetObject", "s3:PutObject") and first.resources == (OBJECTS,)
    assert raw == policy_doc(allow(["s3:GetObject", "s3:PutObject"], [OBJECTS]),
                             {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                              "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}})


@pytest.mark.parametrize("value, message", [
    (["s3:GetObject", ""], "contains '', not a non-empty string"),
    (["s3:GetObject", 5], "contains 5, not a non-empty string"),
    ([], "is empty"),
    ("", "contains '', not a non-empty string"),
])
def test_action_lists_are_still_checked_item_by_item(value, message):
    with pytest.raises(Malformed, match=message.replace("(", r"\(")):
        parse(json.dumps(policy_doc(allow(value, "*"))), "policy")


def test_json_type_names_read_only_values_by_their_json_type():
    assert json_type(FrozenDict()) == "object"
    assert json_type(FrozenList()) == "array"
    assert (json_type({}), json_type([]), json_type("s"), json_type(True), json_type(None), json_type(1.0)) == \
        ("object", "array", "string", "boolean", "null", "number")
    with pytest.raises(Malformed, match=r"Statement\[0\] is a JSON array, not an object"):
        parse('{"Version": "2012-10-17", "Statement": [["s3:GetObject"]]}', "policy")


# --- the resource model ----------------------------------------------------------------------------------

def test_resources_get_their_own_default_mappings():
    a, b = Resource("urn:a", "t", {}), Resource("urn:b", "t", {})
    assert a.outputs == {} and a.property_dependencies == {} and a.dependencies == ()
    assert a.outputs is not b.outputs and a.property_dependencies is not b.property_dependencies
    c = Resource(urn="urn:c", type="t", props={"x": 1}, outputs={"id": "i"}, dependencies=("urn:a",),
                 property_dependencies={"x": ("urn:a",)})
    assert c.get("id") == "i" and c.depends_on("x") == ("urn:a",)
    assert c == Resource("urn:c", "t", {"x": 1}, {"id": "i"}, ("urn:a",), {"x": ("urn:a",)})
    with pytest.raises(AttributeError):
        c.urn = "urn:d"  # type: ignore[misc]


def test_judge_each_names_the_subject_and_keeps_every_other_field():
    """judge_each builds the Violation directly (not dataclasses.replace): a field added to
    Violation must be carried over there too, which this test notices."""
    import dataclasses

    from keyguard_policies.policies import Violation, judge_each
    assert [f.name for f in dataclasses.fields(Violation)] == ["message", "evidence", "urn", "kind"]
    subject = Resource("urn:s", "aws:s3/bucket:Bucket", {})
    given = [Violation("m", "e", None, "advisory-kind"), Violation("n", "f", "urn:other")]
    out = list(judge_each([subject], lambda _: iter(given)))
    assert out == [Violation("m", "e", "urn:s", "advisory-kind"), given[1]]
