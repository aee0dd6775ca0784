"""`python -m bench.live`: `keyguard audit --live` against a moto server started here.

1. The stack (`stack/`) deployed by the real CLI, `pulumi up --policy-pack policy_pack` through the
   offline toolchain (built or reused), on that moto server and a dev Vault (the cached build);
   with --quick or --no-vault only its AWS resources are deployed (`pulumi up --target`, no Vault;
   without the pack, which would judge the skipped Vault resources from their empty old state).
   Audited with `keyguard audit --live --state` of `pulumi stack export`: wall time of the whole
   command (interpreter start-up included), best and median of several runs. Target < 2 s.
2. Discovery (`keyguard audit --live`, no export) over N buckets and N KMS keys for growing N
   (default 100, 300, 1000): wall time and time per resource. Target < 30 s at 1,000 of each.

Results go to bench/results/live.json (and a table on stdout)."""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "bench" / "results" / "live.json"
FULL_SIZES = (100, 300, 1000)
QUICK_SIZES = (5, 15)
DESIGN_TARGET_S = 2.0
DISCOVERY_TARGET_S = 30.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _keyguard(args: list[str], env: dict[str, str], ok=(0, 1)) -> tuple[float, dict]:
    """Wall time of one `keyguard audit` (interpreter start-up included) and its report; the
    command's own CPU time is added to the report as `_cpu_seconds`."""
    command = [str(Path(sys.executable).with_name("keyguard")), "audit", *args, "--format", "json"]
    if not Path(command[0]).is_file():
        command[:1] = [sys.executable, "-m", "keyguard"]
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        raise SystemExit(f"bench.live: {' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-800:]}")
    report = json.loads(done.stdout)
    report["_cpu_seconds"] = _children_cpu() - cpu
    return seconds, report


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants, from /proc: the emulator's
    own share of a measurement."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {pid}, [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(p, 0.0) for p in tree)


def _populate(endpoint: str, region: str, start: int, stop: int, prefix: str) -> None:
    """Buckets and keys [start, stop): each bucket encrypted with its key, as the design's."""
    from integration_tests import clients
    from integration_tests.harness import BOOTSTRAP
    kms = clients.aws_client("kms", endpoint, BOOTSTRAP, region)
    s3 = clients.aws_client("s3", endpoint, BOOTSTRAP, region)

    def one(i: int) -> None:
        key = kms.create_key()["KeyMetadata"]
        kms.enable_key_rotation(KeyId=key["KeyId"])
        bucket = f"{prefix}-{i:05d}"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
            "BucketKeyEnabled": True}]})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(start, stop)))


#: The program's AWS resources (type, name): what `--target` deploys when there is no Vault.
AWS_RESOURCES = (("aws:kms/key:Key", "ai-app-kms-key"), ("aws:kms/alias:Alias", "ai-app-kms-alias"),
                 ("aws:s3/bucket:Bucket", "ai-app-data"),
                 ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                  "ai-app-data-encryption"),
                 ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "ai-app-data-public-access"),
                 ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ai-app-data-ownership"),
                 ("aws:iam/policy:Policy", "vault-user-boundary"))


def _deploy(workdir: Path, endpoint: str, vault: Any, log) -> Path:
    """`pulumi up --policy-pack policy_pack` of stack/ on the emulator (and Vault); its export's path.
    moto cannot evaluate the TLS-only bucket policy's condition: deployed without it, as in the
    integration suite (keyguard:tlsOnlyBucketPolicy=false)."""
    from integration_tests import pulumi_cli, stack_deploy
    from integration_tests.harness import BOOTSTRAP
    log("building or reusing the offline Pulumi toolchain ...")
    ws = stack_deploy.workspace(workdir / "stack", pulumi_cli.prepare_toolchain(), endpoint=endpoint,
                                region="us-east-1", credentials=BOOTSTRAP,
                                vault_address=vault.address if vault else "", vault_token=vault.token if vault else "",
                                vault_mount_type=vault.aws_mount_type if vault else "aws", vault_root=BOOTSTRAP,
                                names=stack_deploy.StackNames(), tls_only_bucket_policy=False)
    targets: list[str] = []
    if vault is None:
        targets = [arg for type_, name in AWS_RESOURCES
                   for arg in ("--target", f"urn:pulumi:{ws.stack_name}::keyguard::{type_}::{name}")]
    log("pulumi up of the stack ...")
    stack_deploy.up(ws, *targets, policy=vault is not None)
    export = workdir / "design-export.json"
    export.write_text(json.dumps(stack_deploy.export(ws)))
    return export


def _design(workdir: Path, region: str, with_vault: bool, runs: int, workers: int, log) -> dict[str, Any]:
    from integration_tests import servers
    from integration_tests.harness import BOOTSTRAP, start_own_vault
    moto = servers.start_moto(workdir)
    vault = None
    try:
        env = {**os.environ, "AWS_ENDPOINT_URL": moto.url, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
               "AWS_ACCESS_KEY_ID": BOOTSTRAP.access_key_id, "AWS_SECRET_ACCESS_KEY": BOOTSTRAP.secret_access_key,
               "KEYGUARD_LIVE_WORKERS": str(workers)}
        env.pop("VAULT_ADDR", None)
        if with_vault:
            vault = start_own_vault(servers.build_vault(), workdir)
            env.update(VAULT_ADDR=vault.address, VAULT_TOKEN=vault.token)
        export_path = _deploy(workdir, moto.url, vault, log)
        times, cpus, report = [], [], {}
        for _ in range(runs):
            seconds, report = _keyguard(["--live", "--state", str(export_path)], env)
            times.append(seconds)
            cpus.append(report["_cpu_seconds"])
        return {"seconds": min(times), "median_seconds": statistics.median(times),
                "runs": [round(t, 3) for t in times], "keyguard_cpu_seconds": round(min(cpus), 3),
                "resources": report["summary"]["resources"],
                "passed": report["summary"]["passed"], "drift": report["summary"]["drift"],
                "vault": with_vault, "deployed_by": "pulumi up"}
    finally:
        moto.stop()
        if vault is not None and vault.server is not None:
            vault.server.stop()


def _discovery(workdir: Path, region: str, sizes: list[int], workers: int, log) -> list[dict[str, Any]]:
    from integration_tests import servers
    from integration_tests.harness import BOOTSTRAP
    moto = servers.start_moto(workdir)
    env = {**os.environ, "AWS_ENDPOINT_URL": moto.url, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
           "AWS_ACCESS_KEY_ID": BOOTSTRAP.access_key_id, "AWS_SECRET_ACCESS_KEY": BOOTSTRAP.secret_access_key,
           "KEYGUARD_LIVE_WORKERS": str(workers)}
    env.pop("VAULT_ADDR", None)
    points, made = [], 0
    try:
        for size in sizes:
            log(f"creating buckets and keys up to {size} ...")
            _populate(moto.url, region, made, size, "bench-data")
            made = size
            moto_cpu = _tree_cpu(moto.process.pid)
            seconds, report = _keyguard(["--live"], env)
            moto_cpu = _tree_cpu(moto.process.pid) - moto_cpu
            judged = report["summary"]["resources"]
            points.append({"buckets_and_keys": size, "resources_judged": judged, "seconds": round(seconds, 3),
                           "keyguard_cpu_seconds": round(report["_cpu_seconds"], 3),
                           "emulator_cpu_seconds": round(moto_cpu, 3),
                           "ms_per_resource": round(1000 * seconds / max(judged, 1), 3),
                           "violations": report["summary"]["violations"]})
            log(f"{size} buckets + {size} keys: {seconds:.2f} s ({judged} resources)")
    finally:
        moto.stop()
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, one run, no Vault")
    parser.add_argument("--sizes", help=f"comma-separated discovery sizes (default {FULL_SIZES})")
    parser.add_argument("--runs", type=int, default=5, help="runs of the design audit (default 5)")
    parser.add_argument("--workers", type=int, default=8, help="--live-workers (default 8)")
    parser.add_argument("--no-vault", action="store_true", help="the design without its Vault part")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")}) if args.sizes else list(QUICK_SIZES if args.quick
                                                                                     else FULL_SIZES)
    with_vault = not (args.no_vault or args.quick)

    def log(message: str) -> None:
        print(f"bench.live: {message}", file=sys.stderr, flush=True)

    region = "us-east-1"
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="keyguard-bench-live-") as tmp:
        workdir = Path(tmp)
        log("live audit of the design ...")
        design = _design(workdir, region, with_vault, 1 if args.quick else args.runs, args.workers, log)
        discovery = _discovery(workdir, region, sizes, args.workers, log)
    largest = discovery[-1]
    figures = {
        "live_design_seconds": {"value": round(design["seconds"], 3), "median": round(design["median_seconds"], 3),
                                "target": f"< {DESIGN_TARGET_S} s", "met": design["seconds"] < DESIGN_TARGET_S},
        "live_discovery_seconds": {"value": largest["seconds"], "at": largest["buckets_and_keys"],
                                   "target": f"< {DISCOVERY_TARGET_S} s at 1000",
                                   "met": largest["seconds"] < DISCOVERY_TARGET_S
                                   if largest["buckets_and_keys"] >= 1000 else None},
    }
    results = {"benchmark": "keyguard live", "mode": "quick" if args.quick else "full", "workers": args.workers,
               "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
               "design": design, "discovery": discovery, "figures": figures}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"live audit of the design ({'with' if design['vault'] else 'without'} Vault, {design['resources']} "
          f"resources): best {design['seconds']:.2f} s, median {design['median_seconds']:.2f} s, keyguard's own CPU "
          f"{design['keyguard_cpu_seconds']:.2f} s (target < {DESIGN_TARGET_S} s; load average {os.getloadavg()[0]:.1f})")
    print("discovery (buckets + keys each):")
    for point in discovery:
        print(f"  {point['buckets_and_keys']:>5}: {point['seconds']:7.2f} s, {point['resources_judged']:>5} "
              f"resources, {point['ms_per_resource']:.2f} ms/resource, CPU: keyguard "
              f"{point['keyguard_cpu_seconds']:.2f} s, moto {point['emulator_cpu_seconds']:.2f} s")
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
