#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), seeded from fuzz/seeds/<target>.
# Needs a nightly toolchain and cargo-fuzz. Exits 1 on the first crash; the input is left
# in fuzz/artifacts/<target>/ (turn it into a regression test in the normal suite). Exits 3
# when the targets do not build (a toolchain problem, not a finding).
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(workflow connection listing_page object sql)
fi

# Its own target dir: a nightly, sanitizer-instrumented build shares nothing with the
# stable one. Debug assertions on, so integer overflow is a crash too.
target_dir="${FUZZ_TARGET_DIR:-$PWD/target}"
flags=(--debug-assertions --target-dir "$target_dir")
echo "== cargo +nightly fuzz build"
build_start=$(date +%s)
# cargo-fuzz has no --locked: check that fuzz/Cargo.lock is current first, so CI builds
# exactly the committed versions.
if ! cargo +nightly metadata --locked --format-version 1 >/dev/null; then
  echo "fuzz/Cargo.lock is out of date: run cargo +nightly fuzz build and commit it" >&2
  exit 1
fi
if ! cargo +nightly fuzz build "${flags[@]}"; then
  echo "fuzz targets did not build with $(cargo +nightly --version)" >&2
  exit 3
fi
echo "fuzz build: $(( $(date +%s) - build_start ))s"

for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "== fuzz $target for ${seconds}s"
  start=$(date +%s)
  # -rss_limit_mb: the default 2 GB is plenty; -max_len: config files and pages are small
  # in practice, but 64 KiB leaves room for long names.
  log="$(mktemp)"
  if ! cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    tail -n 60 "$log"
    rm -f "$log"
    echo "fuzz $target: CRASH (see fuzz/artifacts/$target)" >&2
    exit 1
  fi
  # Reporting only: a missing line must not end the run (set -e, pipefail).
  execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  rate=$(grep -E 'stat::average_exec_per_sec' "$log" | awk '{print $2}' || true)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
  echo "fuzz $target: ok, ${execs:-?} execs in $(( $(date +%s) - start ))s (${rate:-?} execs/s, ${cov:-cov: ?})"
  rm -f "$log"
done
