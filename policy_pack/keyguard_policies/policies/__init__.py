"""One module per policy, named after it (`s3-bucket-sse-kms-cmk` -> `s3_bucket_sse_kms_cmk.py`).

A resource rule defines `SUPPORTED_RESOURCES` and `check(resource, params)`; a stack rule defines
`SUPPORTED_RESOURCES` (the resources it judges) and `check_stack(stack, params)`, and may define
`subjects(stack)` when it judges fewer. A resource rule may also define `check_stack` and
`stack_subjects(stack)` for what only the stack shows (a key's account): the engine runs it after
the resource checks, the pack in AnalyzeStack. Both yield `Violation`s; metadata lives in
data/policies.json, declared once."""
from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType
from typing import Callable, Iterable, Iterator

from ..catalog import policies as _catalog
from ..model import UNVERIFIABLE, VIOLATION, LazyText, Resource, Stack
from ..values import Malformed, Unverifiable


@dataclasses.dataclass(frozen=True, init=False)
class Violation:
    message: str
    evidence: str = LazyText()  # type: ignore[assignment]  # text, or a statement whose JSON it is
    urn: str | None = None          # stack rules name the resource at fault
    kind: str = VIOLATION

    def __init__(self, message: str, evidence="", urn: str | None = None, kind: str = VIOLATION) -> None:
        vars(self).update(message=message, _evidence=evidence, urn=urn, kind=kind)  # see model.Finding


def unverified(what: str, urn: str | None = None) -> Violation:
    return Violation(f"cannot be verified: {what}", urn=urn, kind=UNVERIFIABLE)


def judge_each(subjects: Iterable[Resource], judge: Callable[[Resource], Iterator[Violation]]) -> Iterator[Violation]:
    """Judge each resource of a stack rule on its own, so an unknown or malformed value in one
    does not stop the rule from judging the others."""
    for subject in subjects:
        try:
            for v in judge(subject):
                # built directly: dataclasses.replace re-inspects the fields on every call
                yield v if v.urn else Violation(v.message, v._evidence, subject.urn, v.kind)
        except Unverifiable as err:
            yield unverified(err.what, subject.urn)
        except Malformed as err:
            yield Violation(f"malformed input: {err}", urn=subject.urn)


class Rule:
    """A policy module with its catalog entry."""

    def __init__(self, module: ModuleType):
        self.module = module
        self.NAME: str = module.NAME
        self.info = _catalog()[self.NAME]
        self.KIND = self.info.kind
        self.SUPPORTED_RESOURCES: tuple[str, ...] = tuple(module.SUPPORTED_RESOURCES)
        self.check = getattr(module, "check", None)
        self.check_stack = getattr(module, "check_stack", None)
        self.remediate = getattr(module, "remediate", None)
        assert (self.check is not None) == (self.KIND == "resource"), self.NAME
        assert self.check_stack is not None or self.KIND == "resource", self.NAME
        # a resource rule with a part that needs the whole stack
        self.stack_part = self.KIND == "resource" and self.check_stack is not None

    def subjects(self, stack: Stack) -> Iterator[Resource]:
        if hasattr(self.module, "subjects"):
            return self.module.subjects(stack)
        return stack.of_type(*self.SUPPORTED_RESOURCES)

    def stack_subjects(self, stack: Stack) -> list[Resource]:
        """What a resource rule's stack part judges (nothing for a rule without one)."""
        return list(self.module.stack_subjects(stack)) if self.stack_part else []


def _load() -> dict[str, Rule]:
    rules = {}
    for name in _catalog():
        module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
        rules[name] = Rule(module)
    return rules


RULES: dict[str, Rule] = _load()
