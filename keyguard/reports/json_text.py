"""Indented JSON for the JSON and SARIF reports: byte for byte what `json.dumps(value, indent=2)`
writes, at C speed. With `indent` set the standard library encodes in pure Python, which made
writing the 180 MB report of a failing 10,000-resource audit take longer than the audit itself.
orjson (installed with policy_sentry) writes the same layout, escapes and key order for strings,
integers, booleans, null, objects and arrays of ASCII text; where it would write anything else
differently (non-ASCII text, floats, integers beyond 64 bits, keys that are not strings, types
json cannot encode) the value goes to `json.dumps` instead, so the text never depends on which
encoder ran."""
from __future__ import annotations

import json
from typing import Any

import orjson

def indented(value: Any) -> str:
    """`json.dumps(value, indent=2)`."""
    if _plain(value):
        try:
            text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        except TypeError:  # integers beyond 64 bits, keys that are not strings
            pass
        else:
            if text.isascii() and "\x7f" not in text:  # json escapes DEL and every non-ASCII character
                return text
    return json.dumps(value, indent=2)


def _plain(value: Any) -> bool:
    """Whether `value` holds only what both encoders write alike (checked without recursion)."""
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict or kind is list or kind is tuple:
            push(item.values() if kind is dict else item)
        elif isinstance(item, dict) and kind.items is dict.items:  # read-only dicts (frozen.py)
            push(item.values())
        elif isinstance(item, list) and kind.__iter__ is list.__iter__:  # read-only lists
            push(item)
        else:  # floats, str/int subclasses (enums), named tuples, anything json would refuse
            return False
    return True
