#!/usr/bin/env python3
"""nhwc_l1_model.py — how much of the NHWC convolution's input gather (kernels/conv_nhwc.cu, the
A operand) an L1 cache could serve, in the default stage order (channels fastest) and in the
taps-inner order (LIS_NHWC_CONV_TAPS_INNER=1), for ResNet-50's 3x3 convolutions at batch 64.

A model, not a measurement: an LRU cache of 32-byte sectors, fed stage by stage with the 16-byte
copies of two co-resident blocks of 128 output pixels (the kernel's 64-byte stages: BK = 16
tf32 or 32 bf16/fp16 channels), counting the bytes that miss. Nsight Compute's L1 hit rate on
the GPU (tests/gpu_check.sh, profile case nhwc-3x3-tf32-taps) is the measurement to compare.
The H100 (bench/RESULTS.md, session 8) found the taps-inner order slower all the same: the
kernel was not bound by the gather's L2 traffic.

    python3 bench/nhwc_l1_model.py [--l1-kib 32,64] [--blocks 2]

Prints a markdown table: the share of the gather's bytes that still come from L2."""
import argparse
from collections import OrderedDict

BM = 128
# name: (input size, channels, stride) of ResNet-50's 3x3 convolutions
LAYERS = {
    "layer1 3x3/1": (56, 64, 1),
    "layer2 3x3/2": (56, 128, 2),
    "layer2 3x3/1": (28, 128, 1),
    "layer3 3x3/2": (28, 256, 2),
    "layer3 3x3/1": (14, 256, 1),
    "layer4 3x3/2": (14, 512, 2),
    "layer4 3x3/1": (7, 512, 1),
}


def miss_share(H, C, stride, elem, taps_inner, l1_bytes, blocks, N=64, R=3, pad=1, first_block=0):
    """the share of the gather's bytes that miss an LRU L1 of l1_bytes (32-byte sectors)"""
    BK = 64 // elem  # channels per 64-byte stage
    Ho = (H + 2 * pad - R) // stride + 1
    M, RS = N * Ho * Ho, R * R
    cache, cap = OrderedDict(), l1_bytes // 32
    missed = total = 0
    for kt in range(RS * C // BK):
        if taps_inner:
            cb, tap = divmod(kt, RS)
            c0 = cb * BK
        else:
            tap, c0 = divmod(kt * BK, C)
        r, s = divmod(tap, R)
        for b in range(blocks):  # co-resident blocks far apart in the grid: distinct pixels
            m0 = first_block + b * BM * 7
            for m in range(m0, min(m0 + BM, M)):
                n, rem = divmod(m, Ho * Ho)
                oy, ox = divmod(rem, Ho)
                iy, ix = oy * stride - pad + r, ox * stride - pad + s
                if not (0 <= iy < H and 0 <= ix < H):
                    continue  # zero-filled, nothing read
                addr = (((n * H + iy) * H + ix) * C + c0) * elem
                for sector in range(addr // 32, (addr + BK * elem) // 32):
                    total += 32
                    if sector in cache:
                        cache.move_to_end(sector)
                    else:
                        missed += 32
                        cache[sector] = True
                        if len(cache) > cap:
                            cache.popitem(last=False)
    return missed / total if total else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--l1-kib", default="32,64", help="L1 sizes to model, KiB (default 32,64)")
    ap.add_argument("--blocks", type=int, default=2, help="co-resident blocks per SM (default 2)")
    a = ap.parse_args()
    sizes = [int(v) for v in a.l1_kib.split(",")]
    print("| layer | precision | L1 | channels fastest | taps inner |")
    print("|---|---|---|---|---|")
    for name, (H, C, stride) in LAYERS.items():
        for prec, elem in (("tf32", 4), ("bf16/fp16", 2)):
            for kib in sizes:
                d = miss_share(H, C, stride, elem, False, kib * 1024, a.blocks)
                t = miss_share(H, C, stride, elem, True, kib * 1024, a.blocks)
                print(f"| {name} | {prec} | {kib} KiB | {d:.2f} | {t:.2f} |")


if __name__ == "__main__":
    main()
