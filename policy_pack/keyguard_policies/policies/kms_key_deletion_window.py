"""A long deletion window leaves time to notice and cancel a deletion before data is lost."""
from ..kms_keys import KEY_TYPE
from ..values import as_seconds
from . import Violation

NAME = "kms-key-deletion-window"
SUPPORTED_RESOURCES = (KEY_TYPE,)
AWS_DEFAULT_DAYS = 30


def check(resource, params):
    days = as_seconds(resource.props.get("deletionWindowInDays"), "deletionWindowInDays")
    minimum = params["minDeletionWindowDays"]
    if (days if days is not None else AWS_DEFAULT_DAYS) < minimum:
        yield Violation(f"deletionWindowInDays is {days}, below the minimum of {minimum}",
                        evidence=f"deletionWindowInDays={days}")
