"""What a fresh pack process would otherwise build on its first Analyze / AnalyzeStack call: the
compact IAM index (iam_catalog) and python-hcl2's parser (vault_acl; importing hcl2 and loading its
Lark tables is about 0.2 s). The pack runs `warm_up` in a background thread from the engine's
first call on, so this work overlaps the Pulumi program's own start-up instead of delaying the
first resource or the end of the preview. Only caches are filled: a rule called before or during
the warm-up builds the same values itself."""
from __future__ import annotations

SAMPLE_ACTION = "s3:GetObject"
SAMPLE_ACL = 'path "secret/data/keyguard-warm-up" {\n  capabilities = ["read"]\n}\n'


def warm_up() -> None:
    try:
        from . import iam_catalog, vault_acl
        iam_catalog.lookup(SAMPLE_ACTION)
        vault_acl.parse(SAMPLE_ACL, "warm-up")
    except Exception:  # noqa: BLE001 - a cache not filled here is built by the first rule that needs it
        pass
