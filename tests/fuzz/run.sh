#!/bin/sh
# run.sh — builds the fuzz targets with clang (libFuzzer + AddressSanitizer + UBSan, leaks
# detected) and runs each for a CI-sized time over its seed corpus. `make fuzz` calls it.
#
#   sh tests/fuzz/run.sh [SECONDS_PER_TARGET (default 20)] [TARGET ...]
#
# Targets (tests/fuzz/fuzz_<name>.c), one per parser of outside files:
#   pickle       weights_tools/pickle.c VM + builders + value consumers
#   zip          weights_tools/torch_zip.c
#   torch        weights_tools/torch_file.c, a whole .pth (zip or legacy)
#   legacy       the legacy torch.save stream / StyleGAN-XL storage blobs
#   safetensors  runtime/safetensors.c lis_st_parse
#   npy          runtime/npy.c lis_npy_parse
#   cfg          runtime/cfg.c lis_cfg_parse + getters
#   convert      `convert --list` end to end (every reader, config normalisation)
# Seeds: tests/fuzz/seeds/<target>/ (tests/fuzz/make_seeds.py) plus the test data and the
# hostile set. New inputs found go to build-fuzz/corpus/<target>/ (kept between runs);
# crashes to build-fuzz/crash-<target>-*. Exit status 1 if any target reported anything.
set -u
cd "$(dirname "$0")/../.." || exit 2
SECS=${1:-20}
[ $# -gt 0 ] && shift
TARGETS=${*:-"pickle zip torch legacy safetensors npy cfg convert"}
OUT=build-fuzz
CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz: $CC not found (apt-get install -y clang)"; exit 2
fi
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -I. $SAN"
mkdir -p "$OUT/obj" || exit 2

# the parsers live in runtime/ and weights_tools/; build them once, instrumented for coverage
echo "fuzz: building runtime/ and weights_tools/ with $CC"
for src in runtime/*.c weights_tools/*.c; do
    obj="$OUT/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
    $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || exit 2
done
rm -f "$OUT/libfuzzlis.a"
ar rcs "$OUT/libfuzzlis.a" "$OUT"/obj/*.o || exit 2

seeds() { # target -> seed directories and files
    case $1 in
    pickle) echo tests/fuzz/seeds/pickle tests/data/sklearn_link/*.pkl tests/hostile/p_*.pkl tests/hostile/s_*.pkl ;;
    zip) echo tests/data/convert/*.pth tests/hostile/z_*.pth ;;
    torch) echo tests/data/convert/*.pth tests/hostile/z_*.pth tests/hostile/l_*.pth tests/fuzz/seeds/legacy ;;
    legacy) echo tests/fuzz/seeds/legacy tests/data/convert/dtypes_legacy.pth tests/hostile/l_*.pth ;;
    safetensors) echo tests/fuzz/seeds/safetensors tests/data/sklearn_link/expected.safetensors tests/hostile/t_*.safetensors ;;
    npy) echo tests/fuzz/seeds/npy ;;
    cfg) echo tests/fuzz/seeds/cfg cli/demo/*.cfg ;;
    convert) echo tests/fuzz/seeds/pickle tests/fuzz/seeds/safetensors tests/data/sklearn_link/*.pkl \
                  tests/data/convert/dtypes*.pth tests/hostile/p_*.pkl tests/hostile/l_*.pth ;;
    esac
}

fail=0
summary=""
for t in $TARGETS; do
    bin="$OUT/fuzz_$t"
    $CC $CFLAGS -fsanitize=fuzzer "tests/fuzz/fuzz_$t.c" "$OUT/libfuzzlis.a" -lpng -lz -lm -pthread -o "$bin" || exit 2
    corpus="$OUT/corpus/$t"
    seeddir="$OUT/seeds/$t"
    rm -rf "$seeddir"
    mkdir -p "$corpus" "$seeddir"
    for s in $(seeds "$t"); do
        if [ -d "$s" ]; then cp "$s"/* "$seeddir"/ 2>/dev/null; elif [ -f "$s" ]; then cp "$s" "$seeddir"/; fi
    done
    log="$OUT/fuzz_$t.log"
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    echo "fuzz: $t for ${SECS}s ($(ls "$seeddir" | wc -l) seeds)"
    "$bin" $dict -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$OUT/crash-$t-" "$corpus" "$seeddir" > "$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    secs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ $rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
        fail=1
        status="FAIL (see $log)"
        grep -E 'ERROR|runtime error|SUMMARY' "$log" | head -5 | sed 's/^/    /'
    else
        status="clean"
    fi
    summary="$summary$(printf '%-12s %10s execs  %6s exec/s  %-10s %s' "$t" "${execs:-?}" "${secs:-?}" "${cov:-}" "$status")
"
done
echo "fuzz summary (${SECS}s per target, clang $($CC -dumpversion), ASan+UBSan+LSan):"
printf '%s' "$summary"
exit $fail
