"""The integration suite's collection hook: scenarios that need IAM enforcement are deselected
for LocalStack (it accepts every caller, so a denial cannot be observed), and only there."""
from types import SimpleNamespace

from integration_tests import conftest
from integration_tests.harness import WITHOUT_IAM_ENFORCEMENT


def _item(name, emulator, fixtures):
    callspec = SimpleNamespace(params={"emulator": emulator}) if emulator else None
    return SimpleNamespace(name=name, callspec=callspec, fixturenames=fixtures)


def _select(items):
    deselected = []
    config = SimpleNamespace(hook=SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items)))
    conftest.pytest_collection_modifyitems(config, items)
    return [i.name for i in items], [i.name for i in deselected]


def test_iam_enforcement_scenarios_are_deselected_for_localstack_only():
    items = [_item("denied[moto]", "moto", ["deployment", "iam_enforced"]),
             _item("denied[localstack]", "localstack", ["deployment", "iam_enforced"]),
             _item("deploys[localstack]", "localstack", ["deployment"]),
             _item("denied[external]", "external", ["iam_enforced"]),
             _item("unit", None, [])]
    kept, deselected = _select(items)
    assert deselected == ["denied[localstack]"]
    assert kept == ["denied[moto]", "deploys[localstack]", "denied[external]", "unit"]


def test_moto_enforces_and_localstack_does_not():
    assert "localstack" in WITHOUT_IAM_ENFORCEMENT and "moto" not in WITHOUT_IAM_ENFORCEMENT


def test_nothing_deselected_leaves_the_hook_silent():
    items = [_item("denied[moto]", "moto", ["iam_enforced"])]
    assert _select(items) == (["denied[moto]"], [])
