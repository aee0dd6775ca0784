"""Drive a CrossGuard policy pack over the analyzer gRPC protocol exactly as the Pulumi CLI does:
start `python -u -m pulumi.policy <engine-address> <pack-dir>` in the pack directory, read the
port it prints, then call GetAnalyzerInfo, Configure, Analyze, AnalyzeStack and Remediate.
Used by the tests and the benchmarks; it needs no Pulumi CLI."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from keyguard_policies.model import Resource

LEVELS = {"advisory": 0, "mandatory": 1, "disabled": 2, "remediate": 3}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


class PackProcess:
    """A running pack. Use as a context manager; `startup_seconds` is spawn-to-port time."""

    def __init__(self, pack_dir: Path, python: str = sys.executable, timeout: float = 60.0):
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        self.pack_dir = Path(pack_dir).resolve()
        compile_pack(self.pack_dir, python)
        started = time.perf_counter()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."], cwd=self.pack_dir,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        line = self._read_port_line(timeout)
        self.startup_seconds = time.perf_counter() - started
        self.port = int(line)
        self._started = started
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=timeout)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _read_port_line(self, timeout: float) -> str:
        import selectors
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            self.close()
            raise RuntimeError(f"policy pack printed no port within {timeout:.0f} s")
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            err = self.process.stderr.read() if self.process.poll() is not None else ""
            self.close()
            raise RuntimeError(f"policy pack did not start: {line!r} {err[-2000:]}")
        return line

    def seconds_since_spawn(self) -> float:
        return time.perf_counter() - self._started

    # --- the calls the CLI makes -------------------------------------------------------
    def info(self):
        from google.protobuf import empty_pb2
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def configure(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        """`config`: policy name -> {"enforcementLevel": "...", <param>: value} (already merged
        with the schema defaults, as the CLI sends it)."""
        from google.protobuf import struct_pb2
        from pulumi.runtime.proto import analyzer_pb2
        policy_config = {}
        for name, values in config.items():
            properties = struct_pb2.Struct()
            properties.update({k: v for k, v in values.items() if k != "enforcementLevel"})
            policy_config[name] = analyzer_pb2.PolicyConfig(
                enforcementLevel=LEVELS[values["enforcementLevel"]], properties=properties)
        self.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config))

    def analyze(self, resource: Resource):
        return self.stub.Analyze(self._request(resource))

    def remediate(self, resource: Resource):
        return self.stub.Remediate(self._request(resource))

    def analyze_stack(self, resources: Iterable[Resource]):
        from pulumi.runtime.proto import analyzer_pb2
        return self.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type, properties=_struct(r.props), urn=r.urn, name=r.name,
                dependencies=list(r.dependencies),
                propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                                      for k, v in r.property_dependencies.items()})
            for r in resources]))

    def _request(self, resource: Resource):
        from pulumi.runtime.proto import analyzer_pb2
        return analyzer_pb2.AnalyzeRequest(type=resource.type, properties=_struct(resource.props),
                                           urn=resource.urn, name=resource.name)

    def close(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()

    def __enter__(self) -> "PackProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def compile_pack(pack_dir: Path, python: str = sys.executable) -> None:
    """Byte-compile the pack's own modules with the python that will run it (what the toolchain
    does before the real CLI starts the pack, and the bench before a timed start): where
    PYTHONDONTWRITEBYTECODE is set nothing else would, and every start would compile them again.
    Only stale files are rewritten; a failure here only costs start-up time."""
    packages = [str(p) for p in sorted(Path(pack_dir).iterdir()) if p.is_dir() and (p / "__init__.py").exists()]
    if not packages:
        return
    if python == sys.executable:
        import compileall
        for package in packages:
            compileall.compile_dir(package, quiet=1)
    else:
        subprocess.run([python, "-m", "compileall", "-q", *packages], capture_output=True)


def merged_config(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """What the CLI sends through Configure: every policy, its level and schema defaults, with
    the user's overrides merged in."""
    from keyguard_policies import catalog
    config = {}
    for name, info in catalog.policies().items():
        config[name] = {"enforcementLevel": info.enforcement, **info.defaults()}
        config[name].update((overrides or {}).get(name, {}))
    return config


def _struct(props: Mapping[str, Any]):
    from google.protobuf import struct_pb2
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct
