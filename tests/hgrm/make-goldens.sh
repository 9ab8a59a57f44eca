#!/usr/bin/env bash
# Regenerates tests/hgrm/golden/*.hgrm with HdrHistogram's Java library (the reference printer)
# from tests/hgrm/histograms.txt. Needs a JDK and Debian's libhdrhistogram-java:
#   apt-get install default-jdk-headless libhdrhistogram-java
# cargo test compares mailflow's .hgrm printer with these files; it does not need Java.
set -euo pipefail
cd "$(dirname "$0")"
jar=${HDRHISTOGRAM_JAR:-/usr/share/java/hdrhistogram.jar}
if [ ! -f "$jar" ]; then
  echo "HdrHistogram's jar not found at $jar: apt-get install libhdrhistogram-java, or set HDRHISTOGRAM_JAR" >&2
  exit 2
fi
classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
javac -cp "$jar" -d "$classes" HgrmGolden.java
rm -rf golden
mkdir golden
java -cp "$jar:$classes" HgrmGolden histograms.txt golden
echo "wrote $(ls golden | wc -l) files with $(basename "$(readlink -f "$jar")")"
