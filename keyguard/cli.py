"""`keyguard audit`: the policy pack's rules as an offline audit and pre-merge gate (SPEC:
`keyguard audit`). Exit 0 nothing blocks, 1 the gate fails, 2 usage or input error."""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
from pathlib import Path

from . import __version__
from .errors import UsageError

FORMATS = ("table", "json", "sarif", "junit", "markdown", "html")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits 2; we want one line
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="keyguard", description="Policy-as-code compliance for encryption-key storage "
                     "of AI applications on AWS with HashiCorp Vault.")
    parser.add_argument("--version", action="version", version=f"keyguard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    audit = commands.add_parser("audit", help="audit a stack and gate on the result")
    source = audit.add_mutually_exclusive_group()
    source.add_argument("--state", type=Path, metavar="FILE", help="a `pulumi stack export` file")
    source.add_argument("--preview", type=Path, metavar="FILE", help="a `pulumi preview --json` output")
    audit.add_argument("--stack-dir", type=Path, metavar="DIR", default=Path("stack"),
                       help="the Pulumi program run under mocks when no file is given (default: ./stack)")
    audit.add_argument("--stack", default="dev", help="stack config (Pulumi.<stack>.yaml) for the program")
    audit.add_argument("--config", type=Path, metavar="FILE", help="policy configuration (--policy-pack-config shape)")
    audit.add_argument("--format", action="append", metavar="FMT", dest="formats",
                       help=f"report format, repeatable: {', '.join(FORMATS)} (default: table)")
    audit.add_argument("--output", type=Path, metavar="DIR", help="write each non-table report to a file here")
    audit.add_argument("--fail-on", choices=("mandatory", "advisory", "never"), default="mandatory",
                       help="lowest enforcement level whose violations fail the gate (default: mandatory)")
    audit.add_argument("--allow-unverifiable", action="store_true",
                       help="do not fail the gate on mandatory checks that cannot be verified")
    audit.add_argument("--live", action="store_true",
                       help="audit the deployed configuration read from AWS and Vault (read-only); with --state "
                            "the export's resources and drift from it, else every resource discovered")
    audit.add_argument("--fail-on-drift", action="store_true",
                       help="with --live: drift from the export fails the gate")
    audit.add_argument("--live-workers", type=int, metavar="N",
                       help="with --live: parallel reads (default: KEYGUARD_LIVE_WORKERS or 8)")
    audit.add_argument("--no-color", action="store_true", help="plain terminal output")
    commands.add_parser("policies", help="list the policy catalog")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "policies":
            return _list_policies()
        return _audit(args)
    except UsageError as err:
        print(f"keyguard: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("keyguard: interrupted", file=sys.stderr)
        return 2
    except Exception as err:  # never a traceback, never a pass
        if os.environ.get("KEYGUARD_DEBUG"):
            raise
        print(f"keyguard: internal error: {type(err).__name__}: {err} (set KEYGUARD_DEBUG=1 for details)",
              file=sys.stderr)
        return 2


def _formats(args) -> list[str]:
    formats = args.formats or ["table"]
    for fmt in formats:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    formats = list(dict.fromkeys(formats))
    files = [f for f in formats if f != "table"]
    if args.output is None and (len(files) > 1 or (files and "table" in formats)):
        raise UsageError("several formats share stdout: give --output DIR")
    if args.output is not None and args.output.exists() and not args.output.is_dir():
        raise UsageError(f"{args.output}: exists and is not a directory")
    return formats


def _settings(path: Path | None):
    from keyguard_policies import catalog
    from .sources.files import read_json
    if path is None:
        return catalog.resolve(None)
    data = read_json(path)
    if not isinstance(data, dict):
        raise UsageError(f"{path}: policy configuration must be a JSON object")
    try:
        return catalog.resolve(data)
    except catalog.ConfigError as err:
        raise UsageError(f"{path}: {err}") from None


def _audit(args) -> int:
    from .collector import one_audit
    from .progress import Progress
    if args.live and args.preview:
        raise UsageError("--live reads what is deployed: combine it with --state, not --preview")
    if not args.live and (args.fail_on_drift or args.live_workers is not None):
        raise UsageError(f"{'--fail-on-drift' if args.fail_on_drift else '--live-workers'} needs --live")
    formats = _formats(args)
    settings = _settings(args.config)
    progress = Progress(enabled=sys.stderr.isatty())
    with one_audit():
        try:
            result, secrets = _run(args, settings, progress)
            rendered = _render(result, formats, secrets, color=sys.stdout.isatty() and not args.no_color)
        finally:
            progress.done()
        _write(rendered, formats, args.output)
    return 0 if result.passed else 1


def _run(args, settings, progress):
    from keyguard_policies.engine import evaluate
    from keyguard_policies.model import Stack
    from .collector import loading
    from .result import AuditResult, Source
    from .sources import files

    secrets: dict[str, set[str]] = {}
    stack_files: dict[str, str] = {}
    live = None
    if args.live:
        resources, source, live = _live(args, secrets, progress)
    elif args.state or args.preview:
        path = args.state or args.preview
        kind = "state" if args.state else "preview"
        loader = files.load_state if args.state else files.load_preview
        with progress.task(f"reading {path.name}") as tick, loading():
            resources, stack_name = loader(path, secrets, tick)
        source = Source(kind, _shown(path), stack_name)
    else:
        resources, stack_name = _program(args, progress)
        source = Source("program", _shown(args.stack_dir), stack_name)
        from .locate import declarations
        stack_files = declarations([r.urn for r in resources], args.stack_dir, Path.cwd())
    stack = Stack(resources)
    with progress.task("checking policies", total=len(settings)) as tick:
        outcomes = evaluate(stack, settings, progress=lambda name: tick(None))
    drift = []
    if live is not None:
        from .sources.live import annotate, gap_findings
        for outcome in outcomes:
            outcome.findings = annotate(outcome.findings, live.reasons) + gap_findings(outcome.name, live.gaps)
        drift = live.drift
    result = AuditResult(source=source, resource_count=len(stack), outcomes=outcomes, settings=settings,
                         config_path=str(args.config) if args.config else None, fail_on=args.fail_on,
                         allow_unverifiable=args.allow_unverifiable, stack_files=stack_files,
                         drift=drift, fail_on_drift=args.fail_on_drift)
    return _redacted(result, secrets)


def _live(args, secrets: dict[str, set[str]], progress):
    """The live view: the export's resources as deployed, or everything discovered."""
    from .collector import loading
    from .result import Source
    from .sources import files, live
    from .sources.live.clients import workers_from
    workers = workers_from(args.live_workers)
    declared, stack_name, path = None, live.LIVE_STACK, ""
    if args.state:
        with progress.task(f"reading {args.state.name}") as tick, loading():
            declared, stack_name = files.load_state(args.state, secrets, tick)
        path = _shown(args.state)
    audit = live.run(declared, workers, progress)
    source = Source("live", path, stack_name, aws=audit.aws, vault=audit.vault)
    return audit.resources, source, audit


def _shown(path: Path) -> str:
    """Paths inside the working directory (the repository in CI) are reported relative to it,
    so SARIF locations resolve on code-scanning services."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _program(args, progress):
    from .sources.program import run_program
    stack_dir = args.stack_dir
    if not (stack_dir / "__main__.py").is_file() or not (stack_dir / "Pulumi.yaml").is_file():
        raise UsageError(f"{stack_dir}: not a Pulumi Python program (needs Pulumi.yaml and __main__.py)")
    with progress.task("running the program under Pulumi mocks"):
        try:
            resources = [r for r in run_program(stack_dir, args.stack)
                         if not r.type.startswith("pulumi:providers:")]
        except UsageError:
            raise
        except Exception as err:
            raise UsageError(f"{stack_dir}: the program failed under mocks: {type(err).__name__}: {err}") from None
    return resources, args.stack


def _redacted(result, secrets: dict[str, set[str]]):
    """Secret inputs are decrypted only to be judged; no report ever shows them. On a resource
    that carries secrets, a message or evidence that quotes any part of one is withheld."""
    from .redact import scrub
    if not secrets:
        return result, set()
    everything = set().union(*secrets.values())
    result.drift = [_scrubbed_drift(d, secrets.get(d.urn, ()), everything) for d in result.drift]
    for outcome in result.outcomes:
        outcome.findings = [dataclasses.replace(f, message=scrub(f.message, secrets.get(f.urn, ()), everything),
                                                evidence=scrub(f.evidence, secrets.get(f.urn, ()), everything))
                            for f in outcome.findings]
    return result, everything


def _scrubbed_drift(drift, resource_secrets, everything):
    """Declared values come from the export, which may carry decrypted secrets: never shown."""
    import json

    from .redact import scrub

    def clean(value):
        text = value if isinstance(value, str) else json.dumps(value)
        cleaned = scrub(text, resource_secrets, everything)
        return value if cleaned == text else cleaned
    return dataclasses.replace(drift, declared=clean(drift.declared), live=clean(drift.live),
                               message=scrub(drift.message, resource_secrets, everything))


def _render(result, formats, secrets: set[str], color: bool) -> dict[str, str]:
    from .reports import FORMATS as RENDERERS
    rendered = {}
    for fmt in formats:
        if fmt == "table":
            width = min(shutil.get_terminal_size((100, 24)).columns, 120) if sys.stdout.isatty() else 100
            rendered[fmt] = RENDERERS[fmt](result, color=color, width=width)
        else:
            rendered[fmt] = RENDERERS[fmt](result)
        for secret in secrets:  # belt and braces: a leak is a bug, never shipped
            if len(secret) >= 6 and secret in rendered[fmt]:
                raise RuntimeError(f"the {fmt} report would contain a secret value; refusing to write it")
    return rendered


def _write(rendered: dict[str, str], formats: list[str], output: Path | None) -> None:
    """All reports are rendered before any is written, and each file appears whole or not at all."""
    from .reports import FILENAMES
    if output is not None:
        import tempfile  # only here: reports to stdout need no temporary files (a few ms at start-up)
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"{output}: cannot create directory ({err.strerror})") from None
        for fmt in formats:
            if fmt == "table":
                continue
            target = output / FILENAMES[fmt]
            fd, tmp = tempfile.mkstemp(dir=output, prefix=f".{FILENAMES[fmt]}.")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(rendered[fmt])
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are for others to read
            os.replace(tmp, target)
    for fmt in formats:
        if fmt == "table" or output is None:
            sys.stdout.write(rendered[fmt])
    sys.stdout.flush()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _list_policies() -> int:
    from keyguard_policies import catalog
    for info in catalog.policies().values():
        print(f"{info.name:40} {info.enforcement:9} {info.severity:8} {info.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
