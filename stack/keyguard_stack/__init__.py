"""The keyguard Pulumi program: a customer-managed KMS key, an SSE-KMS data bucket, and Vault's
AWS secrets engine issuing short-lived credentials scoped to that bucket and key."""
