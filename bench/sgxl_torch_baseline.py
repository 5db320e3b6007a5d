#!/usr/bin/env python3
"""Time the ORIGINAL StyleGAN-XL synthesis network on PyTorch (CPU or CUDA), layer by layer,
for the configuration of a lis generator config (default: the full-size ImageNet-256 one).

The original code is not part of lis: clone autonomousvision/stylegan-xl somewhere beside the
project (uncommitted) and pass its path. The script imports its SynthesisInput and
SynthesisLayer classes unmodified, builds every layer with the per-layer constructor
arguments of the config's layer table (random weights: cost does not depend on values),
and runs the forward pass the way LinkingInStyle does (noise_mode='none', force_fp32=True).
On CPU the original's ops take their reference ("ref") path, as they did for the bundles.

  /usr/bin/python3 bench/sgxl_torch_baseline.py --sgxl-src ../ext/stylegan-xl \
      --config tests/data/sgxl_imagenet256_synth/config.json --threads 2 [--device cuda --batch 32]

Prints one line per layer (ms) and the total seconds per image.
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sgxl-src", required=True)
    ap.add_argument("--config", default="tests/data/sgxl_imagenet256_synth/config.json")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("torch: not installed")
        return 0
    sys.path.insert(0, args.sgxl_src)
    from training.networks_stylegan3_resetting import SynthesisInput, SynthesisLayer

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = json.load(open(args.config))
    layers = cfg["synthesis"]["layers"] if "synthesis" in cfg else cfg["layers"]
    dev = torch.device(args.device)
    torch.manual_seed(0)
    inp = layers[0]
    mods = [SynthesisInput(w_dim=512, channels=inp["out_ch"], size=inp["out_size"],
                           sampling_rate=inp["out_sr"], bandwidth=inp["bandwidth"])]
    for l in layers[1:]:
        mods.append(SynthesisLayer(w_dim=512, is_torgb=l["torgb"], is_critically_sampled=l["crit"],
                                   use_fp16=l["fp16"], in_channels=l["in_ch"], out_channels=l["out_ch"],
                                   in_size=l["in_size"], out_size=l["out_size"], in_sampling_rate=l["in_sr"],
                                   out_sampling_rate=l["out_sr"], in_cutoff=l["in_cutoff"],
                                   out_cutoff=l["out_cutoff"], in_half_width=l["in_hw"],
                                   out_half_width=l["out_hw"], conv_kernel=l["k"],
                                   use_radial_filters=l["radial"], conv_clamp=l["clamp"]))
    mods = [m.to(dev).eval() for m in mods]
    w = torch.randn(args.batch, 512, device=dev)
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, batch {args.batch}")
    total = 0.0
    with torch.no_grad():
        t0 = time.perf_counter()
        x = mods[0](w)
        if args.device != "cpu":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        total += dt
        print(f"{layers[0]['name']:14s} {dt * 1e3:10.1f} ms", flush=True)
        for l, m in zip(layers[1:], mods[1:]):
            t0 = time.perf_counter()
            x = m(x, w, noise_mode="none", force_fp32=True)
            if args.device != "cpu":
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            total += dt
            print(f"{l['name']:14s} {dt * 1e3:10.1f} ms  out {tuple(x.shape)}", flush=True)
    print(f"total: {total:.2f} s per batch of {args.batch}, {total / args.batch:.2f} s per image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
