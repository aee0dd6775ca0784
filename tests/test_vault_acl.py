"""vault_acl's path patterns against a plain reference reading of Vault's rules (trailing `*` is a
prefix glob, a `+` segment is any one segment, a `*` elsewhere is literal), over generated patterns
and paths: `overlaps` never misses a path two patterns share, and `contains` never claims a pattern
lies inside an area when some path it matches does not."""
from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from keyguard_policies.vault_acl import contains, overlaps, parse

SEGMENTS = st.sampled_from(["a", "b", "ab", "+", "sys", "s", "*a", ""])
PATTERNS = st.builds(lambda segs, glob: "/".join(segs) + ("*" if glob else ""),
                     st.lists(SEGMENTS, min_size=1, max_size=4), st.booleans()).filter(lambda p: "+*" not in p)
PATHS = st.builds("/".join, st.lists(st.sampled_from(["a", "b", "ab", "sys", "s", "x+", "*a", ""]), min_size=1, max_size=5))


def matches(pattern: str, path: str) -> bool:
    glob = pattern.endswith("*")
    body = pattern[:-1] if glob else pattern
    regex = "/".join("[^/]*" if s == "+" else re.escape(s) for s in body.split("/"))
    return (re.match if glob else re.fullmatch)(regex, path) is not None


@settings(max_examples=400, derandomize=True)
@given(PATTERNS, PATTERNS, PATHS)
def test_overlaps_never_misses_a_shared_path(a, b, path):
    if matches(a, path) and matches(b, path):
        assert overlaps(a, b) and overlaps(b, a)


@settings(max_examples=400, derandomize=True)
@given(PATTERNS, PATTERNS, PATHS)
def test_contains_is_sound(area, pattern, path):
    if contains(area, pattern) and matches(pattern, path) and path.split("/").count("") == 0:
        assert matches(area, path), (area, pattern, path)


def test_examples():
    assert overlaps("+/config/root", "sys/*") and not overlaps("a/config/root", "sys/*")  # sys/config/root
    assert overlaps("+/config/root", "+/config/*")
    assert overlaps("s*", "sys/*") and overlaps("+/+/acl/x", "sys/*") and not overlaps("s+/x", "sys/*")
    assert contains("aws/creds/app", "aws/creds/app") and not contains("aws/creds/app", "aws/creds/app*")
    assert not contains("aws/creds/app", "aws/creds/+") and contains("kv/*", "kv/+/x*")


def test_json_and_hcl_read_the_same():
    hcl = 'path "/a/*" {\n  capabilities = ["read", "update"]\n  allowed_parameters = { "Policies" = ["x"] }\n}\n'
    json_text = '{"path": {"/a/*": {"capabilities": ["read", "update"], "allowed_parameters": {"Policies": ["x"]}}}}'
    assert parse(hcl) == parse(json_text)
    [rule] = parse(hcl)
    assert rule.path == "a/*" and rule.capabilities == {"read", "update"} and rule.allowed_parameters == {"policies": ["x"]}
