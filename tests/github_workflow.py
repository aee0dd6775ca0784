"""Replays a GitHub Actions job on this machine, for tests/test_ecosystem.py: each step's `if:`
is evaluated as GitHub would (the subset of the expression language the workflow uses), `run:`
steps execute with GitHub's default shell (`bash --noprofile --norc -eo pipefail`) and the
GITHUB_* environment of a runner, and `uses:` steps are only recorded (due to run or skipped): the
test puts what they would install on PATH itself. The job fails as on GitHub: when a step that is not
`continue-on-error` fails."""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable, Mapping

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>&&|\|\||==|!=|!|\(|\)|,)|(?P<num>\d+)"
                    r"|(?P<name>[A-Za-z_][\w-]*(?:\.[\w-]+)*))")
_LITERALS = {"true": "True", "false": "False", "null": "None"}


def evaluate(expression: str, context: Mapping[str, Any], functions: Mapping[str, Callable]) -> Any:
    """Value of a GitHub expression (`${{ ... }}` optional) over `context` (github, env, secrets)."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    source, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"unsupported expression at {text[position:]!r}")
        position = match.end()
        kind, value = match.lastgroup, match.group(match.lastgroup)
        if kind == "str":
            source.append(repr(value[1:-1].replace("''", "'")))
        elif kind == "op":
            source.append({"&&": " and ", "||": " or ", "!": " not "}.get(value, value))
        elif kind == "num":
            source.append(value)
        elif text[position:].lstrip().startswith("("):
            source.append(f"_fn[{value!r}]")
        else:
            source.append(_LITERALS.get(value, f"_ctx({value!r})"))

    def lookup(path: str) -> Any:
        node: Any = context
        for part in path.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return node

    return eval("".join(source), {"__builtins__": {}}, {"_fn": functions, "_ctx": lookup})  # noqa: S307


def interpolate(value: str, context: Mapping[str, Any], functions: Mapping[str, Callable]) -> str:
    """A string with `${{ ... }}` parts replaced by their values (null is the empty string)."""
    def one(match: re.Match) -> str:
        result = evaluate(match.group(1), context, functions)
        return "" if result is None else str(result)
    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


@dataclasses.dataclass
class StepResult:
    name: str
    ran: bool                 # the `if:` held
    returncode: int | None    # None: a `uses:` step (due to run, not executed)
    stdout: str = ""
    stderr: str = ""


@dataclasses.dataclass
class JobResult:
    steps: list[StepResult]
    succeeded: bool

    def step(self, fragment: str) -> StepResult:
        [found] = [s for s in self.steps if fragment in s.name]
        return found


def step_name(step: Mapping[str, Any]) -> str:
    return step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]


def run_job(job: Mapping[str, Any], workspace: Path, github: Mapping[str, Any], *, secrets: Mapping[str, str] = {},
            path: list[Path] = (), timeout: float = 900) -> JobResult:
    """Run `job` (the parsed YAML of one job) in `workspace` as a runner would for event `github`."""
    runner = workspace.parent / "runner"
    runner.mkdir(exist_ok=True)
    files = {name: runner / name for name in ("step_summary.md", "output", "env")}
    for file in files.values():
        file.touch()
    context: dict[str, Any] = {"github": dict(github), "secrets": dict(secrets), "env": {}}
    succeeded = True
    functions = {
        "success": lambda: succeeded, "failure": lambda: not succeeded, "always": lambda: True,
        "cancelled": lambda: False,
        "hashFiles": lambda *patterns: "hash" if any(p.is_file() for pattern in patterns
                                                     for p in workspace.glob(pattern)) else "",
    }
    context["env"] = {k: interpolate(str(v), context, functions) for k, v in (job.get("env") or {}).items()}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "VIRTUAL_ENV", "PYTHONPATH"))}
    base_env.update({
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_EVENT_NAME": github["event_name"], "GITHUB_REPOSITORY": github["repository"],
        "GITHUB_STEP_SUMMARY": str(files["step_summary.md"]), "GITHUB_OUTPUT": str(files["output"]),
        "GITHUB_ENV": str(files["env"]), "RUNNER_TEMP": str(runner),
        "PATH": os.pathsep.join([*map(str, path), os.environ["PATH"]]),
    })
    results = []
    for step in job["steps"]:
        name = step_name(step)
        condition = step.get("if", "success()")
        ran = bool(evaluate(str(condition), context, functions)) if not isinstance(condition, bool) else condition
        if not ran:
            results.append(StepResult(name, False, None))
            continue
        env = {**base_env, **context["env"],
               **{k: interpolate(str(v), context, functions) for k, v in (step.get("env") or {}).items()}}
        if "run" in step:
            script = runner / "step.sh"
            script.write_text(step["run"])
            cwd = workspace / step.get("working-directory", ".")
            done = subprocess.run([shutil.which("bash"), "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                  cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
            result = StepResult(name, True, done.returncode, done.stdout, done.stderr)
        else:
            result = StepResult(name, True, None)
        results.append(result)
        if result.returncode not in (0, None) and not step.get("continue-on-error", False):
            succeeded = False
    return JobResult(results, succeeded)


def step_summary(workspace: Path) -> str:
    return (workspace.parent / "runner" / "step_summary.md").read_text()


def checkout(repo: Path, workspace: Path) -> Path:
    """What actions/checkout gives a job: the repository's files (tracked and new, not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = repo / name
        if source.is_file():
            target = workspace / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return workspace
