"""The first-pass fast paths of iam_catalog pinned against the reference logic they shortcut:
`arn_types` (an ASCII ARN lowered and split once, instantiated only when it has a wildcard, then
classified through the index's ARN table of reduced entries) against the general path (`_arn_view`,
which instantiates first and lowers each stand-in) with every plan of the ARN's service field and
of a placeholder one tried by `_plan_matches`,
`applies_to` (no set of (service, type) pairs for a string matching one action) against
`keys_match` on the string's `type_keys`, and the exact names' `facts` against the per-question
functions. Over every format of the catalog, filled in several ways, and generated ARNs."""
from __future__ import annotations

import functools
import random
import re

from hypothesis import given, settings, strategies as st

from keyguard_policies import action_patterns, iam_catalog
from keyguard_policies.iam_catalog import _plan_matches

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
FILLINGS = ("x", "Ai-App-1", "a/b", "a:b", "*", "?x", "a*b/c", "")
ODD = ["arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:aws:kms:*:*:key/*", "arn:aws:*:*:*:*", "arn:aws:s?:::b",
       "arn:aws::us-east-1:123456789012:key/k", "arn:aws:S3:::Bucket/Key", "not-an-arn", "arn:aws:s3",
       "arn:aws:s3:", "arn:aws:s3:x", "arn:aws:s3:x:y", "ARN:aws:s3:::b", "ar*:aws:s3:::b", "a?n:aws:s3:::b",
       "arn:aws:s3:::b:c/d", "arn:aws:s3:::/k", "arn:aws:kms:us-east-1:111122223333:key/", "arn:aws:KMS:*:*:KEY/*",
       "arn:aws:iam::123456789012:root", "arn:aws:iam::*:role/*", "*", "", ":::", "arn:aws:s3:::b/?/*",
       # the table's entry kinds at their edges: a bucket and its key, empty names and keys, unfiled segments
       "arn:aws:s3:::b", "arn:aws:s3:::b/", "arn:aws:s3:::b/k", "arn:aws:s3:::b:k", "arn:aws:s3:::/", "arn:aws:s3:::b//",
       "arn:aws:s3:::accesspoint/", "arn:aws:s3:::accesspoint/a", "arn:aws:s3:us-east-1:1:accesspoint/a/object/k",
       "arn:aws:s3:::job/", "arn:aws:s3:::job/j", "arn:aws:s3:::access-grants/default", "arn:aws:s3:::x:/y",
       "arn:aws:iam::aws:root", "arn:aws:iam::1:root", "arn:aws:iam:us-east-1:1:role/r", "arn:aws:iam::1:role",
       "arn:aws:kms:us-east-1:1:key", "arn:aws:kms:us-east-1:1:key/", "arn:aws:kms:us-east-1:1:key:k",
       "arn:aws:ec2:us-east-1:*:snapshot:x", "arn:aws:ec2:us-east-1:1:snapshot/x", "arn:aws:nosuch:r:1:x/y",
       "arn:aws:s3:::Ai-App/*", "arn:aws:kms:*:*:*", "arn:aws:s3:::*:*", "arn:aws:s3:::?"]


@functools.lru_cache(maxsize=1)
def _plans_by_arn_service() -> dict[str, list]:
    """(service, resource type, plan) of every plan of the catalog, by its ARNs' service field."""
    loaded = iam_catalog._loaded()
    found: dict[str, list] = {}
    for service in sorted(loaded.services):
        decoded = loaded.service(service)
        for type_name in decoded.formats:
            plan = decoded.plan(type_name)
            if plan is not None:
                found.setdefault(plan[0].lower(), []).append((service, type_name, plan))
    return found


def _reference_arn_types(arn: str):
    """`arn_types`'s answer the slow way: the general view of the ARN, each of its candidates
    against every plan whose ARNs have its service field or a placeholder there (any other plan's
    check of that field fails), by `_plan_matches` (pinned to the backtracking matcher in test_arn_plans)."""
    service, candidates = iam_catalog._arn_view(arn)
    if service is None:
        return None
    plans = _plans_by_arn_service()
    return frozenset((s, t) for s, t, plan in plans.get(service, []) + plans.get("", [])
                     if any(_plan_matches(plan, parts) for parts in candidates))


@functools.lru_cache(maxsize=1)
def _catalog_arns() -> list[str]:
    index = iam_catalog._index()
    formats = {f for s in index.arn_formats for f in index.arn_formats[s].values()}
    filled = {_PLACEHOLDER.sub(lambda m: "aws" if m.group(1) == "Partition" else filling, f)
              for f in formats for filling in FILLINGS}
    return sorted(filled) + ODD


def test_arn_types_fast_path_agrees_with_the_general_path_over_the_catalog():
    checked = typed = 0
    for arn in _catalog_arns():
        assert arn.isascii()
        iam_catalog.arn_types.cache_clear()
        assert iam_catalog.arn_types(arn) == _reference_arn_types(arn), arn
        checked += 1
        typed += bool(_reference_arn_types(arn))
    assert checked > 10_000 and typed > 2_000  # both answers, many times


ARN_PARTS = st.sampled_from(["arn", "aws", "s3", "kms", "iam", "S3", "Key", "key/", "/", ":", "*", "?", "x",
                             "bucket", "role/", "alias/", "a*b", "123456789012", "us-east-1", "ÄB", "ǅ", "K"])


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(st.lists(ARN_PARTS, max_size=14).map("".join))
def test_arn_types_fast_path_agrees_with_the_general_path_on_generated_arns(arn):
    iam_catalog.arn_types.cache_clear()
    assert iam_catalog.arn_types(arn) == _reference_arn_types(arn)


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.sampled_from(["arn:aws:s3:::", "arn:aws:kms:us-east-1:123456789012:", "arn:aws:iam::123456789012:",
                        "arn:aws:dynamodb:*:*:", "arn:aws:s3:*:*:"]),
       st.lists(st.sampled_from(["key/", "alias/", "table/", "b", "/", ":", "*", "?", "x", "role/", "index/",
                                 "stream/", "accesspoint/", "object/", "-1"]), max_size=8).map("".join))
def test_arn_types_fast_path_agrees_on_generated_resource_parts(prefix, resource):
    arn = prefix + resource
    iam_catalog.arn_types.cache_clear()
    assert iam_catalog.arn_types(arn) == _reference_arn_types(arn)


@functools.lru_cache(maxsize=1)
def _action_strings() -> list[str]:
    index = iam_catalog._index()
    names = sorted(a.name for s in index.actions for a in index.actions[s].values())
    return ["*", "s3:*", "s3:Get*", "kms:*", "S3:getobject", "s3:NoSuchAction", "nosuch:Get*", "s3:GetObjec?",
            "kms:Decryp*", "iam:PassRol?"] + random.Random(11).sample(names, 1500)


def test_applies_to_agrees_with_keys_match_on_the_type_keys():
    rng = random.Random(13)
    arns = _catalog_arns()
    checked = applied = 0
    for action in _action_strings():
        found = iam_catalog.facts(action)
        if not found.count:
            continue
        service = action.split(":")[0].lower()
        own = [a for a in arns if a.split(":")[2:3] == [service]]
        for arn in rng.sample(own, min(len(own), 15)) + rng.sample(arns, 15) + [a for a in ODD if a != "*"]:
            expected = iam_catalog.keys_match(found.type_keys, arn)
            assert iam_catalog.applies_to(found, arn) is expected, (action, arn)
            checked += 1
            applied += expected
    assert checked > 50_000 and applied > 3_000


def test_exact_names_facts_agree_with_the_single_questions():
    for action in _action_strings() + ["s3:", ":x", "GetObject", "s3:getobject", "S3:GETOBJECT"]:
        iam_catalog.facts.cache_clear()
        found = iam_catalog.facts(action)
        assert type(found) is iam_catalog.Facts
        assert found == (action, iam_catalog.match_count(action), iam_catalog.resource_level_count(action),
                         iam_catalog.services_of(action),
                         iam_catalog.expand(action)[0] if iam_catalog.match_count(action) == 1 else None,
                         action_patterns.fold(action))
        assert found.type_keys == iam_catalog._type_keys(action)


def test_a_services_short_names_stay_marshalled_until_a_suggestion_asks():
    from keyguard_policies import iam_index
    payload, _ = iam_index.load_payload()
    kms = iam_index.Index(payload).service("kms")
    assert kms.get("decrypt").name == "kms:Decrypt" and type(kms.get("decrypt")) is iam_index.Action
    assert isinstance(kms._short, bytes)
    assert kms.canonical_names("decr") == ("Decrypt",)
    assert kms._short[kms.names.index("decrypt")] == "Decrypt"
