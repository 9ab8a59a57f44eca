#!/usr/bin/env bash
# Byte-identity check for changes meant to keep semantics (issue 14): runs every bundled
# scenario, `validate` and the tandem bounded at 2e5 messages with the given binary into DIR,
# then, if REF is given, compares every result file with `cmp` and the file lists.
# manifest.json and timing.json are left out (wall time, thread count), and report.html is
# compared without its command line (which names the output folder).
# Usage: bash benches/same_results.sh MAILFLOW_BINARY DIR [REF]
set -euo pipefail
cd "$(dirname "$0")/.."
exe=$1 out=$2 ref=${3:-}
rm -rf "$out"; mkdir -p "$out"
# One fixed place for the generated scenario, since report.html names the scenario file.
tandem=${TMPDIR:-/tmp}/mailflow-same-results/tandem-200000.toml
mkdir -p "$(dirname "$tandem")"
python3 - "$tandem" <<'PY'
import re, sys
text = open("scenarios/tandem-mmc.toml").read()
open(sys.argv[1], "w").write(
    re.sub(r"\[run\][^\[]*", "[run]\nmessages = 200000\nseed = 1\n\n", text, count=1))
PY
for s in scenarios/*.toml "$tandem"; do
  name=$(basename "$s" .toml)
  nice "$exe" run "$s" --quiet --out "$out/$name" --allow-unstable
done
nice "$exe" validate --quick --quiet --out "$out/validation" >/dev/null 2>&1 || true
[ -z "$ref" ] && { echo "wrote $(find "$out" -type f | wc -l) files into $out"; exit 0; }
diff <(cd "$ref" && find . -type f | sort) <(cd "$out" && find . -type f | sort)
n=0 bad=0
while read -r f; do
  case $f in */manifest.json | */timing.json | *.toml) continue ;; esac
  n=$((n + 1))
  case $f in
  */report.html) cmp -s <(grep -v 'id="command"' "$ref/$f") <(grep -v 'id="command"' "$out/$f") ;;
  *) cmp -s "$ref/$f" "$out/$f" ;;
  esac || { echo "DIFFERS: $f"; bad=$((bad + 1)); }
done < <(cd "$ref" && find . -type f | sort)
echo "compared $n files: $bad differ"
[ "$bad" = 0 ]
