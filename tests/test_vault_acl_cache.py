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


def test_parsed_hcl_is_kept_between_processes_and_a_damaged_entry_is_reparsed(tmp_path, monkeypatch):
    from keyguard_policies import parse_cache, vault_acl
    monkeypatch.setenv("KEYGUARD_CACHE_DIR", str(tmp_path))
    text = 'path "kv/data/cached" {\n  capabilities = ["read", "list"]\n}\n'
    blocks = vault_acl._hcl_cached(text, "policy")
    [entry] = list((tmp_path / "parsed-vault-acl-hcl").iterdir())
    assert blocks == [("kv/data/cached", {"capabilities": ["read", "list"]})]
    entry.write_bytes(entry.read_bytes()[:-3] + b"xyz")           # damaged: the checksum fails
    assert parse_cache.read("vault-acl-hcl", b"anything") == (False, None)
    assert vault_acl._hcl_cached(text, "policy") == blocks          # parsed again, not read
    assert parse_cache.read("vault-acl-hcl", b"\0".join((vault_acl._parser_version(), b"policy", text.encode()))) \
        == (True, ["ok", [["kv/data/cached", {"capabilities": ["read", "list"]}]]])
    bad = 'path "kv/*" {\n  capabilities = ["read"]\n  capabilities = ["list"]\n}\n'
    for _ in range(2):  # the defect is kept too, and raised again
        with pytest.raises(Malformed, match="sets capabilities twice"):
            vault_acl._hcl_cached(bad, "policy")


def test_the_cache_directory_is_bounded(tmp_path, monkeypatch):
    from keyguard_policies import parse_cache
    monkeypatch.setenv("KEYGUARD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(parse_cache, "LIMIT", 10)
    for i in range(25):
        parse_cache.write("kind", str(i).encode(), i)
    assert 5 <= len(list((tmp_path / "parsed-kind").iterdir())) <= 10
    assert parse_cache.read("kind", b"24") == (True, 24)
