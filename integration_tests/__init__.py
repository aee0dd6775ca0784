"""Integration tests: the design deployed on a real AWS emulator (moto server, LocalStack) and a real
dev-mode Vault server, started by the scripts in `localstack/`. Run: `pytest integration_tests`."""
