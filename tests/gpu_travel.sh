#!/bin/sh
# gpu_travel.sh — the device tool sends the working tree (tracked files included) only if it
# is under 64 MiB; the reference data in tests/data is larger. Before a GPU call, park the
# bundles the GPU check does not use outside the checkout; restore them afterwards.
#
#   sh tests/gpu_travel.sh park      # moves them to ../lis-parked/, prints the size that travels
#   ... run(command="bash tests/gpu_check.sh --out $OUT", ...) ...
#   sh tests/gpu_travel.sh restore   # puts them back (git status is clean again)
set -eu
cd "$(dirname "$0")/.."
parked=../lis-parked
big="tests/data/pump tests/data/fewshot_seg tests/data/resnet50_synth tests/data/sgxl_tiny/network-snapshot.pkl
     tests/hostile tests/fuzz/seeds"
case "${1:-}" in
park)
    mkdir -p "$parked"
    for p in $big; do
        [ -e "$p" ] || continue
        mkdir -p "$parked/$(dirname "$p")"
        mv "$p" "$parked/$p"
    done
    size=$( (git ls-files; git ls-files --others --exclude-standard) | while read -r f; do [ -f "$f" ] && echo "$f"; done |
            tr '\n' '\0' | xargs -0 du -cb | tail -1 | cut -f1)
    echo "travels: $((size / 1048576)) MiB (limit 64)"
    ;;
restore)
    for p in $big; do
        [ -e "$parked/$p" ] || continue
        mkdir -p "$(dirname "$p")"
        mv "$parked/$p" "$p"
    done
    git status --short | head
    ;;
*) echo "usage: sh tests/gpu_travel.sh park|restore"; exit 2 ;;
esac
