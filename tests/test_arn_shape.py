"""`iam_catalog` memoises ARN-against-resource-type matching by an ARN's shape (`arn_shape`), so a
first pass does not step the matcher through every new ARN. The shape must be exact: for every
ARN format of the service, the shape is matched exactly when the concrete ARN is. Checked here
against the uncached matcher over generated ARNs for every format in the catalog: ARNs filled
from the format (with the service's own literal words, separators and arbitrary text in the
placeholders, region and account literal or not) and then perturbed."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from keyguard_policies import iam_catalog
from keyguard_policies.iam_index import index

_exact = iam_catalog._types_match_exact.__wrapped__  # the matcher itself, no memo


def _formats() -> list[tuple[str, str, tuple]]:
    loaded = index()
    out = []
    for service in sorted(loaded.services):
        found = loaded.service(service)
        for type_name, spec in sorted(found.tokens.items()):
            if spec is not None:
                out.append((service, type_name, spec))
    return out


FORMATS = _formats()


def _words(service: str) -> list[str]:
    rules = iam_catalog._shape_rules(service)
    return list(rules.segments) if rules is not None and rules.segments else ["x"]


@st.composite
def arns(draw):
    service, _, (head, tokens) = draw(st.sampled_from(FORMATS))
    words = _words(service)
    piece = st.one_of(st.sampled_from(words), st.sampled_from(["/", ":", "-", ".", "_", "x", "ab", "0", "+"]),
                      st.text(alphabet="abkey0/:-._", min_size=1, max_size=4))
    fill = st.lists(piece, min_size=0, max_size=5).map("".join)
    fields = ["aws" if head[0] is None else head[0], service if head[1] is None else head[1]]
    for literal in head[2:4]:
        fields.append(draw(st.one_of(st.just(literal or ""), st.sampled_from(["", "us-east-1", "123456789012"]))))
    resource = "".join(literal if kind == "lit" else draw(fill) for kind, literal in tokens)
    resource = draw(st.one_of(st.just(resource), fill, st.tuples(st.just(resource), fill).map("".join),
                              st.tuples(fill, st.just(resource)).map("".join)))
    return service, "arn:" + ":".join(fields) + ":" + resource.lower()


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(arns())
def test_the_shape_of_an_arn_matches_every_format_of_its_service_as_the_arn_does(case):
    service, arn = case
    shape = iam_catalog.arn_shape(service, arn)
    assert shape is not None
    found = index().service(service)
    for type_name, spec in found.tokens.items():
        if spec is not None:
            assert _exact(service, (type_name,), shape) == _exact(service, (type_name,), arn), (type_name, arn, shape)


def test_every_format_of_the_catalog_keeps_its_answer_on_its_own_filled_arns():
    """Each format, filled with a word no literal contains and with the service's own literal
    words, matches its shape exactly as it matches the ARN (the whole catalog, not a sample)."""
    for service, type_name, (head, tokens) in FORMATS:
        words = _words(service)
        for filler in ("name-1.x", words[0], words[-1] + "/" + words[0], "a:b"):
            fields = ["aws" if head[0] is None else head[0], service if head[1] is None else head[1],
                      "us-east-1" if head[2] is None else head[2], "123456789012" if head[3] is None else head[3]]
            resource = "".join(literal if kind == "lit" else filler for kind, literal in tokens)
            arn = ("arn:" + ":".join(fields) + ":" + resource).lower()
            shape = iam_catalog.arn_shape(service, arn)
            for other, spec in index().service(service).tokens.items():
                if spec is not None:
                    assert _exact(service, (other,), shape) == _exact(service, (other,), arn), (other, arn, shape)


def test_shapes_are_shared_by_arns_that_differ_only_in_names():
    a = iam_catalog.arn_shape("s3", "arn:aws:s3:::bench-data-1234/reports/2026.csv")
    b = iam_catalog.arn_shape("s3", "arn:aws:s3:::other-bucket-9/logs/x.csv")
    assert a == b
    assert iam_catalog.arn_shape("s3", "arn:aws:s3:::bucket") != a
    assert iam_catalog.arn_shape("kms", "arn:aws:kms:us-east-1:123456789012:key/abcd") != \
        iam_catalog.arn_shape("kms", "arn:aws:kms:us-east-1:123456789012:alias/abcd")


@st.composite
def wildcard_arns(draw):
    service, arn = draw(arns())
    chars = list(arn)
    for _ in range(draw(st.integers(0, 3))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(["*", "?"])))
    return service, "".join(chars)


@settings(max_examples=600, derandomize=True, deadline=None)
@given(wildcard_arns())
def test_the_memoised_matcher_answers_as_the_matcher_for_arns_with_and_without_wildcards(case):
    service, arn = case
    for type_name, spec in index().service(service).tokens.items():
        if spec is not None:
            assert iam_catalog._types_match(service, (type_name,), arn) == _exact(service, (type_name,), arn), \
                (type_name, arn)
