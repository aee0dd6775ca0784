"""keyguard's rules: plain Python over plain values, shared by the CrossGuard pack
(policy_pack/__main__.py), `keyguard audit` and the tests. Start at data/policies.json (what each
policy is) and policies/<name>.py (how it decides)."""
