#!/usr/bin/env bash
# Snapshot every command's output on the seven examples, to show a refactor changed nothing.
#
#   scripts/snapshot_outputs.sh OUT_DIR [PYTHON]
#
# Runs calc (table, json, csv, every variant), compare, sweep, label in every format and
# batch of a generated catalogue from the checkout it lives in, with a fresh store, and writes
# each output (stdout, stderr and exit code) to OUT_DIR. Run it on two commits and compare:
#   git worktree add /tmp/before <commit>; /tmp/before/scripts/snapshot_outputs.sh /tmp/a
#   scripts/snapshot_outputs.sh /tmp/b; diff -r /tmp/a /tmp/b
# (use this copy of the script on both commits if the older one has none).
set -u
out=${1:?usage: snapshot_outputs.sh OUT_DIR [PYTHON]}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${2:-$here/.venv/bin/python}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export CFP_ENGINE_HOME=$(mktemp -d)
export PYTHONPATH=$here/src
cd "$here"
cfp() { "$python" -m cfp_engine "$@"; }
run() {  # run NAME ARGS...: stdout, stderr (store-build lines removed) and exit code
  local name=$1; shift
  cfp "$@" >"$out/$name.out" 2>"$out/$name.err.raw"
  echo $? >"$out/$name.rc"
  grep -v -e '^Building Brightway project' -e '^Built cfp-builtin' "$out/$name.err.raw" >"$out/$name.err"
  rm -f "$out/$name.err.raw"
}
facts=(--company-name "Example K.K." --company-id urn:example:company:1
       --reference-period 2025-01-01:2025-12-31 --validity-period 2026-01-01:2028-12-31
       --product-category-cpc 3632 --created 2026-01-01T00:00:00Z)
for spec in examples/*.yaml; do
  ex=$(basename "$spec" .yaml)
  for fmt in table json csv; do run "$ex.calc.$fmt" calc "$spec" --format "$fmt"; done
  run "$ex.calc.mc" calc "$spec" --mc 200 --seed 7 --format json
  variants=$("$python" -c "import sys, yaml; print(' '.join((yaml.safe_load(open(sys.argv[1])).get('variants') or {})))" "$spec")
  for v in $variants; do run "$ex.calc.variant-$v" calc "$spec" --variant "$v" --format json; done
  run "$ex.compare" compare "$spec"
  run "$ex.compare.json" compare "$spec" --format json
  component=$("$python" -c "import sys, yaml; print(next((c['id'] for c in yaml.safe_load(open(sys.argv[1])).get('components') or []), ''))" "$spec")
  [ -n "$component" ] && run "$ex.sweep" sweep "$spec" --component "$component" --approach all
  for fmt in pact pact-v2 catena-x json md html; do
    run "$ex.label.$fmt" label "$spec" --format "$fmt" --product-id "urn:example:product:$ex" "${facts[@]}"
  done
done
"$python" - "$out/catalogue.csv" <<'PY'
import sys
sys.path.insert(0, "benchmarks")
from pathlib import Path
from batch_speed import generate_catalogue
generate_catalogue(Path(sys.argv[1]), 200, seed=3)
PY
run batch batch "$out/catalogue.csv" -o "$out/batch.csv" --quiet
rm -rf "$out/batch.csv.work" "$CFP_ENGINE_HOME"
echo "snapshot in $out: $(ls "$out" | wc -l) files"
