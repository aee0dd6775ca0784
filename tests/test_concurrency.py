"""pulumi-policy serves Analyze on a pool of four threads: the caches the rules share (the
per-resource views, parsed documents, the catalog, the IAM index, stack memos) must give every
call its own resource's verdict and must be read-only to the rules. Driven directly with threads
and over gRPC as the CLI drives the pack; both compared with serial results."""
from __future__ import annotations

import json
import random
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from keyguard.analyzer_client import PackProcess, merged_config
from keyguard_policies import catalog, iam_catalog
from keyguard_policies.documents import documents_of, locations, parse
from keyguard_policies.engine import run_resource_rule
from keyguard_policies.frozen import ReadOnlyError
from keyguard_policies.least_privilege import judged_statements
from keyguard_policies.model import Stack, per_resource
from keyguard_policies.policies import RULES
from tests.baseline import ACCOUNT, OBJECTS, allow, make, policy_doc

from .conftest import REPO

ROLE = "vault:aws/secretBackendRole:SecretBackendRole"
ACTIONS = ["iam:PassRole", "s3:GetObjects", "s3:*", "kms:Decrypt", "iam:CreateAccessKey", "ec2:ModifyInstanceAttribute",
           "s3:GetObject", "sts:AssumeRole", "lambda:UpdateFunctionCode", "kms:Encrypt"]


def _resources(count: int = 60) -> list:
    """Vault roles whose documents differ in what is wrong with them (and how messages name it)."""
    out = []
    for i in range(count):
        action = ACTIONS[i % len(ACTIONS)]
        arn = "*" if i % 3 == 0 else f"arn:aws:iam::{ACCOUNT}:role/r{i}"
        statements = [allow(action, arn), allow("s3:GetObject", OBJECTS, Sid=f"S{i}")]
        if i % 4 == 0:
            statements.append({"Effect": "Allow", "NotAction": f"s3:Put{i}*", "Resource": "*"})
        document = policy_doc(*statements)
        out.append(make(ROLE, f"role-{i}", {"backend": "aws", "name": f"r{i}", "credentialType": "iam_user",
                                          "policyDocument": json.dumps(document) if i % 2 else document}))
    return out


def _verdicts(resource) -> list[tuple]:
    params = catalog.resolve(None)
    out = []
    for rule in RULES.values():
        if rule.KIND == "resource" and resource.type in rule.SUPPORTED_RESOURCES:
            out.extend((f.policy, f.kind, f.urn, f.message, f.evidence)
                       for f in run_resource_rule(rule, resource, params[rule.NAME].params))
    return out


@pytest.fixture
def fast_switching():
    """Switch threads as often as the interpreter allows, so races show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_threads_judging_different_resources_get_the_serial_verdicts(fast_switching):
    resources = _resources()
    serial = {r.urn: _verdicts(r) for r in resources}
    assert len({json.dumps(v) for v in serial.values()}) > len(ACTIONS)  # the verdicts tell resources apart
    work = [r for r in resources for _ in range(5)]
    random.Random(8).shuffle(work)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda r: (r.urn, _verdicts(r)), work))
    wrong = [urn for urn, verdicts in results if verdicts != serial[urn]]
    assert wrong == []


def test_per_resource_views_are_per_thread(fast_switching):
    """Two threads alternating between two resources each always get their own resource's view."""
    calls = []

    @per_resource
    def view(resource):
        calls.append(resource.urn)
        return resource.urn

    resources = _resources(8)
    barrier = threading.Barrier(4)
    mismatches = []

    def worker(offset: int) -> None:
        barrier.wait()
        for i in range(3000):
            resource = resources[(i + offset) % len(resources)]
            if view(resource) != resource.urn:
                mismatches.append(resource.urn)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mismatches == []


def test_a_thread_keeps_its_own_slot_when_another_thread_judges_another_resource():
    """Thread A judges r1, thread B then judges r2, A asks about r1 again: A's view is still its
    own (one slot per thread), not evicted or replaced by B's."""
    calls = []

    @per_resource
    def view(resource):
        calls.append((threading.current_thread().name, resource.urn))
        return {"urn": resource.urn}

    r1, r2 = _resources(2)
    a_first, b_done = threading.Event(), threading.Event()
    seen = {}

    def thread_a():
        seen["a1"] = view(r1)
        a_first.set()
        b_done.wait(10)
        seen["a2"] = view(r1)

    def thread_b():
        a_first.wait(10)
        seen["b"] = view(r2)
        b_done.set()

    threads = [threading.Thread(target=thread_a, name="A"), threading.Thread(target=thread_b, name="B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["a1"] is seen["a2"] and seen["a2"]["urn"] == r1.urn and seen["b"]["urn"] == r2.urn
    assert calls == [("A", r1.urn), ("B", r2.urn)]


def test_stack_memo_builds_once_under_concurrent_callers(fast_switching):
    stack = Stack(_resources(4))
    builds = []

    def build(_stack):
        builds.append(1)
        return object()

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = set(pool.map(lambda _: id(stack.memo("index", build)), range(200)))
    assert len(builds) == 1 and len(seen) == 1


def test_parsed_documents_are_read_only_to_the_rules():
    text = json.dumps(policy_doc(allow(["s3:GetObject"], OBJECTS, Condition={"Bool": {"aws:SecureTransport": "true"}})))
    document = parse(text)
    assert parse(text) is document  # shared: parsed once for every rule, resource and thread
    statement = document.statements[0]
    attempts = [lambda: statement.raw.__setitem__("Action", "*"), lambda: statement.raw["Action"].append("s3:*"),
                lambda: statement.condition.update({"x": {}}), lambda: statement.condition["Bool"].pop("aws:SecureTransport"),
                lambda: statement.raw.setdefault("NotAction", "*"), lambda: statement.raw.clear()]
    for attempt in attempts:
        with pytest.raises(ReadOnlyError):
            attempt()
    assert json.loads(statement.evidence()) == json.loads(text)["Statement"][0]
    obj = policy_doc(allow(["s3:GetObject"], OBJECTS))
    resource = make(ROLE, "object-form", {"policyDocument": obj})
    [doc] = documents_of(resource)
    with pytest.raises(ReadOnlyError):
        doc.statements[0].raw["Action"].append("iam:PassRole")
    assert obj["Statement"][0]["Action"] == ["s3:GetObject"]  # the resource's own input is not changed either
    assert isinstance(judged_statements(resource), tuple)


def test_shared_catalog_data_is_read_only():
    with pytest.raises(ReadOnlyError):
        locations()[ROLE].append({"property": "x", "kind": "identity"})
    info = catalog.policies()["vault-role-credential-type"]
    with pytest.raises(ReadOnlyError):
        info.config_schema["allowedCredentialTypes"]["default"].append("session_token")
    with pytest.raises(ReadOnlyError):
        catalog.controls()["frameworks"].clear()
    defaults = info.defaults()
    defaults["allowedCredentialTypes"].append("session_token")  # the caller's own copy
    assert "session_token" not in info.defaults()["allowedCredentialTypes"]
    with pytest.raises(TypeError):
        iam_catalog._index().actions["s3"]["getobject"] = None
    with pytest.raises(TypeError):
        iam_catalog._loaded().arn_table("s3")[""] = ()
    with pytest.raises(AttributeError):  # an ARN's matched resource types are a frozenset
        iam_catalog.arn_types("arn:aws:s3:::b/k").add(("s3", "bucket"))


@pytest.mark.timeout(300)
def test_concurrent_analyze_over_grpc_matches_serial():
    """Many Analyze calls at once over different resources, as the CLI's engine sends them to the
    pack's four-thread server, give exactly the diagnostics of the same calls made one by one."""
    resources = _resources(40)

    def diagnostics(pack, resource):
        response = pack.analyze(resource)
        return sorted((d.policyName, d.message, d.enforcementLevel) for d in response.diagnostics)

    with PackProcess(REPO / "policy_pack") as pack:
        pack.configure(merged_config())
        serial = {r.urn: diagnostics(pack, r) for r in resources}
        assert len({json.dumps(v) for v in serial.values()}) > len(ACTIONS)
        work = [r for r in resources for _ in range(6)]
        random.Random(4).shuffle(work)
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(lambda r: (r.urn, diagnostics(pack, r)), work))
    wrong = [urn for urn, found in results if found != serial[urn]]
    assert wrong == []
