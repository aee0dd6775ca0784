"""The application's ACL policy reaches only what this stack manages: the credentials of this
stack's own AWS roles (`<mount>/creds/<role>`, `<mount>/sts/<role>`) or paths under this stack's
other mounts, unless listed in allowedPaths. A glob or `+` segment is in scope only when every path
it can match is."""
from ..model import Stack
from ..values import is_unknown
from ..vault_acl import AUTH_BACKEND_TYPE, AWS_ROLE_TYPE, MOUNT_TYPE, POLICY_TYPE, contains, rules_of
from . import Violation, judge_each, unverified

NAME = "vault-acl-policy-scoped-to-stack"
SUPPORTED_RESOURCES = (POLICY_TYPE,)


def check_stack(stack: Stack, params):
    own, incomplete = _own_paths(stack)
    allowed = tuple(p.lstrip("/") for p in params.get("allowedPaths") or [])
    # each distinct area once: the copies of one design in a large stack share their paths
    areas = tuple(dict.fromkeys((*own, *allowed)))
    yield from judge_each(stack.of_type(POLICY_TYPE), lambda resource: _judge(resource, areas, incomplete))


def _own_paths(stack: Stack) -> tuple[list[str], bool]:
    """Areas (exact paths or globs) of this stack, and whether some mount or role is not known yet."""
    own, incomplete = [], False
    for role in stack.of_type(AWS_ROLE_TYPE):
        backend, name = role.get("backend"), role.get("name")
        if is_unknown(backend) or is_unknown(name) or not backend or not name:
            incomplete = True
            continue
        own += [f"{str(backend).strip('/')}/creds/{name}", f"{str(backend).strip('/')}/sts/{name}"]
    for mount in stack.of_type(MOUNT_TYPE, AUTH_BACKEND_TYPE):
        path = mount.get("path")
        if is_unknown(path) or not path:
            incomplete |= is_unknown(path)
            continue
        prefix = "auth/" if mount.type == AUTH_BACKEND_TYPE else ""
        own.append(f"{prefix}{str(path).strip('/')}/*")
    return own, incomplete


def _judge(resource, areas, incomplete):
    for rule in rules_of(resource):
        if not rule.grants:
            continue
        if any(contains(area, rule.path) for area in areas):
            continue
        if incomplete:
            yield unverified(f'path "{rule.path}" is not one of this stack\'s known paths, and some of its mounts '
                             "or roles are not known yet")
        else:
            yield Violation(f'path "{rule.path}" reaches beyond this stack (its AWS roles\' creds/sts paths and its '
                            "own mounts)", evidence=rule.evidence())
