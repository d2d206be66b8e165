#!/usr/bin/env bash
# The DataHub side of CI (.ci/run calls this): installs DataHub's ingestion framework
# (acryl-datahub 1.7.0.17, the pinned list committed here) into a fresh virtualenv and runs
# datahub/tests against the debug binary `cargo test` has just built: the datahub-file
# sink's output through DataHub's own models and `datahub check metadata-file`, the
# datahub-rest sink against a GMS stand-in that validates every proposal, and
# `datahub ingest` running our source class from a recipe.
#   usage: datahub/ci.sh            (VENV=dir to reuse a virtualenv; BIN=path for another binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
started=$(date +%s)
echo "== datahub: DataHub 1.7's framework runs the connector (datahub/ci.sh)"

bin=${BIN:-$repo/target/debug/sigma-connector}
if [ ! -x "$bin" ]; then
  echo "datahub/ci.sh: no binary at $bin; run cargo build (or cargo test) first" >&2
  exit 1
fi

venv=${VENV:-$(mktemp -d)/datahub-1.7.0.17}
if [ ! -x "$venv/bin/datahub" ] || [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  # --no-compile: byte-compiling every module costs more than compiling, on first import,
  # the ones the tests use.
  "$venv/bin/pip" install -q --disable-pip-version-check --no-compile -r "$here/requirements-datahub-1.7.0.17.txt"
  echo "acryl-datahub 1.7.0.17 installed in $(( $(date +%s) - started ))s"
fi

export SIGMA_CONNECTOR_BIN="$bin"
export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
# DataHub's CLI would otherwise phone home and check for upgrades.
export DATAHUB_TELEMETRY_ENABLED=false DATAHUB_SUPPRESS_UPGRADE_MESSAGE=1 DATAHUB_SKIP_CONFIG=1
tests_started=$(date +%s)
set +e
"$venv/bin/python" -W ignore -m pytest -q -p no:cacheprovider "$here/tests" -o junit_family=xunit2 --junitxml="$venv/junit.xml"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "datahub/ci.sh: pytest collected no tests" >&2
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  exit "$rc"
fi
passed=$(grep -o 'tests="[0-9]*"' "$venv/junit.xml" | head -1 | tr -dc 0-9)
expected=16
if [ "${passed:-0}" -lt "$expected" ]; then
  echo "datahub/ci.sh: only ${passed:-0} tests ran; expected at least $expected" >&2
  exit 1
fi
echo "datahub tests: ${passed} passed in $(( $(date +%s) - tests_started ))s (whole step $(( $(date +%s) - started ))s)"
