"""One resource as read from the live system: the properties the policies read, in the same
camelCase shape the Pulumi export gives them, plus why any of them could not be read. A value
that could not be read is the `UNREADABLE` sentinel, which every rule treats as unknown, so the
checks needing it are unverifiable, never passed."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

from keyguard_policies.values import UNREADABLE

from .clients import Unreadable


@dataclasses.dataclass
class Reading:
    type: str
    props: dict[str, Any] = dataclasses.field(default_factory=dict)
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)   # property -> why unreadable
    gone: str | None = None            # the resource no longer exists: why we think so
    not_compared: set[str] = dataclasses.field(default_factory=set)     # live values not comparable
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)   # ids and ARNs (discovery)

    @classmethod
    def unidentified(cls, type_: str, reason: str) -> "Reading":
        """The export does not say which live resource this is (never created, or ids missing): it
        counts as gone, so its checks are unverifiable rather than judged on nothing."""
        return cls(type_, gone=reason)

    def fill(self, names: tuple[str, ...] | list[str], read: Callable[[], dict[str, Any]],
             missing_is_gone: bool = False) -> bool:
        """Set `names` from `read()`; on failure mark them unreadable with the reason. A `missing`
        answer marks the whole resource gone when `missing_is_gone`. True when the read worked."""
        try:
            values = read()
        except Unreadable as err:
            if err.kind == "missing" and missing_is_gone:
                self.gone = err.reason
            for name in names:
                self.unreadable(name, err.reason)
            return False
        for name in names:
            if name in values:
                self.props[name] = values[name]
        return True

    def unreadable(self, name: str, reason: str) -> None:
        self.props[name] = UNREADABLE
        self.reasons[name] = reason


def as_json_text(document: Any) -> Any:
    """IAM and KMS answer documents as objects (boto3 decodes them) or strings; the export keeps
    them as JSON strings, so the live view does too."""
    if document is None or isinstance(document, str):
        return document
    return json.dumps(document, sort_keys=False)
