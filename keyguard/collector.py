"""Garbage collection for one audit. A state export parses into millions of small, acyclic
objects that live until the audit ends: every full collection would rescan all of them (a fifth
of a 10,000-resource audit) and free none. So the loader runs without the cycle collector, what it
built is then moved out of the collector's sight (`gc.freeze`, still freed by reference counting),
and the rules' short-lived garbage is collected in larger batches. Everything is restored after."""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator

# young objects between collections while the rules run (CPython's default is 700): the rules make
# few cycles (a caught exception and its frame) and keep most of what they build (parsed documents),
# which each pass would only move up a generation; acyclic garbage is freed at once regardless
EVALUATION_THRESHOLD = 100_000


@contextlib.contextmanager
def one_audit() -> Iterator[None]:
    """The collector's settings for the whole audit, as they were afterwards."""
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.set_threshold(EVALUATION_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        if enabled:
            gc.enable()


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Parsing makes no cycles: collect none while it runs, and never rescan what it built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
