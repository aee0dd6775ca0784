"""IAM as the policies read it: a customer-managed policy's default version, a role's inline and
attached policies and maximum session duration, and role/user/group inline policies. Read-only:
GetPolicy, GetPolicyVersion, GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies,
GetUserPolicy, GetGroupPolicy, ListPolicies, ListRoles."""
from __future__ import annotations

from typing import Any, Callable, Iterator

from keyguard_policies.model import Resource

from .clients import Aws
from .reading import Reading, as_json_text

POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"


def _first(resource: Resource, *names: str) -> str | None:
    for name in names:
        for source in (resource.outputs, resource.props):
            value = source.get(name)
            if isinstance(value, str) and value:
                return value
    return None


def read_policy_arn(aws: Aws, arn: str) -> Reading:
    reading = Reading(POLICY)

    def document() -> dict:
        policy = aws.call("iam", "get_policy", PolicyArn=arn)["Policy"]
        version = aws.call("iam", "get_policy_version", PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        reading.outputs.update(arn=policy["Arn"], name=policy["PolicyName"], id=policy["Arn"])
        return {"name": policy["PolicyName"], "path": policy.get("Path"),
                "policy": as_json_text(version["PolicyVersion"]["Document"])}

    reading.fill(("policy",), document, missing_is_gone=True)
    return reading


def read_policy(aws: Aws, declared: Resource) -> Reading:
    arn = _first(declared, "arn", "id")
    if not arn or not arn.startswith("arn:"):
        return Reading.unidentified(POLICY, "the export has no ARN for this IAM policy")
    return read_policy_arn(aws, arn)


def read_role_name(aws: Aws, name: str) -> Reading:
    reading = Reading(ROLE)

    def role() -> dict:
        found = aws.call("iam", "get_role", RoleName=name)["Role"]
        reading.outputs.update(arn=found["Arn"], name=found["RoleName"], id=found["RoleName"])
        values = {"name": found["RoleName"], "maxSessionDuration": found.get("MaxSessionDuration", 3600),
                  "assumeRolePolicy": as_json_text(found.get("AssumeRolePolicyDocument"))}
        boundary = (found.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        values["permissionsBoundary"] = boundary
        return values

    if not reading.fill(("name", "maxSessionDuration", "assumeRolePolicy", "permissionsBoundary"), role,
                        missing_is_gone=True):
        reading.unreadable("inlinePolicies", reading.reasons["name"])
        reading.unreadable("managedPolicyArns", reading.reasons["name"])
        return reading

    def inline() -> dict:
        names = aws.pages("iam", "list_role_policies", "PolicyNames", RoleName=name)
        return {"inlinePolicies": [
            {"name": policy, "policy": as_json_text(
                aws.call("iam", "get_role_policy", RoleName=name, PolicyName=policy)["PolicyDocument"])}
            for policy in sorted(names)]}

    def attached() -> dict:
        policies = aws.pages("iam", "list_attached_role_policies", "AttachedPolicies", RoleName=name)
        return {"managedPolicyArns": sorted(p["PolicyArn"] for p in policies)}

    reading.fill(("inlinePolicies",), inline)
    reading.fill(("managedPolicyArns",), attached)
    return reading


def read_role(aws: Aws, declared: Resource) -> Reading:
    name = _first(declared, "name", "id")
    if not name:
        return Reading.unidentified(ROLE, "the export has no name for this IAM role")
    return read_role_name(aws, name)


def _inline_reader(type_: str, owner: str, operation: str, owner_param: str) -> Callable[[Aws, Resource], Reading]:
    def read(aws: Aws, declared: Resource) -> Reading:
        holder = _first(declared, owner)
        name = _first(declared, "name")
        if (not holder or not name) and isinstance(declared.outputs.get("id"), str) and ":" in declared.outputs["id"]:
            holder, name = declared.outputs["id"].split(":", 1)   # the provider's id is "<owner>:<name>"
        if not holder or not name:
            return Reading.unidentified(type_, f"the export names no {owner} and policy name")
        reading = Reading(type_)
        reading.fill(("policy",), lambda: {"policy": as_json_text(aws.call(
            "iam", operation, **{owner_param: holder, "PolicyName": name})["PolicyDocument"])},
            missing_is_gone=True)
        reading.props.update({owner: holder, "name": name})
        return reading
    return read


READERS: dict[str, Callable[[Aws, Resource], Reading]] = {
    POLICY: read_policy, ROLE: read_role,
    ROLE_POLICY: _inline_reader(ROLE_POLICY, "role", "get_role_policy", "RoleName"),
    USER_POLICY: _inline_reader(USER_POLICY, "user", "get_user_policy", "UserName"),
    GROUP_POLICY: _inline_reader(GROUP_POLICY, "group", "get_group_policy", "GroupName"),
}


def discover(aws: Aws) -> Iterator[tuple[str, Callable[[], list[tuple[str, Any]]]]]:
    """Every customer-managed policy (Scope Local) and every role except AWS service-linked roles
    (path /aws-service-role/: AWS owns their policies and no one can change them)."""
    for policy in aws.pages("iam", "list_policies", "Policies", Scope="Local"):
        yield policy["PolicyName"], lambda arn=policy["Arn"], name=policy["PolicyName"]: [
            (name, read_policy_arn(aws, arn))]
    for role in aws.pages("iam", "list_roles", "Roles"):
        if (role.get("Path") or "").startswith("/aws-service-role/"):
            continue
        yield role["RoleName"], lambda name=role["RoleName"]: [(name, read_role_name(aws, name))]
