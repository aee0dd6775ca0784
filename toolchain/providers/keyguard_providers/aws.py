"""keyguard's offline `aws` provider (registered as aws 7.51.1): the stack's AWS resource types,
created for real with boto3 on the endpoint the provider is configured with (moto, LocalStack),
with pulumi-aws 7 property names and the real ids and ARNs."""
from __future__ import annotations

import json
import time
from typing import Any

from .base import (UNKNOWN, KeyguardProvider, ProviderError, ResourceType, as_int, canonical_json,
                   contains_unknown, run, single, suffix)

VERSION = "7.51.1"


class AwsClients:
    """boto3 clients of one configured provider (region, endpoints, credentials)."""

    def __init__(self, config: dict[str, Any]) -> None:
        import boto3  # imported here: a preview never needs it

        self.region = config.get("region") or "us-east-1"
        endpoints: dict[str, str] = {}
        for block in config.get("endpoints") or []:
            endpoints.update({k: v for k, v in (block or {}).items() if isinstance(v, str) and v})
        self.endpoints = endpoints
        self.session = boto3.session.Session(
            aws_access_key_id=config.get("accessKey") or None,
            aws_secret_access_key=config.get("secretKey") or None,
            aws_session_token=config.get("token") or None,
            region_name=self.region)
        self._clients: dict[str, Any] = {}
        self._account: str | None = None

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            style = {"s3": {"addressing_style": "path"}} if service == "s3" else {}
            self._clients[service] = self.session.client(
                service, endpoint_url=self.endpoints.get(service), config=Config(retries={"max_attempts": 3}, **style))
        return self._clients[service]

    @property
    def account(self) -> str:
        if self._account is None:
            self._account = self("sts").get_caller_identity()["Account"]
        return self._account


def _error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def _tags(tags: Any) -> list[dict[str, str]]:
    return [{"TagKey": k, "TagValue": v} for k, v in sorted((tags or {}).items())]


class KmsKey(ResourceType):
    token = "aws:kms/key:Key"
    inputs = frozenset({"description", "customerMasterKeySpec", "keyUsage", "enableKeyRotation",
                        "rotationPeriodInDays", "deletionWindowInDays", "policy", "isEnabled", "multiRegion",
                        "bypassPolicyLockoutSafetyCheck", "tags", "region"})
    replace_on = frozenset({"customerMasterKeySpec", "keyUsage", "multiRegion"})
    computed = ("arn", "keyId", "policy", "rotationPeriodInDays")
    json_inputs = frozenset({"policy"})
    defaults = {"customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT", "isEnabled": True,
                "enableKeyRotation": False, "bypassPolicyLockoutSafetyCheck": False, "multiRegion": False}

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        window = news.get("deletionWindowInDays")
        if isinstance(window, float) and not 7 <= window <= 30:
            failures.append("deletionWindowInDays: must be between 7 and 30")
        period = news.get("rotationPeriodInDays")
        if isinstance(period, float) and not 90 <= period <= 2560:
            failures.append("rotationPeriodInDays: must be between 90 and 2560")
        return failures

    def create(self, aws, name, inputs):
        args: dict[str, Any] = {"KeySpec": inputs["customerMasterKeySpec"], "KeyUsage": inputs["keyUsage"],
                                "MultiRegion": bool(inputs.get("multiRegion"))}
        if inputs.get("description"):
            args["Description"] = inputs["description"]
        if inputs.get("policy"):
            args["Policy"] = canonical_json(inputs["policy"])
            args["BypassPolicyLockoutSafetyCheck"] = bool(inputs.get("bypassPolicyLockoutSafetyCheck"))
        if inputs.get("tags"):
            args["Tags"] = _tags(inputs["tags"])
        meta = aws("kms").create_key(**args)["KeyMetadata"]
        self._rotation(aws, meta["KeyId"], inputs)
        if inputs.get("isEnabled") is False:
            aws("kms").disable_key(KeyId=meta["KeyId"])
        return meta["KeyId"], self.read(aws, meta["KeyId"], inputs)

    @staticmethod
    def _rotation(aws, key_id, inputs):
        if inputs.get("enableKeyRotation"):
            args: dict[str, Any] = {"KeyId": key_id}
            if inputs.get("rotationPeriodInDays") is not None:
                args["RotationPeriodInDays"] = as_int(inputs["rotationPeriodInDays"])
            aws("kms").enable_key_rotation(**args)
        else:
            aws("kms").disable_key_rotation(KeyId=key_id)

    def read(self, aws, rid, state):
        kms = aws("kms")
        try:
            meta = kms.describe_key(KeyId=rid)["KeyMetadata"]
        except Exception as error:
            if _error_code(error) == "NotFoundException":
                return None
            raise
        if meta.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            return None
        rotation = kms.get_key_rotation_status(KeyId=rid)
        policy = kms.get_key_policy(KeyId=rid, PolicyName="default")["Policy"]
        out = {"arn": meta["Arn"], "keyId": meta["KeyId"], "description": meta.get("Description", ""),
               "customerMasterKeySpec": meta.get("KeySpec") or meta.get("CustomerMasterKeySpec"),
               "keyUsage": meta.get("KeyUsage"), "isEnabled": meta.get("Enabled"),
               "multiRegion": bool(meta.get("MultiRegion")),
               "enableKeyRotation": bool(rotation.get("KeyRotationEnabled")),
               "policy": state.get("policy") if canonical_json(state.get("policy")) == canonical_json(policy)
               else policy}
        if rotation.get("RotationPeriodInDays") is not None:
            out["rotationPeriodInDays"] = rotation["RotationPeriodInDays"]
        elif state.get("rotationPeriodInDays") not in (None, UNKNOWN):
            out["rotationPeriodInDays"] = state["rotationPeriodInDays"]
        return out

    def update(self, aws, rid, olds, news):
        kms = aws("kms")
        if news.get("description", "") != olds.get("description", ""):
            kms.update_key_description(KeyId=rid, Description=news.get("description") or "")
        if (bool(news.get("enableKeyRotation")) != bool(olds.get("enableKeyRotation"))
                or news.get("rotationPeriodInDays") != olds.get("rotationPeriodInDays")):
            self._rotation(aws, rid, news)
        if news.get("policy") and canonical_json(news["policy"]) != canonical_json(olds.get("policy")):
            kms.put_key_policy(KeyId=rid, PolicyName="default", Policy=canonical_json(news["policy"]),
                               BypassPolicyLockoutSafetyCheck=bool(news.get("bypassPolicyLockoutSafetyCheck")))
        if news.get("isEnabled") is not None and news.get("isEnabled") != olds.get("isEnabled"):
            (kms.enable_key if news["isEnabled"] else kms.disable_key)(KeyId=rid)
        return self.read(aws, rid, news) or {}

    def delete(self, aws, rid, state):
        window = as_int(state.get("deletionWindowInDays")) or 30
        try:
            aws("kms").schedule_key_deletion(KeyId=rid, PendingWindowInDays=window)
        except Exception as error:
            if _error_code(error) not in ("NotFoundException", "KMSInvalidStateException"):
                raise


class KmsAlias(ResourceType):
    token = "aws:kms/alias:Alias"
    inputs = frozenset({"name", "namePrefix", "targetKeyId", "region"})
    required = frozenset({"targetKeyId"})
    replace_on = frozenset({"name", "namePrefix"})
    computed = ("arn", "targetKeyArn")

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        alias = news.get("name")
        if isinstance(alias, str) and not alias.startswith("alias/"):
            failures.append("name: must start with 'alias/'")
        if alias is None and news.get("namePrefix") is None:
            news["name"] = olds.get("name") or f"alias/{name}-{suffix(seed, name)}"
        return failures

    def create(self, aws, name, inputs):
        alias = inputs.get("name") or f"{inputs['namePrefix']}{int(time.time() * 1000)}"
        aws("kms").create_alias(AliasName=alias, TargetKeyId=inputs["targetKeyId"])
        return alias, self.read(aws, alias, {**inputs, "name": alias})

    def read(self, aws, rid, state):
        for page in aws("kms").get_paginator("list_aliases").paginate():
            for alias in page["Aliases"]:
                if alias["AliasName"] == rid:
                    target = alias.get("TargetKeyId")
                    key_arn = aws("kms").describe_key(KeyId=target)["KeyMetadata"]["Arn"] if target else None
                    return {"arn": alias["AliasArn"], "name": rid, "targetKeyArn": key_arn,
                            "targetKeyId": state.get("targetKeyId") or target}
        return None

    def update(self, aws, rid, olds, news):
        aws("kms").update_alias(AliasName=rid, TargetKeyId=news["targetKeyId"])
        return self.read(aws, rid, news) or {}

    def delete(self, aws, rid, state):
        try:
            aws("kms").delete_alias(AliasName=rid)
        except Exception as error:
            if _error_code(error) != "NotFoundException":
                raise


class KmsKeyPolicy(ResourceType):
    token = "aws:kms/keyPolicy:KeyPolicy"
    inputs = frozenset({"keyId", "policy", "bypassPolicyLockoutSafetyCheck", "region"})
    required = frozenset({"keyId", "policy"})
    replace_on = frozenset({"keyId"})
    json_inputs = frozenset({"policy"})

    def _put(self, aws, inputs):
        aws("kms").put_key_policy(KeyId=inputs["keyId"], PolicyName="default", Policy=canonical_json(inputs["policy"]),
                                  BypassPolicyLockoutSafetyCheck=bool(inputs.get("bypassPolicyLockoutSafetyCheck")))

    def create(self, aws, name, inputs):
        self._put(aws, inputs)
        return inputs["keyId"], {}

    def read(self, aws, rid, state):
        policy = aws("kms").get_key_policy(KeyId=rid, PolicyName="default")["Policy"]
        same = canonical_json(policy) == canonical_json(state.get("policy"))
        return {"keyId": rid, "policy": state.get("policy") if same else policy}

    def update(self, aws, rid, olds, news):
        self._put(aws, news)
        return {}

    def delete(self, aws, rid, state):
        # AWS keeps a key policy: deleting the resource restores the default one (the account root).
        arn = aws("kms").describe_key(KeyId=rid)["KeyMetadata"]["Arn"]
        account = arn.split(":")[4]
        default = {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{
            "Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]}
        aws("kms").put_key_policy(KeyId=rid, PolicyName="default", Policy=json.dumps(default))


class S3Bucket(ResourceType):
    token = "aws:s3/bucket:Bucket"
    inputs = frozenset({"bucket", "bucketPrefix", "forceDestroy", "tags", "objectLockEnabled",
                        "serverSideEncryptionConfiguration", "region"})
    replace_on = frozenset({"bucket", "bucketPrefix", "objectLockEnabled"})
    computed = ("arn", "bucket", "bucketDomainName", "bucketRegionalDomainName", "hostedZoneId", "region")
    defaults = {"forceDestroy": False}

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        if news.get("bucket") is None and news.get("bucketPrefix") is None:
            news["bucket"] = olds.get("bucket") or f"{name.lower()}-{suffix(seed, name)}"
        return failures

    def sse_rules(self, inputs) -> list[dict[str, Any]]:
        config = single(inputs.get("serverSideEncryptionConfiguration"))
        if not config:
            return []
        rules = config.get("rules") or ([config["rule"]] if config.get("rule") else [])
        return [single(r) for r in rules]

    def create(self, aws, name, inputs):
        bucket = inputs.get("bucket") or f"{inputs['bucketPrefix']}{time.strftime('%Y%m%d%H%M%S')}{suffix(str(time.time()), name, 6)}"
        s3 = aws("s3")
        args: dict[str, Any] = {"Bucket": bucket}
        if aws.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
        if inputs.get("objectLockEnabled"):
            args["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**args)
        if self.sse_rules(inputs):
            put_encryption(s3, bucket, self.sse_rules(inputs))
        if inputs.get("tags"):
            s3.put_bucket_tagging(Bucket=bucket, Tagging={
                "TagSet": [{"Key": k, "Value": v} for k, v in sorted(inputs["tags"].items())]})
        return bucket, self.read(aws, bucket, inputs)

    def read(self, aws, rid, state):
        try:
            aws("s3").head_bucket(Bucket=rid)
        except Exception as error:
            if _error_code(error) in ("404", "NoSuchBucket", "NotFound"):
                return None
            raise
        return {"bucket": rid, "arn": f"arn:aws:s3:::{rid}", "bucketDomainName": f"{rid}.s3.amazonaws.com",
                "bucketRegionalDomainName": f"{rid}.s3.{aws.region}.amazonaws.com", "region": aws.region}

    def update(self, aws, rid, olds, news):
        if news.get("serverSideEncryptionConfiguration") != olds.get("serverSideEncryptionConfiguration"):
            if self.sse_rules(news):
                put_encryption(aws("s3"), rid, self.sse_rules(news))
            else:
                aws("s3").delete_bucket_encryption(Bucket=rid)
        if news.get("tags") != olds.get("tags"):
            if news.get("tags"):
                aws("s3").put_bucket_tagging(Bucket=rid, Tagging={
                    "TagSet": [{"Key": k, "Value": v} for k, v in sorted(news["tags"].items())]})
            else:
                aws("s3").delete_bucket_tagging(Bucket=rid)
        return self.read(aws, rid, news) or {}

    def delete(self, aws, rid, state):
        s3 = aws("s3")
        if state.get("forceDestroy"):
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=rid):
                objects = [{"Key": o["Key"], "VersionId": o["VersionId"]}
                           for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                if objects:
                    s3.delete_objects(Bucket=rid, Delete={"Objects": objects})
        try:
            s3.delete_bucket(Bucket=rid)
        except Exception as error:
            if _error_code(error) != "NoSuchBucket":
                raise


class S3BucketV2(S3Bucket):
    token = "aws:s3/bucketV2:BucketV2"
    inputs = (S3Bucket.inputs - {"serverSideEncryptionConfiguration"}) | {"serverSideEncryptionConfigurations"}

    def sse_rules(self, inputs):
        rules: list[dict[str, Any]] = []
        for config in inputs.get("serverSideEncryptionConfigurations") or []:
            rules += [single(r) for r in config.get("rules") or []]
        return rules

    def update(self, aws, rid, olds, news):
        olds = {**olds, "serverSideEncryptionConfiguration": olds.get("serverSideEncryptionConfigurations")}
        news = {**news, "serverSideEncryptionConfiguration": news.get("serverSideEncryptionConfigurations")}
        return super().update(aws, rid, olds, news)


def put_encryption(s3: Any, bucket: str, rules: list[dict[str, Any]]) -> None:
    api_rules = []
    for rule in rules:
        default = single(rule.get("applyServerSideEncryptionByDefault")) or {}
        by_default = {"SSEAlgorithm": default.get("sseAlgorithm")}
        if default.get("kmsMasterKeyId"):
            by_default["KMSMasterKeyID"] = default["kmsMasterKeyId"]
        api_rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": by_default}
        if rule.get("bucketKeyEnabled") is not None:
            api_rule["BucketKeyEnabled"] = bool(rule["bucketKeyEnabled"])
        api_rules.append(api_rule)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": api_rules})


class BucketSubresource(ResourceType):
    """A resource whose id is its bucket and which one S3 call puts and one deletes."""

    required = frozenset({"bucket"})
    replace_on = frozenset({"bucket", "expectedBucketOwner"})

    def put(self, s3: Any, inputs: dict[str, Any]) -> None:
        raise NotImplementedError

    def get(self, s3: Any, bucket: str) -> Any:
        raise NotImplementedError

    def remove(self, s3: Any, bucket: str) -> None:
        raise NotImplementedError

    def create(self, aws, name, inputs):
        self.put(aws("s3"), inputs)
        return inputs["bucket"], {}

    def read(self, aws, rid, state):
        try:
            self.get(aws("s3"), rid)
        except Exception as error:
            if _error_code(error).startswith("NoSuch") or _error_code(error).endswith("NotFoundError"):
                return None
            raise
        return {"bucket": rid}

    def update(self, aws, rid, olds, news):
        self.put(aws("s3"), news)
        return {}

    def delete(self, aws, rid, state):
        try:
            self.remove(aws("s3"), rid)
        except Exception as error:
            if not _error_code(error).startswith("NoSuch"):
                raise


class BucketEncryption(BucketSubresource):
    token = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    inputs = frozenset({"bucket", "rules", "expectedBucketOwner", "region"})
    required = frozenset({"bucket", "rules"})

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        for i, rule in enumerate(news.get("rules") or []):
            default = single((rule or {}).get("applyServerSideEncryptionByDefault")) if rule is not UNKNOWN else None
            if rule is not UNKNOWN and not contains_unknown(rule) and not (default or {}).get("sseAlgorithm"):
                failures.append(f"rules[{i}].applyServerSideEncryptionByDefault.sseAlgorithm: required")
        return failures

    def put(self, s3, inputs):
        put_encryption(s3, inputs["bucket"], [single(r) for r in inputs["rules"]])

    def get(self, s3, bucket):
        return s3.get_bucket_encryption(Bucket=bucket)

    def remove(self, s3, bucket):
        s3.delete_bucket_encryption(Bucket=bucket)


class BucketEncryptionV2(BucketEncryption):
    token = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"


class BucketPublicAccessBlock(BucketSubresource):
    token = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    inputs = frozenset({"bucket", "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                        "restrictPublicBuckets", "skipDestroy", "region"})
    defaults = {"blockPublicAcls": False, "blockPublicPolicy": False, "ignorePublicAcls": False,
                "restrictPublicBuckets": False}

    def put(self, s3, inputs):
        s3.put_public_access_block(Bucket=inputs["bucket"], PublicAccessBlockConfiguration={
            "BlockPublicAcls": bool(inputs.get("blockPublicAcls")),
            "BlockPublicPolicy": bool(inputs.get("blockPublicPolicy")),
            "IgnorePublicAcls": bool(inputs.get("ignorePublicAcls")),
            "RestrictPublicBuckets": bool(inputs.get("restrictPublicBuckets"))})

    def get(self, s3, bucket):
        return s3.get_public_access_block(Bucket=bucket)

    def remove(self, s3, bucket):
        s3.delete_public_access_block(Bucket=bucket)


class BucketOwnershipControls(BucketSubresource):
    token = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
    inputs = frozenset({"bucket", "rule", "region"})
    required = frozenset({"bucket", "rule"})

    def put(self, s3, inputs):
        s3.put_bucket_ownership_controls(Bucket=inputs["bucket"], OwnershipControls={
            "Rules": [{"ObjectOwnership": single(inputs["rule"])["objectOwnership"]}]})

    def get(self, s3, bucket):
        return s3.get_bucket_ownership_controls(Bucket=bucket)

    def remove(self, s3, bucket):
        s3.delete_bucket_ownership_controls(Bucket=bucket)


class BucketPolicy(BucketSubresource):
    token = "aws:s3/bucketPolicy:BucketPolicy"
    inputs = frozenset({"bucket", "policy", "region"})
    required = frozenset({"bucket", "policy"})
    replace_on = frozenset({"bucket"})
    json_inputs = frozenset({"policy"})

    def put(self, s3, inputs):
        s3.put_bucket_policy(Bucket=inputs["bucket"], Policy=canonical_json(inputs["policy"]))

    def get(self, s3, bucket):
        return s3.get_bucket_policy(Bucket=bucket)

    def remove(self, s3, bucket):
        s3.delete_bucket_policy(Bucket=bucket)


class IamPolicy(ResourceType):
    token = "aws:iam/policy:Policy"
    inputs = frozenset({"name", "namePrefix", "path", "description", "policy", "tags"})
    required = frozenset({"policy"})
    replace_on = frozenset({"name", "namePrefix", "path", "description"})
    computed = ("arn", "policyId", "attachmentCount")
    json_inputs = frozenset({"policy"})
    defaults = {"path": "/"}

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        if news.get("name") is None and news.get("namePrefix") is None:
            news["name"] = olds.get("name") or f"{name}-{suffix(seed, name)}"
        return failures

    def create(self, aws, name, inputs):
        policy_name = inputs.get("name") or f"{inputs['namePrefix']}{int(time.time() * 1000)}"
        args: dict[str, Any] = {"PolicyName": policy_name, "Path": inputs.get("path") or "/",
                                "PolicyDocument": canonical_json(inputs["policy"])}
        if inputs.get("description"):
            args["Description"] = inputs["description"]
        arn = aws("iam").create_policy(**args)["Policy"]["Arn"]
        return arn, self.read(aws, arn, {**inputs, "name": policy_name})

    def read(self, aws, rid, state):
        iam = aws("iam")
        try:
            policy = iam.get_policy(PolicyArn=rid)["Policy"]
        except Exception as error:
            if _error_code(error) == "NoSuchEntity":
                return None
            raise
        version = iam.get_policy_version(PolicyArn=rid, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        document = version["Document"]
        document = json.loads(document) if isinstance(document, str) else document
        if isinstance(document, str):  # URL-encoded by some emulators
            from urllib.parse import unquote
            document = json.loads(unquote(document))
        same = canonical_json(document) == canonical_json(state.get("policy"))
        return {"arn": policy["Arn"], "name": policy["PolicyName"], "policyId": policy["PolicyId"],
                "path": policy.get("Path", "/"), "attachmentCount": policy.get("AttachmentCount", 0),
                "policy": state.get("policy") if same else json.dumps(document)}

    def update(self, aws, rid, olds, news):
        iam = aws("iam")
        if canonical_json(news["policy"]) != canonical_json(olds.get("policy")):
            versions = iam.list_policy_versions(PolicyArn=rid)["Versions"]
            if len(versions) >= 5:
                oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
                iam.delete_policy_version(PolicyArn=rid, VersionId=oldest["VersionId"])
            iam.create_policy_version(PolicyArn=rid, PolicyDocument=canonical_json(news["policy"]), SetAsDefault=True)
        return self.read(aws, rid, news) or {}

    def delete(self, aws, rid, state):
        iam = aws("iam")
        try:
            for version in iam.list_policy_versions(PolicyArn=rid)["Versions"]:
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=rid, VersionId=version["VersionId"])
            iam.delete_policy(PolicyArn=rid)
        except Exception as error:
            if _error_code(error) != "NoSuchEntity":
                raise


class IamRole(ResourceType):
    token = "aws:iam/role:Role"
    inputs = frozenset({"name", "namePrefix", "path", "description", "assumeRolePolicy", "maxSessionDuration",
                        "permissionsBoundary", "tags", "forceDetachPolicies"})
    required = frozenset({"assumeRolePolicy"})
    replace_on = frozenset({"name", "namePrefix", "path"})
    computed = ("arn", "uniqueId", "createDate")
    json_inputs = frozenset({"assumeRolePolicy"})
    defaults = {"path": "/", "maxSessionDuration": 3600.0, "forceDetachPolicies": False}

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        if news.get("name") is None and news.get("namePrefix") is None:
            news["name"] = olds.get("name") or f"{name}-{suffix(seed, name)}"
        return failures

    def create(self, aws, name, inputs):
        role_name = inputs.get("name") or f"{inputs['namePrefix']}{int(time.time() * 1000)}"
        args: dict[str, Any] = {"RoleName": role_name, "Path": inputs.get("path") or "/",
                                "AssumeRolePolicyDocument": canonical_json(inputs["assumeRolePolicy"]),
                                "MaxSessionDuration": as_int(inputs.get("maxSessionDuration")) or 3600}
        if inputs.get("description"):
            args["Description"] = inputs["description"]
        if inputs.get("permissionsBoundary"):
            args["PermissionsBoundary"] = inputs["permissionsBoundary"]
        aws("iam").create_role(**args)
        return role_name, self.read(aws, role_name, inputs)

    def read(self, aws, rid, state):
        try:
            role = aws("iam").get_role(RoleName=rid)["Role"]
        except Exception as error:
            if _error_code(error) == "NoSuchEntity":
                return None
            raise
        return {"arn": role["Arn"], "name": role["RoleName"], "uniqueId": role["RoleId"],
                "createDate": str(role.get("CreateDate", "")),
                "maxSessionDuration": role.get("MaxSessionDuration", 3600)}

    def update(self, aws, rid, olds, news):
        iam = aws("iam")
        if canonical_json(news["assumeRolePolicy"]) != canonical_json(olds.get("assumeRolePolicy")):
            iam.update_assume_role_policy(RoleName=rid, PolicyDocument=canonical_json(news["assumeRolePolicy"]))
        iam.update_role(RoleName=rid, Description=news.get("description") or "",
                        MaxSessionDuration=as_int(news.get("maxSessionDuration")) or 3600)
        return self.read(aws, rid, news) or {}

    def delete(self, aws, rid, state):
        iam = aws("iam")
        try:
            for policy in iam.list_role_policies(RoleName=rid)["PolicyNames"]:
                iam.delete_role_policy(RoleName=rid, PolicyName=policy)
            for attached in iam.list_attached_role_policies(RoleName=rid)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=rid, PolicyArn=attached["PolicyArn"])
            iam.delete_role(RoleName=rid)
        except Exception as error:
            if _error_code(error) != "NoSuchEntity":
                raise


class IamRolePolicy(ResourceType):
    token = "aws:iam/rolePolicy:RolePolicy"
    inputs = frozenset({"role", "name", "namePrefix", "policy"})
    required = frozenset({"role", "policy"})
    replace_on = frozenset({"role", "name", "namePrefix"})
    json_inputs = frozenset({"policy"})

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        if news.get("name") is None and news.get("namePrefix") is None:
            news["name"] = olds.get("name") or f"{name}-{suffix(seed, name)}"
        return failures

    def create(self, aws, name, inputs):
        policy_name = inputs.get("name") or f"{inputs['namePrefix']}{int(time.time() * 1000)}"
        aws("iam").put_role_policy(RoleName=inputs["role"], PolicyName=policy_name,
                                   PolicyDocument=canonical_json(inputs["policy"]))
        return f"{inputs['role']}:{policy_name}", {"name": policy_name}

    def read(self, aws, rid, state):
        role, name = rid.split(":", 1)
        try:
            aws("iam").get_role_policy(RoleName=role, PolicyName=name)
        except Exception as error:
            if _error_code(error) == "NoSuchEntity":
                return None
            raise
        return {"role": role, "name": name}

    def update(self, aws, rid, olds, news):
        role, name = rid.split(":", 1)
        aws("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=canonical_json(news["policy"]))
        return {"name": name}

    def delete(self, aws, rid, state):
        role, name = rid.split(":", 1)
        try:
            aws("iam").delete_role_policy(RoleName=role, PolicyName=name)
        except Exception as error:
            if _error_code(error) != "NoSuchEntity":
                raise


TYPES = (KmsKey(), KmsAlias(), KmsKeyPolicy(), S3Bucket(), S3BucketV2(), BucketEncryption(), BucketEncryptionV2(),
         BucketPublicAccessBlock(), BucketOwnershipControls(), BucketPolicy(), IamPolicy(), IamRole(),
         IamRolePolicy())


class AwsProvider(KeyguardProvider):
    def make_client(self, config):
        return AwsClients(config)


def main() -> None:
    run(AwsProvider("aws", TYPES), VERSION)


if __name__ == "__main__":
    main()


__all__ = ["AwsProvider", "TYPES", "ProviderError", "main"]
