"""The keyguard CrossGuard pack: `pulumi preview --policy-pack policy_pack`. It only assembles
the PolicyPack; every rule lives in keyguard_policies/policies/, shared with `keyguard audit`.
Start-up matters (the CLI waits for the port before it runs the program): the rules' heavier
caches are filled by keyguard_policies.warm in the background once the pack serves."""
from pulumi_policy import EnforcementLevel

from keyguard_policies.pack import build_policies
from keyguard_policies.pulumi_policy_compat import serve
from keyguard_policies.warm import warm_up

serve(
    warm_up=warm_up,
    name="keyguard",
    description="Encryption-key storage for AI applications on AWS with Vault: KMS encryption, "
                "least-privilege IAM documents (including Vault role documents) and TTL bounds.",
    display_name="keyguard",
    provider="aws",
    tags=["aws", "vault", "kms", "s3", "iam", "least-privilege"],
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
)
