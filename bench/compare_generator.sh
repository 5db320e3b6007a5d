#!/bin/sh
# compare_generator.sh — the full-size ImageNet-256 generator, lis vs the original
# StyleGAN-XL code on PyTorch (CPU, reference ops), one image each, in ONE run on the same
# machine and thread count, so the ratio is meaningful even on a noisy shared host.
#
#   SGXL_SRC=../ext/stylegan-xl sh bench/compare_generator.sh [THREADS]
#
# SGXL_SRC: a clone of autonomousvision/stylegan-xl placed beside the project (not part of
# lis, never committed). Needs /usr/bin/python3 with torch; prints "not installed" otherwise.
set -eu
threads=${1:-$(nproc)}
make -s bench/lis-bench
echo "== lis (threads $threads)"
LIS_THREADS=$threads ./bench/lis-bench generator --batch 1 | tee /tmp/lis_gen_bench.txt | sed -n '1,12p'
lis_s=$(awk -F'|' '/^\| 1 \|/ {gsub(/ /,"",$4); print $4}' /tmp/lis_gen_bench.txt)
echo "== original StyleGAN-XL on PyTorch (threads $threads)"
if [ -z "${SGXL_SRC:-}" ] || ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    echo "PyTorch or SGXL_SRC: not installed"; exit 0
fi
OMP_NUM_THREADS=$threads /usr/bin/python3 bench/sgxl_torch_baseline.py --sgxl-src "$SGXL_SRC" --threads "$threads" \
    | tee /tmp/torch_gen_bench.txt | tail -1
torch_s=$(awk '/^total:/ {print $(NF-3)}' /tmp/torch_gen_bench.txt)
echo "seconds per image: lis $lis_s, PyTorch original $torch_s; speed-up $(echo "$torch_s $lis_s" | awk '{printf "%.2f", $1/$2}')x"
