"""keyguard's own offline Pulumi providers `aws` and `vault` (see toolchain/build.sh)."""
