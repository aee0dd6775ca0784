"""The fast ARN matching of iam_catalog pinned against the slow path it replaced: each resource
type's format is matched through a plan built with the index (iam_index.arn_plan) instead of the
backtracking matcher, and an ARN is classified once against only the types filed under its service
and first segment (the index's ARN table) instead of trying every type of every action. Over the
whole catalog and generated formats and ARNs, both must answer exactly as the slow path does: the
pre-filter never drops a type the full matcher accepts, the plans never disagree with it."""
from __future__ import annotations

import functools
import itertools
import random
import re

import pytest
from hypothesis import given, settings, strategies as st

from keyguard_policies import iam_catalog, iam_index
from keyguard_policies.iam_catalog import _arn_matches, _instantiations, _match, _plan_matches


# --- the slow path, as iam_catalog had it before plans and the ARN table ---------------------------

def _reference_types_match(service: str, resource_types: tuple[str, ...], resource_arn: str) -> bool:
    """Every type of the action tried with the backtracking matcher, skipping only types whose ARN
    format names another service than the ARN's."""
    arn_service = resource_arn.split(":", 3)[2].lower() if resource_arn.count(":") >= 3 else ""
    candidates = tuple(c.lower() for c in _instantiations(resource_arn))
    summary = iam_catalog._loaded().summary[service]
    for type_name in resource_types:
        fmt_service = summary.format_services.get(type_name, "")
        if fmt_service and arn_service and not any(c in arn_service for c in "*?") and fmt_service != arn_service:
            continue
        spec = iam_catalog.arn_tokens(service, type_name)
        if spec is not None and any(_arn_matches(spec, c) for c in candidates):
            return True
    return False


def _reference_pattern_matches(pattern: str, resource_arn: str) -> bool:
    if resource_arn == "*":
        return iam_catalog.match_count(pattern) > 0
    return any(_reference_types_match(service, types, resource_arn)
               for service, types in iam_catalog.type_groups(pattern))


# --- ARNs to try: every format of the catalog, filled in several ways ------------------------------
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
FILLINGS = ("x", "ai-app-1", "a/b", "a:b", "*", "?x", "a*b/c")


@functools.lru_cache(maxsize=1)
def _formats() -> list[tuple[str, str, str]]:
    index = iam_catalog._index()
    return [(s, t, f) for s in sorted(index.arn_formats) for t, f in sorted(index.arn_formats[s].items())]


def _fill(fmt: str, filling: str) -> str:
    return _PLACEHOLDER.sub(lambda m: "aws" if m.group(1) == "Partition" else filling, fmt)


def _arns_from(formats) -> list[str]:
    return sorted({_fill(f, filling) for _, _, f in formats for filling in FILLINGS})


BROAD = ["arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:aws:kms:*:*:key/*", "arn:aws:*:*:*:*", "arn:aws:s?:::b",
         "arn:aws::us-east-1:123456789012:key/k", "arn:aws:S3:::Bucket/Key", "not-an-arn", "arn:aws:s3",
         "arn:aws:iam::123456789012:root", "arn:aws:kms:us-east-1:123456789012:alias/*", "arn:*:s3:::b/o",
         "arn:aws:s3:::b:c/d", "arn:aws:s3:::/k", "arn:aws:kms:us-east-1:111122223333:key/"]


def test_every_plan_agrees_with_the_backtracking_matcher_over_the_catalog():
    """Each resource type's plan against every ARN of its own service's formats (and the broad
    ones), filled with names, paths, colons and wildcards: the same answer as `_arn_matches`."""
    by_service: dict[str, list] = {}
    for service, type_name, fmt in _formats():
        by_service.setdefault(service, []).append((service, type_name, fmt))
    checked = matched = 0
    for service, formats in by_service.items():
        arns = _arns_from(formats) + BROAD
        found = iam_catalog._service(service)
        for _, type_name, fmt in formats:
            spec, plan = iam_index.arn_tokens(fmt), found.plan(type_name)
            assert (spec is None) == (plan is None), fmt
            if spec is None:
                continue
            for arn in arns:
                for candidate in (c.lower() for c in _instantiations(arn)):
                    parts = candidate.split(":", 5)
                    if len(parts) != 6 or parts[0] != "arn":
                        continue
                    expected = _arn_matches(spec, candidate)
                    assert _plan_matches(plan, parts) is expected, (fmt, candidate)
                    checked += 1
                    matched += expected
    assert checked > 50_000 and matched > 5_000  # the comparison covered both answers, many times


def test_only_three_formats_are_left_to_the_backtracking_matcher():
    kinds = [iam_catalog._service(s).plan(t)[2] for s, t, _ in _formats() if iam_catalog._service(s).plan(t)]
    assert kinds.count(iam_index.STEPS) <= 3
    assert kinds.count(iam_index.GLOB) > 2000


# --- plans of generated formats against generated texts ----------------------------------------------
TOKENS = st.sampled_from(["${Id}", "${BucketName}", "/", ":", "key/", "a", "ab", "/x/", "-", "${Name}"])
FORMATS = st.lists(TOKENS, min_size=1, max_size=7).map(lambda parts: "arn:${Partition}:svc:::" + "".join(parts))
TEXTS = st.lists(st.sampled_from(["a", "b", "/", ":", "key/", "ab", "x", "-", "/x/", "aa"]), max_size=9).map("".join)


@settings(max_examples=3000, derandomize=True)
@given(FORMATS, TEXTS)
def test_generated_plans_agree_with_the_backtracking_matcher(fmt, text):
    spec = iam_index.arn_tokens(fmt)
    plan = iam_index.arn_plan(fmt)
    parts = ["arn", "aws", "svc", "", "", text]
    assert _plan_matches(plan, parts) is _match(spec[1], text)


# --- ARN classification (the pre-filter) against the slow path ---------------------------------------

def test_classifying_an_arn_finds_every_type_the_full_matcher_accepts():
    """For every format's filled ARNs (and the broad ones), the (service, type) pairs `arn_types`
    finds are exactly those whose format the backtracking matcher accepts, over the whole catalog,
    with the service skip of the slow path (a format of another service is never tried)."""
    arns = _arns_from(_formats()) + BROAD
    rng = random.Random(12)
    for arn in rng.sample(arns, 700) + BROAD:
        matched = iam_catalog.arn_types(arn)
        arn_service = arn.split(":", 3)[2].lower() if arn.count(":") >= 3 else ""
        if not arn_service or "*" in arn_service or "?" in arn_service:
            assert matched is None, arn
            continue
        expected = {(s, t) for s, t, _ in _formats() if _reference_types_match(s, (t,), arn)}
        assert matched == expected, arn


def test_a_filled_format_is_classified_as_its_own_type_whenever_the_full_matcher_accepts_it():
    """Over every format of the catalog (a format with a literal `*`, which IAM wildcards in the
    ARN cannot stand for, is the rare one the full matcher rejects too)."""
    accepted = 0
    for service, type_name, fmt in _formats():
        if iam_index.arn_tokens(fmt) is None or "${" in fmt.split(":")[2]:
            continue
        arn = _fill(fmt, "ai-app-1")
        expected = _reference_types_match(service, (type_name,), arn)
        assert ((service, type_name) in iam_catalog.arn_types(arn)) is expected, arn
        accepted += expected
    assert accepted > 2000


ACTION_STRINGS = ["*", "s3:*", "s3:Get*", "s3:*Object", "kms:*", "iam:*", "*:Get*", "s?:List*", "ec2:Describe*",
                  "s3:GetObject", "s3:ListBucket", "kms:Decrypt", "iam:PassRole", "ssm:GetParameter",
                  "s3express:CreateSession", "sts:AssumeRole", "S3:getobject", "s3:NoSuchAction", "nosuch:Get*"]


@functools.lru_cache(maxsize=1)
def _sampled_actions() -> list[str]:
    index = iam_catalog._index()
    names = sorted(a.name for s in index.actions for a in index.actions[s].values())
    return ACTION_STRINGS + random.Random(7).sample(names, 600)


def test_action_strings_match_arns_as_the_slow_path_does():
    rng = random.Random(3)
    arns = _arns_from(_formats())
    checked = matched = 0
    for action in _sampled_actions():
        service = action.split(":")[0].lower()
        own = [a for a in arns if a.split(":")[2] == service]
        for arn in rng.sample(own, min(len(own), 12)) + rng.sample(arns, 12) + BROAD + ["*"]:
            expected = _reference_pattern_matches(action, arn)
            assert iam_catalog.pattern_matches(action, arn) is expected, (action, arn)
            checked += 1
            matched += expected
    assert checked > 10_000 and matched > 1_000


def test_resource_matches_for_an_action_entry_agrees_with_the_slow_path():
    rng = random.Random(5)
    arns = _arns_from(_formats()) + BROAD
    for name in _sampled_actions()[len(ACTION_STRINGS):]:
        action = iam_catalog.lookup(name)
        for arn in rng.sample(arns, 10) + ["*"]:
            expected = arn == "*" or (bool(action.resource_types) and
                                      _reference_types_match(action.service.lower(), action.resource_types, arn))
            assert iam_catalog.resource_matches(action, arn) is expected, (name, arn)


def test_facts_agree_with_the_single_questions():
    for action in _sampled_actions():
        facts = iam_catalog.facts(action)
        assert facts.count == len(iam_catalog.expand(action)) == iam_catalog.match_count(action)
        assert facts.resource_level == iam_catalog.resource_level_count(action)
        assert facts.services == iam_catalog.services_of(action)
        assert facts.type_keys == {(s, t) for s, types in iam_catalog.type_groups(action) for t in types}
        assert facts.single == (iam_catalog.expand(action)[0] if facts.count == 1 else None)


# --- decoding a service stays cheap ------------------------------------------------------------------

def test_a_decoded_service_makes_actions_and_plans_only_when_asked():
    payload, _ = iam_index.load_payload()
    s3 = iam_index.Index(payload).service("s3")
    assert s3._made == {} and s3._plan_made == {}
    assert s3.get("getobject").name == "s3:GetObject"
    assert list(s3._made) == ["getobject"]
    assert s3.plan("object")[2] == iam_index.NAMED and list(s3._plan_made) == ["object"]
    assert s3.plan("no-such-type") is None
    assert s3.canonical_names("getobjectv") == tuple(sorted(
        (n for n in (a.name.split(":")[1] for a in iam_catalog.expand("s3:GetObjectV*"))), key=str.lower))


@pytest.mark.parametrize("service, prefix", [("s3", "G"), ("s3", "g"), ("kms", "E"), ("iam", "P"), ("s3", "G?t"),
                                             ("s3", "*Object"), ("nosuch", "G")])
def test_names_with_prefix_agrees_with_expansion(service, prefix):
    expected = [a.name.split(":", 1)[1] for a in iam_catalog.expand(f"{service}:{prefix}*")]
    assert list(iam_catalog.names_with_prefix(service, prefix)) == expected


def _table_pairs(table) -> list:
    by_segment, unfiled = table
    pairs = []
    for entries in (*by_segment.values(), unfiled):
        for kind, _, arg, keys in entries:
            pairs.extend(keys)
            if kind == iam_index.PLANS:  # the grouped plans carry their own pairs
                for needle, plan, keys in arg:
                    assert needle in iam_index._literals(plan) + [""]  # a literal every match contains
                    pairs.extend(keys)
    return pairs


def test_the_arn_table_files_every_matchable_plan_under_its_service_field():
    """Every (service, type) with a plan is in the table of its ARNs' service field (a placeholder
    field's: in every table), except the plans whose field checks need a wildcard, which no
    instantiated ARN has; no table holds a pair of another service field."""
    index = iam_catalog._loaded()
    expected: dict[str, set] = {}
    dropped = set()
    for service, type_name, fmt in _formats():
        plan = iam_catalog._service(service).plan(type_name)
        if plan is None:
            continue
        if any("*" in literal or "?" in literal for _, literal in plan[1]):
            dropped.add((service, type_name))
        else:
            expected.setdefault(plan[0], set()).add((service, type_name))
    assert len(dropped) <= 2  # today: backup's recoveryPoint, whose account field is a literal "*"
    blank = expected.get("", set())
    for fs in [fs for fs in index._arn_blobs if fs] + ["no-such-service"]:
        assert set(_table_pairs(index.arn_table(fs))) == expected.get(fs, set()) | blank, fs
    assert set(_table_pairs(index.arn_table(""))) == blank


def test_the_arn_table_is_read_only_and_decoded_once():
    index = iam_index.Index(iam_index.load_payload()[0])
    assert index._arn_tables == {}
    by_segment, unfiled = table = index.arn_table("kms")
    assert index.arn_table("kms") is table and list(index._arn_tables) == ["kms"]
    with pytest.raises(TypeError):
        by_segment["key/"] = ()
    assert isinstance(unfiled, tuple) and all(isinstance(e, tuple) for e in by_segment["key/"])
    kinds = {kind for entries in by_segment.values() for kind, *_ in entries}
    assert kinds == {iam_index.AFTER}  # every kms format: a segment and a name, one length comparison
    (_, checks, arg, pairs), = by_segment["key/"]
    assert checks == () and arg == len("key/") and ("kms", "key") in pairs and isinstance(pairs, frozenset)
    assert index.arn_table("no-such-service") is index.arn_table("")


def test_an_arn_matching_one_entry_gets_the_entrys_shared_pairs():
    """No set per ARN: two keys of one KMS key type share one frozenset."""
    first = iam_catalog.arn_types("arn:aws:kms:us-east-1:111122223333:key/one")
    second = iam_catalog.arn_types("arn:aws:kms:eu-west-1:111122223333:key/two")
    assert first is second and ("kms", "key") in first


def test_resource_type_keywords_come_from_the_index():
    assert {"key", "alias"} <= iam_catalog.resource_type_keywords("KMS")
    assert iam_catalog.resource_type_keywords("no-such-service") == frozenset()
    raw = iam_catalog._index().arn_formats["s3"].values()
    words = {w.lower() for f in raw for w in re.split(r"[/:]", f.split(":", 5)[-1]) if w and "${" not in w}
    assert iam_catalog.resource_type_keywords("s3") == words


# --- the ARN table of generated formats against the plans, through arn_types itself -------------------
FIELDS = st.tuples(st.sampled_from(["svc", "${Vendor}"]), st.sampled_from(["${Region}", "", "us-west-2"]),
                   st.sampled_from(["${Account}", "", "*", "aws"]))
GENERATED_FORMATS = st.lists(st.tuples(FIELDS, st.lists(TOKENS, min_size=1, max_size=6).map("".join)),
                             min_size=1, max_size=5)
ARN_TEXTS = st.lists(st.sampled_from(["a", "b", "/", ":", "key/", "ab", "x", "-", "/x/", "aa", "*", "?"]),
                     max_size=9).map("".join)


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(GENERATED_FORMATS, st.sampled_from(["svc", "other", "SVC"]), st.sampled_from(["", "us-west-2", "eu-1"]),
       st.sampled_from(["", "aws", "123"]), ARN_TEXTS)
def test_generated_arn_tables_agree_with_the_plans(formats, service, region, account, text):
    """Tables built from generated formats (literal and placeholder fields, names, texts, inner
    literals), filed and merged as the index does, classify generated ARNs (with wildcards) exactly
    as every plan tried on the ARN's instantiations does."""
    plans = {f"t{i}": iam_index.arn_plan(f"arn:${{Partition}}:{fs}:{r}:{a}:{resource}")
             for i, ((fs, r, a), resource) in enumerate(formats)}
    arn = f"arn:aws:{service}:{region}:{account}:{text}"
    saved = dict(iam_catalog._ARN_TABLES)
    try:
        iam_catalog._ARN_TABLES.clear()
        tables = iam_index.arn_tables({"gen": plans})
        iam_catalog._ARN_TABLES.update({s: tables.get(s, tables[""]) for s in ("svc", "other")})
        found = iam_catalog.arn_types.__wrapped__(arn)
    finally:
        iam_catalog._ARN_TABLES.clear()
        iam_catalog._ARN_TABLES.update(saved)
    candidates = [c.lower().split(":", 5) for c in _instantiations(arn)]
    expected = {("gen", t) for t, plan in plans.items()
                if plan is not None and any(_plan_matches(plan, parts) for parts in candidates)}
    assert found == expected


def test_a_segment_of_many_inner_literal_plans_holds_them_in_one_entry():
    """connect's `instance/${InstanceId}/queue/${QueueId}` and its dozens of siblings: one grouped
    entry, each plan behind the literal past its head that every match contains."""
    by_segment, _ = iam_catalog._loaded().arn_table("connect")
    grouped = [arg for kind, _, arg, _ in by_segment["instance/"] if kind == iam_index.PLANS]
    assert len(grouped) == 1 and len(grouped[0]) > 20
    assert all(needle.startswith("/") for needle, _, _ in grouped[0])
    assert iam_catalog.arn_types("arn:aws:connect:us-east-1:111122223333:instance/i-1/queue/q-1") == {
        ("connect", "instance"), ("connect", "queue")}  # `instance/${InstanceId}` takes any rest
