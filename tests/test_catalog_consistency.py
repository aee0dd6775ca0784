"""The catalog, the rule modules, their tests and the README's policy table agree, whatever
policies are added: every module in policies/ has its entry in data/policies.json and a test file
tests/policies/test_<module>.py, and vice versa; the README's table is the one generated from the
catalog (`python -m keyguard_policies.readme_table --write README.md` regenerates it)."""
from __future__ import annotations

from pathlib import Path

import keyguard_policies
from keyguard_policies import catalog, readme_table
from keyguard_policies.policies import RULES

from .conftest import REPO

POLICY_DIR = Path(keyguard_policies.__file__).parent / "policies"
TEST_DIR = REPO / "tests" / "policies"


def _modules() -> set[str]:
    return {p.stem for p in POLICY_DIR.glob("*.py") if p.stem != "__init__"}


def test_every_module_has_a_catalog_entry_and_every_entry_a_module():
    assert _modules() == {name.replace("-", "_") for name in catalog.policies()}


def test_every_module_names_its_catalog_entry():
    for name, rule in RULES.items():
        assert rule.module.__name__.rsplit(".", 1)[-1] == name.replace("-", "_")
        assert rule.NAME == name


def test_every_module_has_a_test_file_and_every_test_file_a_module():
    tests = {p.stem.removeprefix("test_") for p in TEST_DIR.glob("test_*.py")}
    assert tests == _modules()


def test_readme_policy_table_is_generated_from_the_catalog():
    assert readme_table.main(["--check", str(REPO / "README.md")]) == 0


def test_a_readme_table_that_differs_is_caught(tmp_path):
    lines = (REPO / "README.md").read_text().split("\n")
    first, end = readme_table.find(lines)
    assert end - first == len(catalog.policies()) + 2
    for broken in (lines[:end - 1] + lines[end:],                                   # a row missing
                   lines[:first + 2] + [lines[first + 2].replace("mandatory", "advisory", 1)] + lines[first + 3:]):
        readme = tmp_path / "README.md"
        readme.write_text("\n".join(broken))
        assert readme_table.main(["--check", str(readme)]) == 1
        assert readme_table.main(["--write", str(readme)]) == 0
        assert readme_table.main(["--check", str(readme)]) == 0
        assert readme.read_text() == (REPO / "README.md").read_text()
