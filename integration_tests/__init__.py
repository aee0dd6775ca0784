"""Integration tests: the stack (`stack/`) deployed by the real Pulumi CLI (`pulumi up --policy-pack`,
keyguard's offline toolchain) on a real AWS emulator (moto server, LocalStack) and a real dev-mode
Vault server, started by the scripts in `localstack/`. Run: `pytest integration_tests`."""
import sys
from pathlib import Path

try:  # installed by `pip install -e .` (pyproject maps keyguard_stack); else straight from stack/
    import keyguard_stack  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the project was installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "stack"))
