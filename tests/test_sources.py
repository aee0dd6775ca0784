"""The state and preview sources: what is audited, how secrets and unknowns arrive."""
from __future__ import annotations

import json

import pytest

from keyguard.errors import UsageError
from keyguard.sources.files import load_preview, load_state
from keyguard.testing import preview_json, secret, state_export
from keyguard_policies.values import ENCRYPTED_SECRET, UNKNOWN

from .baseline import baseline


def write(tmp_path, data, name="in.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_state_reads_inputs_and_skips_stack_providers_and_pending_deletes(tmp_path):
    resources = list(baseline().values())
    data = state_export(resources)
    data["deployment"]["resources"][-1]["delete"] = True
    secrets = {}
    loaded, stack = load_state(write(tmp_path, data), secrets)
    assert stack == "dev"
    assert [r.urn for r in loaded] == [r.urn for r in resources[:-1]]
    assert loaded[0].props == resources[0].props and loaded[0].outputs["arn"] == resources[0].outputs["arn"]
    assert {k: tuple(v) for k, v in loaded[-1].property_dependencies.items()} == dict(resources[-2].property_dependencies)
    assert secrets == {}


def test_state_secrets_decrypted_only_with_plaintext(tmp_path):
    resources = list(baseline().values())
    key = resources[0]
    data = state_export(resources, inputs_override={
        key.urn: {"description": secret("top secret description"), "policy": secret("x", plaintext=False)}})
    secrets = {}
    loaded, _ = load_state(write(tmp_path, data), secrets)
    assert loaded[0].props["description"] == "top secret description"
    assert loaded[0].props["policy"] == ENCRYPTED_SECRET
    assert secrets == {key.urn: {"top secret description"}}


def test_preview_reads_new_state_skips_deletes_and_masks_secrets(tmp_path):
    resources = list(baseline().values())
    role = resources[-1]
    data = preview_json(resources, unknown={role.urn: ["policyDocument"]})
    data["steps"][1]["newState"]["inputs"]["description"] = "[secret]"
    data["steps"].append({"op": "delete", "urn": "urn:pulumi:dev::keyguard::aws:s3/bucket:Bucket::old",
                          "oldState": {"type": "aws:s3/bucket:Bucket"}})
    loaded, stack = load_preview(write(tmp_path, data), {})
    assert stack == "dev" and [r.urn for r in loaded] == [r.urn for r in resources]
    assert loaded[-1].props["policyDocument"] == UNKNOWN
    assert loaded[0].props["description"] == ENCRYPTED_SECRET


@pytest.mark.parametrize("data, message", [
    ({"steps": [{"op": "create", "urn": "u"}]}, "has no newState"),
    ({"steps": ["x"]}, "steps[0] is not an object"),
    ({"steps": {}}, "no \"steps\" list"),
])
def test_bad_previews(tmp_path, data, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_preview(write(tmp_path, data), {})
