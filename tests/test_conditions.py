"""conditions.restricts_caller against the SPEC's definition ("Conditions that restrict the
caller"), clause by clause: which keys, operators and values pin the caller."""
import pytest

from keyguard_policies.conditions import restricts_caller

A = "111122223333"

RESTRICTS = [
    {"StringEquals": {"aws:PrincipalAccount": A}},
    {"StringEqualsIgnoreCase": {"aws:SourceAccount": A}},
    {"StringLike": {"kms:CallerAccount": [A, "444455556666"]}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"StringEquals": {"aws:SourceOrgID": "o-abc123"}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/ou-ab12-11111111/*"}},
    {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/app"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/*"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:*"}},
    {"StringEquals": {"aws:userid": "AIDAEXAMPLE"}},
    {"StringLike": {"aws:userid": "AROAEXAMPLE:*"}},
    {"stringequals": {"AWS:PRINCIPALACCOUNT": A}},                        # case-insensitive
    {"FORANYVALUE:STRINGEQUALS": {"aws:principalorgid": "o-abc123"}},
    {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:PrincipalAccount": A}},  # one clause suffices
    {"StringEquals": {"aws:PrincipalAccount": int(A)}},                   # a number is the same id
]
NOTHING = [
    {},
    {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
    {"StringLike": {"aws:PrincipalAccount": "?*"}},
    {"StringLike": {"aws:PrincipalAccount": "1111*"}},
    {"StringEquals": {"aws:PrincipalAccount": "*"}},
    {"StringEquals": {"aws:PrincipalAccount": ""}},
    {"StringEquals": {"aws:PrincipalAccount": []}},
    {"StringEquals": {"aws:PrincipalAccount": [A, "*"]}},               # values are alternatives
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}},
    {"StringLike": {"aws:PrincipalArn": f"arn:*:*:*:{A}:*"}},          # `*` before the account spans colons
    {"StringLike": {"aws:PrincipalArn": f"*:{A}:*"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1111222233:role/x"}},  # not a 12-digit account
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-*/r-ab12/*"}},
    {"StringLike": {"aws:userid": "*:session"}},
    {"StringLike": {"aws:userid": "AIDA*"}},
    {"StringNotEquals": {"aws:PrincipalAccount": A}},
    {"StringNotLike": {"aws:PrincipalOrgID": "o-abc123"}},
    {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/app"}},
    {"StringEqualsIfExists": {"aws:PrincipalAccount": A}},
    {"ArnLikeIfExists": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/*"}},
    {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"Null": {"aws:PrincipalAccount": "false"}},
    {"StringEquals": {"aws:SourceArn": "arn:aws:s3:::bucket"}},
    {"StringEquals": {"aws:SourceOrgPaths": "o-abc123/"}},
    {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringEquals": {"aws:PrincipalAccount": True}},
    {"StringEquals": {"aws:PrincipalAccount": {"a": A}}},
]


@pytest.mark.parametrize("condition", RESTRICTS)
def test_restricts(condition):
    assert restricts_caller(condition) is True


@pytest.mark.parametrize("condition", NOTHING)
def test_restricts_nothing(condition):
    assert restricts_caller(condition) is False
