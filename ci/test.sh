#!/usr/bin/env bash
# Builds everything (native library through CMake, Java modules) and runs every test:
# native kernel tests (ctest) and JUnit. Usage: ci/test.sh [extra maven args]
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
echo "JDK: $JAVA_HOME; Maven: $MVN"
"$MVN" -B -ntp install "$@"
