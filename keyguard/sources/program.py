"""Run a Pulumi program in-process under Pulumi's own test mocks and capture every resource it
registers, with its inputs, dependencies and property dependencies. Computed values (ids, ARNs)
are resolved to realistic, deterministic values so the policies see what `pulumi up` would send."""
from __future__ import annotations

import contextlib
import importlib
import logging
import runpy
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

from keyguard_policies.model import Resource

from .pulumi_config import project_name, stack_config

ACCOUNT_ID = "123456789012"
_NAMESPACE = uuid.UUID("6f1c2a52-3b1e-4a8e-9d4e-2f0b7c6d5e4a")


def _stable_id(urn: str, length: int = 12) -> str:
    return uuid.uuid5(_NAMESPACE, urn).hex[:length]


def resolved_outputs(type_: str, name: str, urn: str, inputs: dict[str, Any], region: str) -> tuple[str, dict]:
    """The id and outputs a provider would return, for the types of this design."""
    state = dict(inputs)
    if type_ == "aws:kms/key:Key":
        key_id = str(uuid.uuid5(_NAMESPACE, urn))
        state.update(keyId=key_id, arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}")
        return key_id, state
    if type_ == "aws:kms/alias:Alias":
        alias = inputs.get("name") or f"alias/{name}"
        state.update(name=alias, arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:{alias}")
        return alias, state
    if type_ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix') or name + '-'}{_stable_id(urn)}"
        state.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}", region=region)
        return bucket, state
    if type_.startswith("aws:iam/"):
        kind = type_.split(":")[-1].lower()
        resource_name = inputs.get("name") or f"{name}-{_stable_id(urn, 7)}"
        state.update(name=resource_name, arn=f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{resource_name}")
        return resource_name, state
    if type_ in ("vault:aws/secretBackend:SecretBackend", "vault:index/mount:Mount"):
        path = inputs.get("path") or "aws"
        state["path"] = path
        return path, state
    if type_ == "vault:aws/secretBackendRole:SecretBackendRole":
        state["name"] = inputs.get("name") or name
        return f"{inputs.get('backend')}/roles/{state['name']}", state
    if type_ == "vault:index/authBackend:AuthBackend":
        path = str(inputs.get("path") or inputs.get("type") or name).strip("/")
        state.update(path=path, accessor=f"auth_{inputs.get('type')}_{_stable_id(urn, 8)}")
        return path, state
    if type_ == "vault:appRole/authBackendRole:AuthBackendRole":
        # Vault generates the role id (a UUID) unless one is given; it is an identifier, not a secret.
        state["roleId"] = inputs.get("roleId") or str(uuid.uuid5(_NAMESPACE, urn))
        state["backend"] = inputs.get("backend") or "approle"
        return f"auth/{state['backend']}/role/{inputs.get('roleName')}", state
    if type_ == "vault:index/policy:Policy":
        state["name"] = inputs.get("name") or name
        return state["name"], state
    return f"{name}-{_stable_id(urn, 8)}", state


def _monitor_class():
    """Built lazily: importing pulumi costs ~0.2 s, which the state and preview sources never pay."""
    from google.protobuf import json_format
    from pulumi.runtime.mocks import MockMonitor

    class CapturingMonitor(MockMonitor):
        """Records what MockResourceArgs leaves out: dependencies and property dependencies."""

        def __init__(self, mocks):
            super().__init__(mocks)
            self.captured: list[Resource] = []

        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                registration = self.resources[response.urn]
                self.captured.append(Resource(
                    urn=_engine_urn(response.urn), type=request.type,
                    props=json_format.MessageToDict(request.object),
                    outputs=dict(registration.state),
                    dependencies=tuple(_engine_urn(u) for u in request.dependencies),
                    property_dependencies={k: tuple(_engine_urn(u) for u in v.urns)
                                           for k, v in request.propertyDependencies.items()},
                ))
            return response

    return CapturingMonitor


def _engine_urn(urn: str) -> str:
    """The mock monitor prefixes children of the root stack with its type; the engine does not."""
    return urn.replace("::pulumi:pulumi:Stack$", "::", 1)


def run_program(stack_dir: Path, stack: str = "dev", outputs: dict | None = None) -> list[Resource]:
    """Execute `<stack_dir>/__main__.py` under mocks with the stack's config; return its resources."""
    import pulumi
    from pulumi.runtime import settings as runtime_settings

    stack_dir = Path(stack_dir).resolve()
    config = stack_config(stack, stack_dir)
    region = str(config.get("aws:region") or "us-east-1")

    class DesignMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            urn = f"urn:pulumi:{stack}::{project}::{args.typ}::{args.name}"
            return resolved_outputs(args.typ, args.name, urn, args.inputs, region)

        def call(self, args: pulumi.runtime.MockCallArgs):
            if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
                return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/keyguard",
                        "userId": "AIDAKEYGUARD"}, None
            if args.token == "aws:index/getPartition:getPartition":
                return {"partition": "aws", "dnsSuffix": "amazonaws.com"}, None
            if args.token == "aws:index/getRegion:getRegion":
                return {"name": region, "region": region}, None
            return {}, None

    project = project_name(stack_dir)
    monitor = _monitor_class()(DesignMocks())
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_all_config({k: _config_text(v) for k, v in config.items()}, [])
    pulumi.runtime.set_mocks(DesignMocks(), project=project, stack=stack, preview=False, monitor=monitor,
                             logger=logging.getLogger("keyguard.program"))

    exports: dict[str, Any] = {}

    def body():
        runpy.run_path(str(stack_dir / "__main__.py"), run_name="__main__")
        root = runtime_settings.get_root_resource()
        stack_exports = dict(getattr(root, "outputs", {}) or {})
        return pulumi.Output.all(**stack_exports).apply(exports.update) if stack_exports else None

    with _program_modules(stack_dir), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pulumi.runtime.test(body)()
    if outputs is not None:
        outputs.update(exports)
    return list(monitor.captured)


def local_modules(stack_dir: Path) -> set[str]:
    """Top-level modules and packages the program can import from its own directory."""
    names = set()
    for entry in stack_dir.iterdir():
        if entry.is_dir() and entry.name.isidentifier() and (entry / "__init__.py").is_file():
            names.add(entry.name)
        elif entry.suffix == ".py" and entry.stem.isidentifier() and entry.stem != "__main__":
            names.add(entry.stem)
    return names


@contextlib.contextmanager
def _program_modules(stack_dir: Path):
    """Make the program under `stack_dir`, and nothing else, what runs: its own modules are
    imported from `stack_dir` even when a copy of them is installed or already imported (a
    pre-commit hook's environment, `pip install .`), and every module of the program is forgotten
    afterwards, so the next run (another directory, the same one edited) imports its own files."""
    names = local_modules(stack_dir)

    def ours(module: str) -> bool:
        return module.split(".", 1)[0] in names

    stashed = {m: sys.modules.pop(m) for m in list(sys.modules) if ours(m)}
    sys.path.insert(0, str(stack_dir))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(stack_dir))
        for module in [m for m in sys.modules if ours(m)]:
            del sys.modules[module]
        sys.modules.update(stashed)


def _config_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json
        return json.dumps(value)
    return str(value)
