"""A resource whose export does not say which live object it is (no id, name, ARN or path: never
created, or hand-edited) is read as gone, without a single API call, so its checks are unverifiable
and a drift finding names why: never judged on nothing, never a crash."""
from __future__ import annotations

from typing import Any

import pytest

from keyguard.sources.live import AWS_READERS, VAULT_READERS
from keyguard_policies.model import Resource


class NoCalls:
    """Any API call fails the test: an unidentified resource must not be looked up."""

    region = "us-east-1"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected live call {name!r} for a resource the export does not identify")


#: Vault's AWS secrets mount defaults to the path `aws`, so an export without a path still names one.
NAMED_BY_DEFAULT = {"vault:aws/secretBackend:SecretBackend"}


@pytest.mark.parametrize("type_", sorted(set(AWS_READERS) | set(VAULT_READERS) - NAMED_BY_DEFAULT))
def test_a_resource_the_export_does_not_identify_is_gone_with_the_reason(type_: str) -> None:
    readers = {**AWS_READERS, **VAULT_READERS}
    reading = readers[type_](NoCalls(), Resource(f"urn:pulumi:dev::keyguard::{type_}::x", type_, {}, {}))
    assert reading.gone is not None and reading.gone.startswith("the export"), (type_, reading.gone)
    assert reading.type == type_
    assert not reading.props
