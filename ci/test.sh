#!/usr/bin/env bash
# Builds everything and runs every test: the native libraries through CMake with their
# kernel tests (ctest) — linux-x86_64 (CPU), linux-x86_64-cuda (when a CUDA toolkit is at
# /usr/local/cuda and -Dmamba4j.cuda is not OFF), linux-aarch64 (cross-compiled, tests under
# qemu-user) — the native jars and mamba4j-natives-all, then the Java modules and JUnit.
# Usage: ci/test.sh [extra maven args]    (MAMBA4J_CI_AARCH64=OFF leaves linux-aarch64 out)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

aarch64="${MAMBA4J_CI_AARCH64:-ON}"
if [ "$aarch64" = ON ]; then
  # Debian's cross toolchain and qemu-user, installed once when missing (needs root and the
  # distribution's package mirror).
  missing=()
  command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
  command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} for the linux-aarch64 build ..."
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      echo "linux-aarch64 needs ${missing[*]} (apt-get install as root), or run with MAMBA4J_CI_AARCH64=OFF" >&2
      exit 1
    fi
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null; } || {
      echo "apt-get could not install ${missing[*]}; run with MAMBA4J_CI_AARCH64=OFF to leave linux-aarch64 out" >&2
      exit 1
    }
  fi
fi

echo "JDK: $JAVA_HOME; Maven: $MVN"
"$MVN" -B -ntp install -Dmamba4j.aarch64="$aarch64" "$@"
