"""One session-scoped run of the built-in program under Pulumi's mocks: two modules that each
set mocks and import the program would break each other."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def program():
    """(resources, exports) of the built-in stack, captured under mocks with the dev config."""
    from keyguard.sources.program import run_program
    exports: dict = {}
    resources = run_program(REPO / "stack", "dev", outputs=exports)
    return resources, exports


@pytest.fixture(scope="session")
def program_resources(program):
    return program[0]
