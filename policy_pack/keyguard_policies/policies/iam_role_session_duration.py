"""Short role sessions keep credentials obtained through a role short-lived."""
from ..values import as_seconds
from . import Violation

NAME = "iam-role-session-duration"
SUPPORTED_RESOURCES = ("aws:iam/role:Role",)


def check(resource, params):
    duration = as_seconds(resource.props.get("maxSessionDuration"), "maxSessionDuration")
    limit = params["maxSessionDurationSeconds"]
    if duration is not None and duration > limit:
        yield Violation(f"maxSessionDuration is {duration} s, above the limit of {limit} s",
                        evidence=f"maxSessionDuration={duration}")
