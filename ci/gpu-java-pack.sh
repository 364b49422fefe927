#!/usr/bin/env bash
# Packs the Java tests for a GPU host that has no JDK (ci/gpu-test.sh --java):
#
#   ci/gpu-java-pack.sh DIR
#
# writes DIR/.jre   a jlink'd Java runtime (the modules the jars need, no debug info)
#        DIR/jars   the bindings jar, the bindings test classes as a jar, their runtime
#                   dependencies, and junit-platform-console-standalone (the launcher of
#                   the JUnit version this build tests with)
# No native library is packed: ci/gpu-test.sh passes the CUDA build of libmamba4j.so it made
# (or was given) with -Dmamba4j.library.path. Then, on the GPU host:
#
#   ci/gpu-test.sh OUT --java DIR/.jre DIR/jars
#
# Needs the JDK and Maven of ci/env.sh. The project is built offline, like ci/test.sh;
# only the console launcher may come from the configured Maven repository (once, then it is
# in the local repository).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/ci/env.sh"
DIR="${1:?usage: ci/gpu-java-pack.sh DIR}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
JARS="$DIR/jars"
rm -rf "$DIR/.jre" "$JARS"
mkdir -p "$JARS"
cd "$ROOT"

# JUnit Jupiter 5.x.y runs on the JUnit Platform 1.x.y: the launcher of the same release.
JUNIT="$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)"
PLATFORM="1.${JUNIT#5.}"

echo "== building mamba4j-bindings and its test classes (tests not run here)"
# The CPU library only, whatever this host has: the native jars are not packed.
nice -n 10 "$MVN" -q -B -o -pl bindings -am -DskipTests -Dmamba4j.cuda=OFF -Dmamba4j.aarch64=OFF \
  package dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$JARS" \
  -DexcludeGroupIds=io.github.mamba4j,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian
# (the JUnit jars are left out: the console launcher carries the same ones; two copies of
#  an engine on one class path make the launcher refuse to start)
cp bindings/target/mamba4j-bindings-*[0-9T].jar "$JARS/"
"$JAVA_HOME/bin/jar" --create --file "$JARS/mamba4j-bindings-tests.jar" -C bindings/target/test-classes .

echo "== junit-platform-console-standalone $PLATFORM (JUnit $JUNIT)"
"$MVN" -q -B -N dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$PLATFORM" \
  -DoutputDirectory="$JARS"

# java.base, java.logging, jdk.unsupported, java.management, and jdk.zipfs, without which
# the launcher cannot open jars to scan them (it warns "Provider \"jar\" not found" and finds
# no tests); plus whatever the jars use (java.net.http for the native downloader,
# jdk.httpserver for its tests, java.sql for the launcher).
MODULES="java.base,java.logging,jdk.unsupported,java.management,jdk.zipfs"
MODULES="$MODULES,$("$JAVA_HOME/bin/jdeps" --multi-release 25 --print-module-deps --ignore-missing-deps "$JARS"/*.jar)"
echo "== jlink $MODULES"
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --compress=zip-9 \
  --output "$DIR/.jre"

ls -1 "$JARS"
du -sh "$DIR/.jre" "$JARS" | sed 's/^/size /'
total_kb=$(du -sk "$DIR/.jre" "$JARS" | awk '{s += $1} END {print s}')
echo "total $((total_kb / 1024)) MiB"
if [ "$total_kb" -gt $((60 * 1024)) ]; then echo "the pack exceeds 60 MiB" >&2; exit 1; fi
