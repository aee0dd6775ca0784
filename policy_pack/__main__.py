"""The keyguard CrossGuard pack: `pulumi preview --policy-pack policy_pack`. It only assembles
the PolicyPack; every rule lives in keyguard_policies/policies/, shared with `keyguard audit`."""
from pulumi_policy import EnforcementLevel, PolicyPack

from keyguard_policies.pack import build_policies

PolicyPack(
    name="keyguard",
    description="Encryption-key storage for AI applications on AWS with Vault: KMS encryption, "
                "least-privilege IAM documents (including Vault role documents) and TTL bounds.",
    display_name="keyguard",
    provider="aws",
    tags=["aws", "vault", "kms", "s3", "iam", "least-privilege"],
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
)
