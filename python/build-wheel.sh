#!/usr/bin/env bash
# Builds the wheel OpenMetadata's ingestion image installs: the release binary (maturin's
# `bindings = "bin"`) plus the sigma_connector_om module, for Linux x86_64 with a glibc
# baseline no newer than the ingestion image's (Debian bookworm, glibc 2.36). Then checks
# the baseline and that an environment with the wheel finds and runs the binary.
#   usage: python/build-wheel.sh            -> target/wheels/sigma_connector_openmetadata-*.whl
# Build on a system whose glibc is at most 2.36 (bookworm, or the manylinux_2_28 image);
# the check below refuses a wheel that needs a newer one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
venv=${VENV:-$repo/target/wheel-venv}
max_glibc=2.36

if [ ! -x "$venv/bin/maturin" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check maturin==1.16.0
fi
rm -rf "$repo/target/wheels"
(cd "$here" && "$venv/bin/maturin" build --release --locked --out "$repo/target/wheels")
wheel=$(ls "$repo"/target/wheels/sigma_connector_openmetadata-*.whl)
echo "built $wheel"

# The glibc symbol versions the binary needs, highest first.
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
python3 -m zipfile -e "$wheel" "$unpacked"
bin=$(find "$unpacked" -path '*scripts/sigma-connector' -type f)
needed=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -t. -k1,1 -k2,2n -u | tail -1 | sed 's/GLIBC_//')
echo "binary needs glibc $needed (ingestion image has $max_glibc)"
if [ "$(printf '%s\n%s\n' "$needed" "$max_glibc" | sort -V | tail -1)" != "$max_glibc" ]; then
  echo "the wheel needs glibc $needed, newer than $max_glibc: build on bookworm or manylinux_2_28" >&2
  exit 1
fi
listing=$(python3 -m zipfile -l "$wheel")
case "$listing" in
  *sigma_connector_om/source.py*) ;;
  *) echo "the module is missing from the wheel" >&2; exit 1 ;;
esac

# Installed without dependencies (the image already has openmetadata-ingestion), the
# module must find the binary in the environment's scripts folder.
check=$(mktemp -d)/venv
python3 -m venv "$check"
"$check/bin/pip" install -q --disable-pip-version-check --no-deps "$wheel"
found=$(env -u SIGMA_CONNECTOR_BIN "$check/bin/python" -c 'from sigma_connector_om.binary import find_binary; print(find_binary())')
"$found" --version
echo "installed wheel: the module finds $found"
