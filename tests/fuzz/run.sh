#!/usr/bin/env bash
# Builds every fuzz target with clang-14, libFuzzer, ASan and UBSan in build/fuzz, then runs each
# for $FUZZ_SECONDS (default 30) starting from its seed corpus.
#   tests/fuzz/run.sh                 all targets
#   tests/fuzz/run.sh fuzz_config     only these
# Env: FUZZ_SECONDS, FUZZ_BUILD_DIR (default build/fuzz), FUZZ_JOBS (parallel build jobs, default 2).
# New inputs go to $FUZZ_BUILD_DIR/fuzz-corpus/<target>/ (the checked-in seeds are not touched),
# crashes to $FUZZ_BUILD_DIR/fuzz-artifacts/<target>/; the script exits non-zero if any target
# crashed. The whole project is configured (with clang), but only the fuzz targets and the
# libraries they link are compiled. Asio needs the two BOOST_ASIO_HAS_* defines to see C++20
# coroutines under clang-14.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-30}
build=${FUZZ_BUILD_DIR:-build/fuzz}
mkdir -p "$build"

CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
  -DCMAKE_CXX_FLAGS="-O1 -DBOOST_ASIO_HAS_CO_AWAIT=1 -DBOOST_ASIO_HAS_STD_COROUTINE=1" \
  -DHOMEROOM_FUZZ=ON -DHOMEROOM_TESTS=ON -DHOMEROOM_SANITIZE=address,undefined \
  >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" --target homeroom_fuzz_all -- -j "${FUZZ_JOBS:-2}"

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  mapfile -t targets <"$build/fuzz_targets.txt"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for target in "${targets[@]}"; do
  [[ -n $target ]] || continue
  corpus="$build/fuzz-corpus/$target"
  artifacts="$build/fuzz-artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  args=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts")
  dict="tests/fuzz/dict/$target.dict"
  [[ -f $dict ]] && args+=(-dict="$dict")
  echo "== $target: ${seconds}s"
  if ! "$build/bin/$target" "${args[@]}" "$corpus" "tests/fuzz/corpus/$target"; then
    failed+=("$target")
    echo "== $target FAILED: reproduce with $build/bin/$target $artifacts<crash-file>"
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz targets that failed: ${failed[*]}"
  exit 1
fi
echo "all fuzz targets ran ${seconds}s without a finding"
