import pytest

from tests.baseline import DELETE, UNKNOWN, baseline, baseline_with, make, run

POLICY = "kms-key-deletion-window"


def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.status == "pass"


@pytest.mark.parametrize("days", [7, 29, 7.0, "10"])
def test_short_window_is_flagged(days):
    outcome = run(POLICY, baseline_with("key", deletionWindowInDays=days))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert any("deletionWindowInDays" in m and "30" in m for m in outcome.messages)


@pytest.mark.parametrize("days", [30, 30.0, "30", DELETE, None])
def test_thirty_days_or_unset_passes(days):
    # unset means the AWS default, 30 days
    assert run(POLICY, baseline_with("key", deletionWindowInDays=days)).status == "pass"


def test_min_deletion_window_parameter_takes_effect():
    resources = baseline_with("key", deletionWindowInDays=10)
    assert run(POLICY, resources).violations == {(POLICY, "ai-app-kms-key")}
    assert run(POLICY, resources, {"minDeletionWindowDays": 7}).status == "pass"
    assert run(POLICY, baseline_with("key", deletionWindowInDays=7), {"minDeletionWindowDays": 10}).violations == \
        {(POLICY, "ai-app-kms-key")}


def test_unknown_window_is_unverifiable():
    outcome = run(POLICY, baseline_with("key", deletionWindowInDays=UNKNOWN))
    assert outcome.violations == set()
    assert outcome.unverifiable == {(POLICY, "ai-app-kms-key")}


@pytest.mark.parametrize("days", ["a month", True, 7.5, [30]])
def test_malformed_window_fails_closed(days):
    outcome = run(POLICY, baseline_with("key", deletionWindowInDays=days))
    assert outcome.violations == {(POLICY, "ai-app-kms-key")}
    assert all("malformed input" in m and "deletionWindowInDays" in m for m in outcome.messages)


def test_two_keys_one_bad():
    resources = baseline()
    resources["key2"] = make("aws:kms/key:Key", "other-key", {"deletionWindowInDays": 7})
    assert run(POLICY, resources).violations == {(POLICY, "other-key")}


def test_no_keys_is_not_applicable():
    resources = baseline()
    del resources["key"]
    assert run(POLICY, resources).status == "not-applicable"
