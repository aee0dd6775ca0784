"""The policies an AppRole token carries are everything it may do: never `root`, and only the ACL
policies this stack defines (or allowedPolicies). Vault's built-in `default` policy rides along on
every token anyway (renew and revoke itself), so naming it is allowed but does not count as a
policy of the role. Vault lowercases policy names, so the comparison ignores case."""
from ..model import Stack
from ..values import Malformed, as_list, is_unknown, known
from ..vault_acl import APPROLE_ROLE_TYPE, POLICY_TYPE, policy_name
from . import Violation, judge_each, unverified

NAME = "vault-approle-token-policies"
SUPPORTED_RESOURCES = (APPROLE_ROLE_TYPE,)


def check_stack(stack: Stack, params):
    names, incomplete = set(), False
    for policy in stack.of_type(POLICY_TYPE):
        if is_unknown(policy.get("name")):
            incomplete = True
        elif policy_name(policy):
            names.add(policy_name(policy))
    allowed = {p.strip().lower() for p in params.get("allowedPolicies") or []}
    yield from judge_each(stack.of_type(APPROLE_ROLE_TYPE),
                          lambda role: _judge(role, names | allowed, incomplete))


def _policies(role) -> list[str]:
    out = []
    for prop in ("tokenPolicies", "policies"):  # `policies`: the field older providers wrote
        value = known(role.props.get(prop), prop)
        if isinstance(value, str):  # Vault's API also takes a comma-separated string
            value = value.split(",")
        for item in as_list(value):
            item = known(item, prop)
            if not isinstance(item, str):
                raise Malformed(f"{prop} contains {item!r}, not a policy name")
            if item.strip():
                out.append(item.strip().lower())
    return out


def _judge(role, own, incomplete):
    policies = _policies(role)
    if "root" in policies:
        yield Violation("tokenPolicies contains root: every login gets a root token", evidence="tokenPolicies=[root]")
    if not [p for p in policies if p != "default"]:
        yield Violation("tokenPolicies names no policy of this stack: the token's access is not declared here",
                        evidence=f"tokenPolicies={policies}")
    for name in sorted(set(policies) - own - {"root", "default"}):
        if incomplete:
            yield unverified(f"tokenPolicies names {name!r}, and the names of this stack's ACL policies are not "
                             "known yet")
        else:
            yield Violation(f"tokenPolicies names {name!r}, which is not an ACL policy of this stack nor in "
                            "allowedPolicies", evidence=f"tokenPolicies={policies}")
