#!/usr/bin/env python3
"""sgxl_torch_baseline.py — time the ORIGINAL StyleGAN-XL synthesis network on PyTorch, for
the configuration of a lis generator config (default: the full-size ImageNet-256 one).

The original code is not part of lis: clone autonomousvision/stylegan-xl somewhere beside
the project (uncommitted) and pass its path (tests/gpu_check.sh --pack-deps copies the few
files this script needs into .gpu_deps/sgxl for a GPU machine). The script imports its
SynthesisInput and SynthesisLayer classes unmodified, builds every layer with the per-layer
constructor arguments of the config's layer table (random weights: the cost does not
depend on the values) and runs the forward pass the way LinkingInStyle does
(noise_mode='none', force_fp32=True).

CPU (the original's ops take their reference path, as they did for the bundles); one line
per layer in ms, then the total seconds per image (bench/compare_generator.sh reads it):

  /usr/bin/python3 bench/sgxl_torch_baseline.py --sgxl-src ../ext/stylegan-xl \\
      --config tests/data/sgxl_imagenet256_synth/config.json --threads 2

GPU (NVIDIA's custom CUDA ops, compiled by PyTorch on first use; if that fails the run
falls back to the reference ops and says so in every row): lis-bench's table and --jsonl
rows (suite generator, op synthesis, params "batch B"), one per batch and mode:

  python3 bench/sgxl_torch_baseline.py --sgxl-src .gpu_deps/sgxl --device cuda \\
      [--batch 32,8,1] [--modes fp32,tf32,mixed] [--jsonl FILE] [--budget SECONDS]
  python3 bench/sgxl_torch_baseline.py --sgxl-src .gpu_deps/sgxl --build-plugins

Modes: fp32 = IEEE float32 (TF32 off), force_fp32=True; tf32 = the same with TF32 on in
cuDNN (PyTorch's default for convolutions); mixed = the original's own inference default:
TF32 on and force_fp32=False, i.e. float16 in the layers its config marks fp16 (reported
under precision "fp16"). cuDNN autotuning is on (cudnn.benchmark), to give the original
its best; on the H200 it made the first batch-8 call take 50 s (every grouped convolution
shape tried with every algorithm), and batch 32 did not finish within 75 s. With
--cudnn-benchmark 0 cuDNN picks by its heuristics (rows say so); the targets take the
fastest row of each batch size. --build-plugins only compiles the three custom ops (bias_act, upfirdn2d,
filtered_lrelu) into TORCH_EXTENSIONS_DIR, so that tests/gpu_check.sh can do it on the CPU
cores while the GPU is busy with something else.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_rows  # noqa: E402

OPS = ("bias_act", "upfirdn2d", "filtered_lrelu")


def distutils_shim():
    """The original's dnnlib/util.py imports distutils.util.strtobool, which Python 3.12
    removed (setuptools usually shims it back); without either, stand in for that one
    function so the unmodified original imports."""
    try:
        import distutils.util  # noqa: F401
    except ImportError:
        import types
        d, u = types.ModuleType("distutils"), types.ModuleType("distutils.util")

        def strtobool(v):
            v = str(v).lower()
            if v in ("y", "yes", "t", "true", "on", "1"):
                return 1
            if v in ("n", "no", "f", "false", "off", "0"):
                return 0
            raise ValueError(f"invalid truth value {v!r}")
        u.strtobool = strtobool
        d.util = u
        sys.modules["distutils"], sys.modules["distutils.util"] = d, u


def load_ops(build_only):
    """Compiles/loads NVIDIA's custom ops; returns (all_ok, messages). Without them the
    original raises on CUDA tensors, so a failed op is switched to its reference path."""
    import importlib
    import torch.utils.cpp_extension as cpp_extension
    # The original's loader builds with cpp_extension.load() and then imports the module by
    # name; recent PyTorch (2.x) loads the .so from its build directory without putting it
    # in sys.modules, so that import fails ("No module named 'bias_act_plugin'") although
    # the build succeeded. Register what load() returns under its name.
    if not getattr(cpp_extension.load, "_lis_registers", False):
        plain_load = cpp_extension.load

        def load_and_register(*a, **k):
            m = plain_load(*a, **k)
            name = k.get("name", a[0] if a else None)
            if name and m is not None:
                sys.modules.setdefault(name, m)
            return m
        load_and_register._lis_registers = True
        cpp_extension.load = load_and_register
    ok, msgs = True, []
    for name in OPS:
        mod = importlib.import_module(f"torch_utils.ops.{name}")
        t0 = time.perf_counter()
        try:
            mod._init()
            msgs.append(f"plugin {name}: ok ({time.perf_counter() - t0:.1f} s)")
        except Exception as e:  # noqa: BLE001 - a compiler error of any kind
            ok = False
            text = str(e).strip().splitlines()
            msgs.append(f"plugin {name}: FAILED after {time.perf_counter() - t0:.1f} s: {text[-1][:200] if text else e!r}")
            print("\n".join(text[-30:]), file=sys.stderr)
            if not build_only:
                mod._init = lambda: False  # the op's own fallback: impl='ref'
    return ok, msgs


def build_layers(torch, cfg, dev):
    from training.networks_stylegan3_resetting import SynthesisInput, SynthesisLayer
    layers = cfg["synthesis"]["layers"] if "synthesis" in cfg else cfg["layers"]
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
    return layers, [m.to(dev).eval() for m in mods]


def synthesis(mods, w, force_fp32):
    x = mods[0](w)
    for m in mods[1:]:
        x = m(x, w, noise_mode="none", force_fp32=force_fp32)
    return x.float()


def run_layers(torch, args, layers, mods, dev):
    """The layer-by-layer table (CPU, or --layers on a GPU), one batch."""
    b = int(args.batch.split(",")[0])
    w = torch.randn(b, 512, device=dev)
    cuda = dev.type == "cuda"
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, batch {b}")
    total = 0.0
    with torch.no_grad():
        if cuda:
            synthesis(mods, w, True)  # warm-up: cuDNN autotuning
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        x = mods[0](w)
        if cuda:
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        total += dt
        print(f"{layers[0]['name']:14s} {dt * 1e3:10.1f} ms", flush=True)
        for l, m in zip(layers[1:], mods[1:]):
            t0 = time.perf_counter()
            x = m(x, w, noise_mode="none", force_fp32=True)
            if cuda:
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            total += dt
            print(f"{l['name']:14s} {dt * 1e3:10.1f} ms  out {tuple(x.shape)}", flush=True)
    print(f"total: {total:.2f} s per batch of {b}, {total / b:.2f} s per image")


def run_rows(torch, args, mods, dev, plugins_ok, flops_per_image):
    """lis-bench rows: whole synthesis per batch and mode, CUDA events."""
    rows = torch_rows.Rows(args.jsonl, torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu")
    variant = "original StyleGAN-XL (PyTorch" + (", CUDA plugins" if plugins_ok else ", reference ops: plugins failed")
    variant += ")" if args.cudnn_benchmark else ", cuDNN heuristics)"
    torch.backends.cudnn.benchmark = bool(args.cudnn_benchmark)
    t_start = time.perf_counter()
    modes = [m for m in args.modes.split(",") if m]
    for b in [int(s) for s in args.batch.split(",") if s.strip()]:
        w = torch.randn(b, 512, device=dev, generator=torch.Generator(device=dev).manual_seed(3))
        ref = None
        for mode in modes:
            prec = {"fp32": "fp32", "tf32": "tf32", "mixed": "fp16"}[mode]
            params = f"batch {b}"
            if args.budget and time.perf_counter() - t_start > args.budget:
                rows.skipped("generator", "synthesis", params, f"time budget ({mode})")
                continue
            torch_rows.set_fp32_mode(torch, mode != "fp32")
            force = mode != "mixed"
            try:
                with torch.no_grad():
                    t1 = time.perf_counter()
                    out = synthesis(mods, w, force)
                    if dev.type == "cuda":
                        torch.cuda.synchronize()
                    # progress: on the H200 (2026-11-27) no row came within 75 s at batch 32;
                    # this says whether the first call (cuDNN's autotuning) is where it goes
                    print(f"# {mode} batch {b}: first call {time.perf_counter() - t1:.1f} s", flush=True)
                    dv = -1.0
                    if mode == "fp32":
                        ref = out
                    elif ref is not None:
                        dv = float((out - ref).abs().max() / ref.abs().max())
                    del out
                    ms, sd, n = torch_rows.time_call(torch, lambda: synthesis(mods, w, force), str(dev),
                                                     args.min_time, 2, warmup=1)
            except RuntimeError as e:  # out of memory and the like: a row, not the end of the run
                rows.skipped("generator", "synthesis", params, f"{mode}: {str(e).splitlines()[0][:120]}")
                if dev.type == "cuda":
                    torch.cuda.empty_cache()
                continue
            rows.row("generator", "synthesis", params, variant + ("" if mode != "mixed" else ", its fp16 layers"),
                     prec, ms, sd, flops_per_image * b / (ms * 1e-3) / 1e12, "TFLOP/s", dv)
            print(f"|   |   | {params} | images/s | {prec} | {b / (ms * 1e-3):.2f} | | | |", flush=True)
        del ref
        if dev.type == "cuda":
            torch.cuda.empty_cache()


def flops(layers):
    """2 x multiply-adds of the convolutions and the input's channel mixing (as lis-bench)."""
    def side(s):
        return s[0] if isinstance(s, list) else s
    inp = layers[0]
    f = 2.0 * inp["out_ch"] ** 2 * side(inp["out_size"]) ** 2
    for l in layers[1:]:
        hc = side(l["in_size"]) + l["k"] - 1
        f += 2.0 * l["out_ch"] * l["in_ch"] * l["k"] ** 2 * hc * hc
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sgxl-src", required=True, help="a clone of autonomousvision/stylegan-xl (or .gpu_deps/sgxl)")
    ap.add_argument("--config", default="tests/data/sgxl_imagenet256_synth/config.json")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", default=None, help="batch sizes (default 1 on the CPU, 32,8,1 on a GPU)")
    ap.add_argument("--modes", default="fp32,tf32,mixed", help="GPU rows: fp32, tf32, mixed (default all three)")
    ap.add_argument("--min-time", type=float, default=1.0, help="GPU rows: minimum seconds per row (default 1)")
    ap.add_argument("--cudnn-benchmark", type=int, default=1, choices=(0, 1),
                    help="GPU rows: 1 = cuDNN autotuning (default), 0 = cuDNN's heuristics (no autotuning)")
    ap.add_argument("--budget", type=float, default=0, help="GPU rows: start no new row after this many seconds")
    ap.add_argument("--jsonl", default=None, help="GPU rows: append one JSON object per row to this file")
    ap.add_argument("--layers", action="store_true", help="on a GPU: the layer-by-layer table instead of rows")
    ap.add_argument("--build-plugins", action="store_true", help="only compile the custom CUDA ops, then exit")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("torch: not installed")
        return 0
    if not os.path.isfile(os.path.join(args.sgxl_src, "training", "networks_stylegan3_resetting.py")):
        print(f"sgxl_torch_baseline: {args.sgxl_src}: not a StyleGAN-XL source tree "
              "(training/networks_stylegan3_resetting.py is missing)", file=sys.stderr)
        return 2
    bad = [m for m in args.modes.split(",") if m and m not in ("fp32", "tf32", "mixed")]
    if bad:
        ap.error(f"unknown mode {bad[0]!r} (fp32, tf32, mixed)")
    sys.path.insert(0, os.path.abspath(args.sgxl_src))
    distutils_shim()
    gpu = args.device.startswith("cuda")
    if (gpu or args.build_plugins) and not torch.cuda.is_available():
        print("sgxl_torch_baseline: torch has no CUDA device here: nothing to run")
        return 0
    if args.build_plugins:
        ok, msgs = load_ops(build_only=True)
        print("\n".join(msgs), flush=True)
        return 0 if ok else 1
    if args.threads:
        torch.set_num_threads(args.threads)
    args.batch = args.batch or ("32,8,1" if gpu else "1")
    dev = torch.device(args.device)
    plugins_ok = True
    if gpu:
        plugins_ok, msgs = load_ops(build_only=False)
        print("\n".join(msgs), flush=True)
    cfg = json.load(open(args.config))
    layers, mods = build_layers(torch, cfg, dev)
    if gpu and not args.layers:
        print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(dev)}; "
              f"per image {flops(layers) / 1e12:.3f} TFLOP")
        run_rows(torch, args, mods, dev, plugins_ok, flops(layers))
    else:
        run_layers(torch, args, layers, mods, dev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
