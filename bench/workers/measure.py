"""Run one command and report its wall time and peak memory, from a fresh process whose only
child is that command, so `getrusage(RUSAGE_CHILDREN).ru_maxrss` is the command's own peak RSS.

    python measure.py STDOUT_FILE -- COMMAND [ARG...]

Prints one JSON line: {"seconds", "max_rss_kib", "returncode", "stderr"}. Standalone: imports
nothing from the benchmark package."""
import json
import resource
import subprocess
import sys
import time


def main(argv):
    stdout_path = argv[0]
    command = argv[argv.index("--") + 1:]
    with open(stdout_path, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        _, stderr = process.communicate()
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": seconds, "max_rss_kib": usage.ru_maxrss, "returncode": process.returncode,
                      "stderr": stderr.decode("utf-8", "replace")[-2000:]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
