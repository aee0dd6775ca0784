"""The one IAM action matcher (action_patterns) and everything that matches actions through it: only
`*` and `?` are wildcards, letters match case-insensitively (ASCII only), and every other character
(`[`, `]`, `.`, `\\`) stands for itself, in the catalog's expansion, the escalation rule and what a
document grants (grants.py). fnmatch, which all three used in part, reads `[...]` as a class."""
from __future__ import annotations

import difflib
import re

import pytest
from hypothesis import given, settings, strategies as st

from keyguard_policies import action_patterns, iam_catalog
from keyguard_policies.documents import parse
from keyguard_policies.grants import allowed, covers_action
from keyguard_policies.policies.iam_known_actions import closest
from tests.baseline import KEY_ARN, OBJECTS, allow, policy_doc, run, with_role_document

CASES = [
    ("iam:Pass[R]ole", "iam:PassRole", False),
    ("iam:Pass[R]ole", "iam:Pass[R]ole", True),
    ("IAM:passrole", "iam:PassRole", True),
    ("iam:P?ssRole", "iam:PassRole", True),
    ("iam:P?ssRole", "iam:PssRole", False),
    ("iam:Pass*", "iam:PassRole", True),
    ("iam:*Role", "iam:PassRole", True),
    ("iam:Pass*Role", "iam:PassRole", True),           # a star may stand for nothing
    ("iam:PassRole?", "iam:PassRole", False),
    ("iam:Pass.ole", "iam:PassRole", False),           # a dot is a dot
    ("iam:Pass\\Role", "iam:PassRole", False),
    ("iam:[!x]assRole", "iam:PassRole", False),
    ("*", "iam:PassRole", True),
    ("i*:PassRole", "iam:PassRole", True),
    ("iam:passrol", "iam:PassRole", False),
    ("iam:Create\u212aey", "iam:CreateKey", False),     # the Kelvin sign is not a K to IAM
]


@pytest.mark.parametrize("pattern, name, expected", CASES)
def test_matcher(pattern, name, expected):
    assert action_patterns.matches(pattern, name) is expected


def test_literal_prefix():
    assert action_patterns.literal_prefix("S3:Get*Object") == "s3:get"
    assert action_patterns.literal_prefix("s3:?et") == "s3:"
    assert action_patterns.literal_prefix("s3:GetObject") == "s3:getobject"


def test_catalog_expansion_follows_iam_not_fnmatch():
    pass_role = iam_catalog.lookup("iam:PassRole")
    assert iam_catalog.expand("iam:Pass[R]ole") == ()
    assert iam_catalog.expand("IAM:passrole") == (pass_role,)
    assert iam_catalog.expand("iam:P?ssRole") == (pass_role,)
    assert iam_catalog.expand("iam:[P]assRole") == ()
    assert iam_catalog.match_count("iam:Pass[R]ole") == 0
    assert iam_catalog.expand("i[a]m:PassRole") == ()
    assert pass_role in iam_catalog.expand("i?m:Pass*")


def _reference_expand(pattern: str) -> set[str]:
    """Every catalog action whose `service:name` matches the pattern as a whole, by a regex built
    here (the pattern must have a `:`, as IAM requires)."""
    regex = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower()),
                       re.DOTALL)
    index = iam_catalog._index()
    return {a.name for s in index.actions for a in index.actions[s].values() if regex.fullmatch(a.name.lower())}


PATTERNS = ["s3:Get*", "s3:*Object", "s3:Get?bject", "kms:*", "kms:Re*crypt*", "*:PassRole", "i?m:Pass*",
            "s3:Pu[t]Object", "S3:GETOBJECT", "ec2:*Instance*", "sts:Assume*", "*:*", "s?:Get*Acl", "ab*:*"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_expansion_agrees_with_a_whole_catalog_scan(pattern):
    assert {a.name for a in iam_catalog.expand(pattern)} == _reference_expand(pattern)
    assert iam_catalog.match_count(pattern) == len(_reference_expand(pattern))
    level = {a.name for a in iam_catalog.expand(pattern) if a.resource_level}
    assert iam_catalog.resource_level_count(pattern) == len(level)
    assert iam_catalog.services_of(pattern) == {n.split(":")[0].lower() for n in _reference_expand(pattern)}


def test_whole_service_answers_agree_with_expansion():
    for pattern in ("*", "s3:*", "kms:*", "*:*", "s?:*"):
        expanded = iam_catalog.expand(pattern)
        assert iam_catalog.match_count(pattern) == len(expanded)
        assert iam_catalog.resource_level_count(pattern) == sum(1 for a in expanded if a.resource_level)
        assert iam_catalog.services_of(pattern, resource_level=True) == \
            {a.service.lower() for a in expanded if a.resource_level}
        assert set(iam_catalog.type_groups(pattern)) == {(a.service.lower(), a.resource_types) for a in expanded}


@pytest.mark.parametrize("written, flagged", [
    ("iam:Pass[R]ole", False), ("IAM:passrole", True), ("iam:P?ssRole", True), ("iam:Pass*", True),
    ("iam:[P]assRole", False),
])
def test_escalation_rule_uses_iam_matching(written, flagged):
    outcome = run("iam-no-privilege-escalation", with_role_document(policy_doc(allow(written, "*"))))
    assert outcome.violations == ({("iam-no-privilege-escalation", "ai-app-role")} if flagged else set())


def test_a_bracketed_action_is_unknown_not_a_class():
    outcome = run("iam-known-actions", with_role_document(policy_doc(allow("iam:Pass[R]ole", "*"))))
    assert outcome.violations == {("iam-known-actions", "ai-app-role")}
    # no wildcard in it, so it is an exact name, and not one IAM knows
    assert "'iam:Pass[R]ole' is not a known action (did you mean iam:PassRole?)" in outcome.messages[0]


def test_grants_match_actions_the_same_way():
    document = parse(policy_doc(allow(["KMS:decrypt", "s3:Get?bject"], [KEY_ARN, OBJECTS]),
                                {"Effect": "Deny", "Action": "kms:Decryp[t]", "Resource": "*"}))
    grant, deny = document.statements
    assert covers_action(grant, "kms:Decrypt") and covers_action(grant, "s3:GetObject")
    assert not covers_action(deny, "kms:Decrypt")  # the Deny names no real action: it removes nothing
    assert allowed(document, "kms:Decrypt", KEY_ARN)


# --- typo suggestions: the bounded search gives difflib's answer -------------------------------------
WORDS = st.text(alphabet="abcdeGHIJKLMNOPrstuvwxyz", min_size=1, max_size=14)


@settings(max_examples=1500, derandomize=True)
@given(WORDS, st.lists(WORDS, max_size=30))
def test_closest_is_get_close_matches(word, candidates):
    expected = difflib.get_close_matches(word, candidates, n=1)
    assert closest(word, candidates) == (expected[0] if expected else None)


@pytest.mark.parametrize("service, typo", [("kms", "Encrpyt"), ("s3", "GetObjcet"), ("iam", "PasRole"),
                                           ("ec2", "RunInstance"), ("sts", "AssumeRol"), ("s3", "ListBuckets")])
def test_closest_on_catalog_names(service, typo):
    candidates = iam_catalog.names_with_prefix(service, typo[0])
    expected = difflib.get_close_matches(typo, candidates, n=1)
    assert closest(typo, candidates) == (expected[0] if expected else None)
    assert expected  # each typo has a suggestion, so the comparison above is not None == None


def test_closest_on_random_catalog_typos():
    """Misspelt catalog names (a letter dropped, doubled, swapped or changed, an `s` added), with
    the same candidates iam-known-actions uses: the pruned search gives difflib's answer."""
    import random
    rng = random.Random(11)
    index = iam_catalog._index()
    names = sorted(a.name for s in ("s3", "kms", "iam", "ec2", "sts", "lambda", "dynamodb", "glue")
                   for a in index.actions[s].values())
    suggested = 0
    for name in rng.sample(names, 400):
        service, action = name.split(":")
        i = rng.randrange(len(action))
        typo = rng.choice([action[:i] + action[i + 1:], action[:i] + action[i] + action[i:], action + "s",
                           action[:i] + "x" + action[i + 1:], action[:i] + action[i + 1:i + 2] + action[i:i + 1] + action[i + 2:]])
        if not typo:
            continue
        candidates = iam_catalog.names_with_prefix(service, typo[0])
        expected = difflib.get_close_matches(typo, candidates, n=1)
        assert closest(typo, candidates) == (expected[0] if expected else None), typo
        suggested += bool(expected)
    assert suggested > 300
