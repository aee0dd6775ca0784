"""iam-sse-kms-key-grants: a document that reads or writes objects of an SSE-KMS bucket of the stack
must grant kms:Decrypt / kms:GenerateDataKey on that bucket's key, however the grants are written."""
import dataclasses

import pytest

from keyguard_policies.documents import IDENTITY, locations
from tests.baseline import (ACCOUNT, BUCKET, BUCKET_ARN, BUCKET_URN, DELETE, ENCRYPTION_V2, KEY_ARN, KEY_ID, KEY_URN,
                            OBJECTS, OTHER_KEY, UNKNOWN, allow, baseline, document_carriers, make, malformed_documents,
                            policy_doc, role_document, run, urn, with_props, with_role_document)
from tests.test_seed_document import seed_role_document

POLICY = "iam-sse-kms-key-grants"
ROLE = {(POLICY, "ai-app-role")}
BOTH = ROLE | {(POLICY, "vault-user-boundary")}  # the role and its boundary carry the same document
ALIAS_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/ai-app-data"
READ_FAILS = (f"lets its holder read objects of bucket {BUCKET} ({{}}) but does not allow kms:Decrypt on the "
              f"bucket's SSE-KMS key {{}}: every read is denied at run time")
WRITE_FAILS = (f"lets its holder write objects of bucket {BUCKET} ({{}}) but does not allow kms:GenerateDataKey on "
               f"the bucket's SSE-KMS key {{}}: every write is denied at run time")
KMS = allow(["kms:Decrypt", "kms:GenerateDataKey"], KEY_ARN)
RW = allow(["s3:GetObject", "s3:PutObject"], OBJECTS)


def read_fails(labels="statement #1", key=KEY_ARN, path="policyDocument"):
    return f"{path} " + READ_FAILS.format(labels, key)


def write_fails(labels="statement #1", key=KEY_ARN, path="policyDocument"):
    return f"{path} " + WRITE_FAILS.format(labels, key)


def _doc(*statements):
    return with_role_document(policy_doc(*statements))


def _with_encryption(resources, key, algorithm="aws:kms", deps=(KEY_URN,), type_=None):
    """The design with its encryption configuration naming `key` (DELETE: unset), `deps` its rules' dependencies."""
    default = {"sseAlgorithm": algorithm}
    if key is not DELETE:
        default["kmsMasterKeyId"] = key
    old = resources["encryption"]
    prop_deps = {"bucket": (BUCKET_URN,), **({"rules": tuple(deps)} if deps else {})}
    resources["encryption"] = make(type_ or old.type, old.name, {
        "bucket": BUCKET, "rules": [{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True}]},
        deps=prop_deps)
    return resources


# --- the design and the seed ------------------------------------------------------------------------

def test_baseline_passes():
    outcome = run(POLICY, baseline())
    assert outcome.violations == set() and outcome.unverifiable == set() and outcome.status == "pass"


@pytest.mark.parametrize("form", ["string", "object"])
def test_seed_document_is_flagged(form):
    outcome = run(POLICY, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN), form))
    assert outcome.violations == ROLE and outcome.unverifiable == set()
    assert outcome.messages == [read_fails(), write_fails()]


def test_stack_document_without_its_kms_statement_is_flagged():
    document = role_document()
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "UseDataKey"]
    outcome = run(POLICY, with_role_document(document))
    assert outcome.violations == ROLE
    assert outcome.messages == [read_fails("statement 'ReadWriteDataObjects'"),
                                write_fails("statement 'ReadWriteDataObjects'")]


def test_boundary_policy_without_kms_is_flagged_too():
    # a permissions boundary without the KMS grant caps the credentials just the same
    resources = baseline()
    resources["boundary"] = with_props(resources["boundary"], policy=policy_doc(RW))
    outcome = run(POLICY, resources)
    assert outcome.violations == {(POLICY, "vault-user-boundary")}
    assert outcome.messages == [read_fails(path="policy"), write_fails(path="policy")]


# --- read-only, write-only, complete ----------------------------------------------------------------

def test_read_only_without_decrypt():
    outcome = run(POLICY, _doc(allow("s3:GetObject", OBJECTS)))
    assert outcome.violations == ROLE and outcome.messages == [read_fails()]


def test_read_only_with_decrypt_passes():
    assert run(POLICY, _doc(allow("s3:GetObject", OBJECTS), allow("kms:Decrypt", KEY_ARN))).status == "pass"


def test_read_only_with_generate_data_key_only_is_flagged():
    outcome = run(POLICY, _doc(allow("s3:GetObject", OBJECTS), allow("kms:GenerateDataKey", KEY_ARN)))
    assert outcome.violations == ROLE and outcome.messages == [read_fails()]


def test_write_only_without_generate_data_key():
    outcome = run(POLICY, _doc(allow("s3:PutObject", OBJECTS), allow("kms:Decrypt", KEY_ARN)))
    assert outcome.violations == ROLE and outcome.messages == [write_fails()]


def test_write_only_with_generate_data_key_passes():
    assert run(POLICY, _doc(allow("s3:PutObject", OBJECTS), allow("kms:GenerateDataKey", KEY_ARN))).status == "pass"


def test_get_object_version_is_a_read():
    outcome = run(POLICY, _doc(allow("s3:GetObjectVersion", OBJECTS)))
    assert outcome.violations == ROLE and outcome.messages == [read_fails()]


@pytest.mark.parametrize("form", ["string", "object"])
def test_complete_grants_pass(form):
    outcome = run(POLICY, with_role_document(role_document(), form))
    assert outcome.violations == set() and outcome.unverifiable == set() and outcome.status == "pass"


@pytest.mark.parametrize("action", ["s3:ListBucket", "s3:GetObjectAcl", "s3:DeleteObject", "s3:GetObjectTagging",
                                    "kms:Decrypt", "sts:GetCallerIdentity"])
def test_actions_that_neither_read_nor_write_objects_pass(action):
    assert run(POLICY, _doc(allow(action, [BUCKET_ARN, OBJECTS]))).status == "pass"


# --- grants on the wrong key ------------------------------------------------------------------------

@pytest.mark.parametrize("resource", [
    OTHER_KEY,
    ALIAS_ARN,                                      # IAM does not authorize KMS calls by alias ARN
    KEY_ID,                                         # nor by key id
    "alias/ai-app-data",                            # nor by alias name
    f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/*",
    "arn:aws:kms:us-east-1:999999999999:key/*",
    f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}",
    BUCKET_ARN + "/*",
    f"{KEY_ARN}-old",
])
def test_grants_on_another_key_do_not_count(resource):
    outcome = run(POLICY, _doc(RW, allow(["kms:Decrypt", "kms:GenerateDataKey"], resource)))
    assert outcome.violations == ROLE
    assert outcome.messages == [read_fails(), write_fails()]


# --- wildcards ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("actions", [
    "kms:*", "*", ["kms:Generate*", "kms:Decrypt"], ["KMS:DECRYPT", "kms:generatedatakey"],
    ["kms:GenerateDataKey*", "kms:Decrypt*"], ["kms:?ecrypt", "kms:GenerateData???"], "kms:*e*",
])
def test_action_wildcards_that_cover_the_kms_actions_pass(actions):
    assert run(POLICY, _doc(RW, allow(actions, KEY_ARN))).status == "pass"


@pytest.mark.parametrize("actions, messages", [
    (["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext"], [write_fails()]),
    (["kms:Generate*"], [read_fails()]),
    (["kms:Describe*", "kms:Encrypt"], [read_fails(), write_fails()]),
    (["kms:Decrypt", "kms:GenerateDataKeyPair"], [write_fails()]),
])
def test_action_wildcards_that_miss_a_kms_action_are_flagged(actions, messages):
    outcome = run(POLICY, _doc(RW, allow(actions, KEY_ARN)))
    assert outcome.violations == ROLE and outcome.messages == messages


@pytest.mark.parametrize("resource", [
    "*", f"arn:aws:kms:*:{ACCOUNT}:key/*", "arn:aws:kms:*:*:key/*", "arn:aws:kms:*", f"arn:aws:kms:us-east-1:{ACCOUNT}:*",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f6b*", f"arn:aws:kms:us-east-?:{ACCOUNT}:key/{KEY_ID}", "arn:aws:*",
])
def test_key_arn_patterns_that_match_the_key_pass(resource):
    assert run(POLICY, _doc(RW, allow(["kms:Decrypt", "kms:GenerateDataKey"], resource))).status == "pass"


def test_a_star_inside_a_segment_does_not_cross_a_colon():
    # IAM: only a "*" that ends its ARN segment matches across ":"
    resource = "arn:aws:kms:us-*-1:key/*"
    outcome = run(POLICY, _doc(RW, allow(["kms:Decrypt", "kms:GenerateDataKey"], resource)))
    assert outcome.violations == ROLE


@pytest.mark.parametrize("resource", [
    OBJECTS, f"{OBJECTS[:-1]}models/embedding-v1.bin", f"{BUCKET_ARN}/models/*", "arn:aws:s3:::ai-*/*",
    "arn:aws:s3:::*", "*", f"{BUCKET_ARN}*", "arn:aws:s3:::ai-app-data-??????/*", "arn:*:s3:::*/*",
    f"arn:*:s3:::{BUCKET}/*", "arn:aws:s3*", "arn:aws:*", "arn:aws:s3:::ai-app-data-5f2c9a/a:b/*",
])
def test_object_grants_in_every_form_need_the_key(resource):
    outcome = run(POLICY, _doc(allow(["s3:GetObject", "s3:PutObject"], resource)))
    assert outcome.violations == ROLE
    assert outcome.messages == [read_fails(), write_fails()]


@pytest.mark.parametrize("actions", ["s3:*", "*", "s3:Get*", "S3:GETOBJECT", "s3:*Object", ["s3:Put*", "s3:Get*"],
                                     "s3:GetObjec?"])
def test_s3_action_wildcards_that_reach_reads_are_flagged(actions):
    outcome = run(POLICY, _doc(allow(actions, OBJECTS)))
    assert outcome.violations == ROLE and read_fails() in outcome.messages


@pytest.mark.parametrize("resource", [BUCKET_ARN, "arn:aws:s3:::someone-elses-bucket/*", "arn:aws:s3:::ai-app-logs*",
                                      f"arn:aws:s3:::{BUCKET}-archive/*", KEY_ARN, "arn:aws:s3:::b*/*",
                                      "arn:aws:kms:*:*:key/*", "arn:aws:s3:::ai-app-data-5f2c9a-?/*"])
def test_grants_that_reach_no_object_of_the_stacks_buckets_pass(resource):
    # a bucket ARN names no object; another bucket is not this stack's: not applicable
    assert run(POLICY, _doc(allow(["s3:GetObject", "s3:PutObject"], resource))).status == "pass"


# --- split statements, NotAction, NotResource, Deny ---------------------------------------------------

def test_split_statements_pass():
    outcome = run(POLICY, _doc(allow("s3:GetObject", OBJECTS), allow("s3:PutObject", f"{BUCKET_ARN}/uploads/*"),
                               allow("kms:Decrypt", KEY_ARN), allow("kms:GenerateDataKey", [OTHER_KEY, KEY_ARN])))
    assert outcome.status == "pass"


def test_split_statements_missing_one_grant_name_the_statements():
    outcome = run(POLICY, _doc(allow("s3:GetObject", OBJECTS), dict(allow("s3:PutObject", OBJECTS), Sid="Put"),
                               allow("s3:GetObjectVersion", f"{BUCKET_ARN}/v/*"), allow("kms:Decrypt", KEY_ARN)))
    assert outcome.violations == ROLE
    assert outcome.messages == [write_fails("statement 'Put'")]
    outcome = run(POLICY, _doc(allow("s3:GetObject", OBJECTS), allow("s3:GetObjectVersion", f"{BUCKET_ARN}/v/*")))
    assert outcome.messages == [read_fails("statement #1, statement #2")]


def test_not_action_allow_reaching_everything_grants_the_key_too():
    not_action = {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}
    assert run(POLICY, _doc(not_action)).status == "pass"


def test_not_action_allow_excluding_kms_is_flagged():
    not_action = {"Effect": "Allow", "NotAction": "kms:*", "Resource": "*"}
    outcome = run(POLICY, _doc(not_action))
    assert outcome.violations == ROLE and outcome.messages == [read_fails(), write_fails()]


def test_not_action_on_the_key_grants_it():
    not_action = {"Effect": "Allow", "NotAction": ["s3:*", "kms:ScheduleKeyDeletion"], "Resource": KEY_ARN}
    assert run(POLICY, _doc(RW, not_action)).status == "pass"


def test_not_action_on_the_key_excluding_decrypt_is_flagged():
    not_action = {"Effect": "Allow", "NotAction": ["kms:decrypt"], "Resource": KEY_ARN}
    outcome = run(POLICY, _doc(RW, not_action))
    assert outcome.violations == ROLE and outcome.messages == [read_fails()]


def test_not_resource_reaching_the_bucket_is_flagged():
    outcome = run(POLICY, _doc({"Effect": "Allow", "Action": "s3:GetObject",
                                "NotResource": "arn:aws:s3:::someone-elses-bucket/*"}))
    assert outcome.violations == ROLE and outcome.messages == [read_fails()]


@pytest.mark.parametrize("excluded", [OBJECTS, "arn:aws:s3:::ai-*", "*"])
def test_not_resource_excluding_the_bucket_passes(excluded):
    assert run(POLICY, _doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": excluded})).status == "pass"


def test_not_resource_on_the_kms_side():
    grants = {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "NotResource": OTHER_KEY}
    assert run(POLICY, _doc(RW, grants)).status == "pass"
    grants = dict(grants, NotResource=["arn:aws:kms:*:*:key/*"])
    assert run(POLICY, _doc(RW, grants)).violations == ROLE


@pytest.mark.parametrize("deny, messages", [
    ({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": KEY_ARN}, [read_fails("statement 'ReadWriteDataObjects'")]),
    ({"Effect": "Deny", "Action": "kms:*", "Resource": "*"},
     [read_fails("statement 'ReadWriteDataObjects'"), write_fails("statement 'ReadWriteDataObjects'")]),
    ({"Effect": "Deny", "Action": "KMS:Generate*", "Resource": "arn:aws:kms:*:*:key/*"},
     [write_fails("statement 'ReadWriteDataObjects'")]),
    ({"Effect": "Deny", "NotAction": "kms:Decrypt", "Resource": KEY_ARN},
     [write_fails("statement 'ReadWriteDataObjects'")]),
    ({"Effect": "Deny", "Action": "kms:Decrypt", "NotResource": OTHER_KEY},
     [read_fails("statement 'ReadWriteDataObjects'")]),
    # denies every read, and with everything but s3:PutObject the key the write needs too
    ({"Effect": "Deny", "NotAction": "s3:PutObject", "Resource": "*"}, [write_fails("statement 'ReadWriteDataObjects'")]),
])
def test_deny_that_removes_the_key_grant_is_flagged(deny, messages):
    outcome = run(POLICY, with_role_document(dict(role_document(), Statement=role_document()["Statement"] + [deny])))
    assert outcome.violations == ROLE and outcome.messages == messages


def test_conditional_deny_and_allow_do_not_change_the_verdict():
    # conditions cannot be evaluated offline: an Allow with one is a grant (kms:ViaService scopes it to S3),
    # a Deny with one does not always apply
    via_s3 = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    document = policy_doc(RW, allow(["kms:Decrypt", "kms:GenerateDataKey"], KEY_ARN, Condition=via_s3),
                          {"Effect": "Deny", "Action": "kms:*", "Resource": "*",
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert run(POLICY, with_role_document(document)).status == "pass"


@pytest.mark.parametrize("deny", [
    {"Effect": "Deny", "Action": "s3:GetObject*", "Resource": OBJECTS},
    {"Effect": "Deny", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "arn:aws:s3:::*"},
    {"Effect": "Deny", "NotAction": ["s3:PutObject", "kms:*"], "Resource": "*"},
])
def test_deny_that_removes_every_read_leaves_only_writes_to_judge(deny):
    document = policy_doc(RW, allow("kms:GenerateDataKey", KEY_ARN), deny)
    assert run(POLICY, with_role_document(document)).status == "pass"


def test_deny_of_part_of_the_bucket_leaves_the_other_reads():
    document = policy_doc(RW, allow("kms:GenerateDataKey", KEY_ARN),
                          {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/secret/*"})
    outcome = run(POLICY, with_role_document(document))
    assert outcome.violations == ROLE and outcome.messages == [read_fails()]


# --- following the bucket to its key ------------------------------------------------------------------

@pytest.mark.parametrize("key, deps", [(KEY_ARN, ()), (KEY_ID, ()), ("alias/ai-app-data", ()), (ALIAS_ARN, ()),
                                       (UNKNOWN, (KEY_URN,)),
                                       (UNKNOWN, (urn("aws:kms/alias:Alias", "ai-app-kms-alias"),))])
def test_the_bucket_key_is_found_by_every_reference(key, deps):
    seed = seed_role_document(BUCKET_ARN, KEY_ARN)
    resources = _with_encryption(baseline(), key, deps=deps)
    assert run(POLICY, resources).status == "pass"
    outcome = run(POLICY, with_role_document(seed, resources=resources))
    assert outcome.violations == ROLE and outcome.messages == [read_fails(), write_fails()]


def test_a_known_key_arn_beats_its_dependency():
    # the configuration depends on the stack key but names another one: the grants must name that one
    resources = _with_encryption(baseline(), OTHER_KEY, deps=(KEY_URN,))
    outcome = run(POLICY, resources)
    assert outcome.violations == BOTH
    assert outcome.messages == [fails("statement 'ReadWriteDataObjects'", OTHER_KEY, path)
                                for path in ("policyDocument", "policy") for fails in (read_fails, write_fails)]
    granted = policy_doc(RW, allow(["kms:Decrypt", "kms:GenerateDataKey"], OTHER_KEY))
    outcome = run(POLICY, with_role_document(granted, resources=resources))
    assert outcome.violations == {(POLICY, "vault-user-boundary")}


def test_unknown_key_arn_without_dependency_is_unverifiable():
    outcome = run(POLICY, _with_encryption(baseline(), UNKNOWN, deps=()))
    assert outcome.violations == set() and outcome.unverifiable == BOTH
    assert all("kmsMasterKeyId is not known until" in m for m in outcome.messages)


def test_stack_key_whose_arn_is_not_known_yet_is_unverifiable():
    resources = _with_encryption(baseline(), UNKNOWN, deps=(KEY_URN,))
    resources["key"] = dataclasses.replace(resources["key"], outputs={})
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == BOTH
    assert all("names key ai-app-kms-key, whose ARN is not known yet" in m for m in outcome.messages)


def test_unknown_key_arn_does_not_matter_to_a_document_that_touches_no_object():
    resources = with_role_document(policy_doc(allow("s3:ListBucket", BUCKET_ARN)),
                                   resources=_with_encryption(baseline(), UNKNOWN, deps=()))
    assert run(POLICY, resources).unverifiable == {(POLICY, "vault-user-boundary")}


@pytest.mark.parametrize("key", ["alias/someone-elses", "arn:aws:kms:us-east-1:999999999999:alias/theirs",
                                 "11111111-2222-3333-4444-555555555555"])
def test_a_key_named_other_than_by_arn_outside_the_stack_is_unverifiable(key):
    outcome = run(POLICY, _with_encryption(baseline(), key, deps=()))
    assert outcome.violations == set() and outcome.unverifiable == BOTH
    assert all("names no key of this stack by its ARN" in m for m in outcome.messages)


@pytest.mark.parametrize("key, algorithm", [(DELETE, "aws:kms"), ("", "aws:kms"), ("alias/aws/s3", "aws:kms"),
                                            (DELETE, "AES256")])
def test_aws_managed_or_s3_managed_keys_need_no_grant(key, algorithm):
    # the aws/s3 key's policy lets every principal of the account use it through S3
    resources = _with_encryption(baseline(), key, algorithm=algorithm, deps=())
    assert run(POLICY, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN), resources=resources)).status == "pass"


def test_dsse_needs_the_grants_too():
    resources = _with_encryption(baseline(), KEY_ARN, algorithm="aws:kms:dsse")
    outcome = run(POLICY, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN), resources=resources))
    assert outcome.violations == ROLE


def test_unknown_algorithm_is_unverifiable():
    outcome = run(POLICY, _with_encryption(baseline(), KEY_ARN, algorithm=UNKNOWN))
    assert outcome.violations == set() and outcome.unverifiable == BOTH


def test_no_encryption_at_all_is_left_to_s3_bucket_sse_kms_cmk():
    resources = baseline()
    del resources["encryption"]
    assert run(POLICY, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN), resources=resources)).status == "pass"


# --- inline vs separate encryption configuration -------------------------------------------------------

def _inline(bucket_type, props_key, config, deps=None):
    resources = baseline()
    del resources["encryption"]
    resources["bucket"] = make(bucket_type, "ai-app-data", {"bucket": BUCKET, props_key: config},
                               {"id": BUCKET, "arn": BUCKET_ARN}, deps)
    return resources


INLINE_SEED = ("aws:s3/bucket:Bucket", "serverSideEncryptionConfiguration",
               {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ID}}})
INLINE_V2 = ("aws:s3/bucketV2:BucketV2", "serverSideEncryptionConfigurations",
             [{"rules": [{"applyServerSideEncryptionByDefaults": [{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": UNKNOWN}]}]}],
             {"serverSideEncryptionConfigurations": [KEY_URN]})


@pytest.mark.parametrize("shape", [INLINE_SEED, INLINE_V2], ids=["bucket-inline-key-id", "bucketv2-inline-dependency"])
def test_inline_encryption(shape):
    resources = _inline(*shape)
    assert run(POLICY, resources).status == "pass"
    outcome = run(POLICY, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN), resources=resources))
    assert outcome.violations == ROLE and outcome.messages == [read_fails(), write_fails()]


@pytest.mark.parametrize("type_", [None, ENCRYPTION_V2])
def test_separate_configuration_resources(type_):
    resources = _with_encryption(baseline(), KEY_ARN, type_=type_)
    outcome = run(POLICY, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN), resources=resources))
    assert outcome.violations == ROLE


def test_configuration_linked_by_dependency_only():
    resources = baseline()
    resources["encryption"] = with_props(resources["encryption"], bucket=UNKNOWN)
    outcome = run(POLICY, with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN), resources=resources))
    assert outcome.violations == ROLE


def test_configuration_with_unknown_target_is_unverifiable():
    resources = baseline()
    resources["encryption"] = make(resources["encryption"].type, "ai-app-data-encryption", {
        "bucket": UNKNOWN, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                              "kmsMasterKeyId": OTHER_KEY}}]})
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == BOTH


def test_malformed_encryption_makes_the_key_unverifiable():
    resources = with_props(baseline()["encryption"], rules=["aws:kms"])
    outcome = run(POLICY, dict(baseline(), encryption=resources))
    assert outcome.violations == set() and outcome.unverifiable == BOTH
    assert all("is malformed (rules[0] is not an object)" in m for m in outcome.messages)


def test_two_buckets_each_need_their_own_key():
    resources = baseline()
    logs = "ai-app-logs-77aa"
    resources["bucket2"] = make("aws:s3/bucket:Bucket", "ai-app-logs", {"bucket": logs},
                                {"id": logs, "arn": f"arn:aws:s3:::{logs}"})
    resources["encryption2"] = make(resources["encryption"].type, "ai-app-logs-encryption", {
        "bucket": logs, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                           "kmsMasterKeyId": OTHER_KEY}}]},
        deps={"bucket": [resources["bucket2"].urn]})
    assert run(POLICY, resources).status == "pass"  # the design's documents do not touch the logs
    document = policy_doc(allow("s3:GetObject", "arn:aws:s3:::ai-app-*/*"), allow("kms:Decrypt", KEY_ARN))
    outcome = run(POLICY, with_role_document(document, resources=resources))
    assert outcome.violations == ROLE
    assert outcome.messages == [f"policyDocument lets its holder read objects of bucket {logs} (statement #1) but "
                                f"does not allow kms:Decrypt on the bucket's SSE-KMS key {OTHER_KEY}: every read is "
                                "denied at run time"]


def test_a_large_stack_judges_each_document_against_its_own_bucket():
    from keyguard.testing import replicate
    copies = replicate(list(with_role_document(seed_role_document(BUCKET_ARN, KEY_ARN)).values()), 50)
    outcome = run(POLICY, copies)
    roles = {name for _, name in outcome.violations}
    assert len(roles) == 50 and all(name.startswith("ai-app-role") for name in roles)
    assert outcome.unverifiable == set() and len(outcome.messages) == 100


# --- values not known yet, other carriers, malformed documents -------------------------------------------

def test_unknown_document_is_unverifiable():
    outcome = run(POLICY, with_role_document(UNKNOWN, form="object"))
    assert outcome.violations == set() and outcome.unverifiable == ROLE


def test_unknown_document_needs_no_verdict_when_no_bucket_needs_a_key_grant():
    resources = with_role_document(UNKNOWN, form="as is", resources=_with_encryption(baseline(), DELETE, "AES256"))
    assert run(POLICY, resources).status == "pass"


def test_bucket_name_not_known_yet_is_unverifiable_when_objects_are_granted():
    resources = baseline()
    resources["bucket"] = dataclasses.replace(with_props(resources["bucket"], bucket=UNKNOWN), outputs={})
    outcome = run(POLICY, resources)
    assert outcome.violations == set() and outcome.unverifiable == BOTH
    assert all("the name of bucket ai-app-data (encrypted with a KMS key) is not known yet" in m
               for m in outcome.messages)
    resources = with_role_document(policy_doc(allow("s3:ListBucket", "*")), resources=resources)
    assert run(POLICY, resources).unverifiable == {(POLICY, "vault-user-boundary")}


def test_every_identity_carrier_is_judged_and_resource_policies_are_not():
    carriers = document_carriers(seed_role_document(BUCKET_ARN, KEY_ARN))
    resources = list(baseline().values()) + carriers
    outcome = run(POLICY, resources)
    identity = {(POLICY, c.name) for c in carriers if locations()[c.type][0]["kind"] == IDENTITY}
    assert len(identity) == 12  # six identity locations, as a string and as an object
    assert outcome.violations == identity and outcome.unverifiable == set()


@pytest.mark.parametrize("document, defect", malformed_documents(principal=None))
def test_malformed_document_fails_closed(document, defect):
    outcome = run(POLICY, with_role_document(document, form="as is"))
    assert outcome.violations == ROLE and outcome.unverifiable == set()
    assert len(outcome.messages) == 1 and defect in outcome.messages[0]
