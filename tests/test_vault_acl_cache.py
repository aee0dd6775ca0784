"""vault_acl parses each policy text once per process (HCL parsing costs about a millisecond and a
stack's copies of one design share their text): what it hands out is read-only, and a malformed text
raises the same defect every time it is read."""
from __future__ import annotations

import pytest

from keyguard_policies.frozen import ReadOnlyError
from keyguard_policies.values import Malformed
from keyguard_policies.vault_acl import parse

TEXT = 'path "secret/data/app" {\n  capabilities = ["read"]\n  allowed_parameters = { "version" = ["1"] }\n}\n'


def test_the_same_text_gives_the_same_read_only_rules():
    first, second = parse(TEXT), parse(TEXT)
    assert first is second and isinstance(first, tuple)
    [rule] = first
    assert rule.allowed_parameters == {"version": ["1"]}
    with pytest.raises(ReadOnlyError):
        rule.allowed_parameters["version"].append("2")
    with pytest.raises(ReadOnlyError):
        rule.allowed_parameters["other"] = []
    assert parse(TEXT)[0].allowed_parameters == {"version": ["1"]}


def test_a_malformed_text_fails_every_time_with_its_defect():
    text = 'path "secret/*" {\n  capabilities = ["read", "fly"]\n}\n'
    for _ in range(2):
        with pytest.raises(Malformed, match="invalid capability 'fly'"):
            parse(text)
    with pytest.raises(Malformed, match="^acl: "):  # where it was read is part of the message, and of the key
        parse(text, "acl")
