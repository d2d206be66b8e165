#!/usr/bin/env bash
# The Python side of CI (.ci/run calls this): installs OpenMetadata's ingestion framework
# 2.0.7 into a fresh virtualenv from the pinned list committed here, and runs the tests in
# python/tests against the debug binary `cargo test` has just built (SIGMA_CONNECTOR_BIN).
# The wheel itself is built by python/build-wheel.sh, not here: a release build costs more
# than this whole step (docs/openmetadata-native.md, "Building").
#   usage: python/ci.sh            (VENV=dir to reuse a virtualenv; BIN=path for another binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
started=$(date +%s)
echo "== python: OpenMetadata 2.0.7's framework runs the connector (python/ci.sh)"

bin=${BIN:-$repo/target/debug/sigma-connector}
if [ ! -x "$bin" ]; then
  echo "python/ci.sh: no binary at $bin; run cargo build (or cargo test) first" >&2
  exit 1
fi

venv=${VENV:-$(mktemp -d)/om-2.0.7}
if [ ! -x "$venv/bin/metadata" ]; then
  python3 -m venv "$venv"
  # A plain `pip install openmetadata-ingestion==2.0.7.0` fails here (a build-time
  # dependency downloads from outside): install every pinned requirement without
  # resolution (pytest is among them), then the two packages whose own metadata pulls that in.
  grep -v '^openmetadata-ingestion==\|^collate-data-diff==' "$here/requirements-om-2.0.7.txt" > "$venv/requirements.txt"
  # --no-compile: byte-compiling every module of 120 packages costs more than compiling, on
  # first import, the ones the tests use.
  "$venv/bin/pip" install -q --disable-pip-version-check --no-compile --no-deps -r "$venv/requirements.txt"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-compile --no-deps \
    openmetadata-ingestion==2.0.7.0 collate-data-diff==0.11.18
  echo "openmetadata-ingestion 2.0.7 installed in $(( $(date +%s) - started ))s"
fi

export SIGMA_CONNECTOR_BIN="$bin"
export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
tests_started=$(date +%s)
set +e
"$venv/bin/python" -W ignore -m pytest -q -p no:cacheprovider "$here/tests" -o junit_family=xunit2 --junitxml="$venv/junit.xml"
rc=$?
set -e
# pytest exits 5 when it collected nothing: that must not pass. Any other non-zero fails too.
if [ "$rc" -eq 5 ]; then
  echo "python/ci.sh: pytest collected no tests" >&2
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  exit "$rc"
fi
passed=$(grep -o 'tests="[0-9]*"' "$venv/junit.xml" | head -1 | tr -dc 0-9)
# And a run that collected fewer tests than exist (a test file skipped, a stray -k) is no pass.
if [ "${passed:-0}" -lt 23 ]; then
  echo "python/ci.sh: only ${passed:-0} tests ran; expected at least 23" >&2
  exit 1
fi
echo "python tests: ${passed} passed in $(( $(date +%s) - tests_started ))s (whole step $(( $(date +%s) - started ))s)"
