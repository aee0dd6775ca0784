"""Read-only copies of parsed JSON for the caches the rules share. pulumi-policy serves Analyze on
a pool of threads and parsed documents are cached across resources, so a rule must never be able
to change what another call sees. The types stay `dict` and `list` subclasses, so `isinstance`
checks, `json.dumps` and equality work as before; every mutating method raises."""
from __future__ import annotations

from typing import Any


class ReadOnlyError(TypeError):
    """A rule tried to change a shared, cached value."""


def _refuse(self, *args, **kwargs):
    raise ReadOnlyError(f"{type(self).__name__} is shared between rules and threads; copy it before changing it")


class FrozenDict(dict):
    """A dict no one can change after it is built."""
    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self):  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=repr)))

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


class FrozenList(list):
    """A list no one can change after it is built."""
    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __hash__(self):  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self):
        return (FrozenList, (list(self),))


EMPTY = FrozenDict()


_CONTAINERS = (dict, list)
_set_item, _set_index = dict.__setitem__, list.__setitem__


def freeze(value: Any) -> Any:
    """`value` with every dict and list (however deep) replaced by a read-only copy."""
    kind = type(value)
    # copied whole at C speed, then only the nested containers replaced (strings, most of a
    # policy document, cost no call)
    if kind is dict:
        out = FrozenDict(value)
        for k, v in value.items():
            if type(v) is not str and isinstance(v, _CONTAINERS):
                _set_item(out, k, freeze(v))
        return out
    if kind is list:
        out = FrozenList(value)
        for i, v in enumerate(value):
            if type(v) is not str and isinstance(v, _CONTAINERS):
                _set_index(out, i, freeze(v))
        return out
    if kind is FrozenDict or kind is FrozenList:
        return value
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList([freeze(v) for v in value])
    return value


def thaw(value: Any) -> Any:
    """A private, changeable copy of a (possibly frozen) value."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    return value
