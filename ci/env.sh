# Sourced by every script of the project: finds a JDK >= 25 and a Maven >= 3.9.6.
# Sets JAVA_HOME and MVN. Nothing here downloads anything but Maven itself, which
# comes from the configured Maven repository as an ordinary artifact.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
MAVEN_VERSION=3.9.11

java_major() { # prints the feature version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

find_jdk() {
  local tried=() c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/java/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -n "$c" ] || continue
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || { tried+=("$c (no bin/java + bin/javac)"); continue; }
    local v; v=$(java_major "$c/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$c"; return 0; fi
    tried+=("$c (Java ${v:-?})")
  done
  {
    echo "mamba4j needs a JDK >= 25 and found none. Looked at JAVA_HOME, then /usr/lib/jvm/*, /opt/java/*, /opt/jdk*,"
    echo "/usr/local/java/*, ~/.sdkman/candidates/java/*, ~/.jdks/*:"
    printf '  %s\n' "${tried[@]}"
    echo "Install one (for example Temurin 25) and set JAVA_HOME to it."
  } >&2
  return 1
}

JAVA_HOME="$(find_jdk)" || exit 1
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

find_maven() {
  local m="$TOOLS/apache-maven-$MAVEN_VERSION/bin/mvn"
  if [ ! -x "$m" ]; then
    command -v mvn >/dev/null || { echo "mamba4j needs Maven (any 3.x) once, to fetch Maven $MAVEN_VERSION: install the 'maven' package." >&2; return 1; }
    echo "Fetching Maven $MAVEN_VERSION into $TOOLS (once) ..." >&2
    mkdir -p "$TOOLS"
    mvn -q -B dependency:copy -Dartifact="org.apache.maven:apache-maven:$MAVEN_VERSION:tar.gz:bin" \
        -DoutputDirectory="$TOOLS" >&2 || { echo "could not fetch org.apache.maven:apache-maven:$MAVEN_VERSION" >&2; return 1; }
    tar -xzf "$TOOLS/apache-maven-$MAVEN_VERSION-bin.tar.gz" -C "$TOOLS" && rm -f "$TOOLS/apache-maven-$MAVEN_VERSION-bin.tar.gz"
  fi
  echo "$m"
}
MVN="$(find_maven)" || exit 1
export MVN
# Maven 3.9 still touches sun.misc.Unsafe through Guice; keep its warnings out of the logs.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
