#!/usr/bin/env python3
"""torchvision_resnet50.py — the PyTorch side of `lis-bench resnet` (CPU) and of
`lis-bench cuda classifier` (GPU): torchvision's resnet50 (the full net with fc, eval,
no_grad) on the same threads / device, batches and precisions.

    CPU:  /usr/bin/python3 bench/torchvision_resnet50.py [--threads 2] [--batch 1,32] [--min-time 1] [--reps 5]
    GPU:  python3 bench/torchvision_resnet50.py --device cuda [--batch 64,256,1]
              [--precisions fp32,tf32,bf16,fp16] [--jsonl FILE] [--budget SECONDS]

On the CPU it prints ms/image (wall and process CPU) and images/s. On a GPU it prints
lis-bench's table (suite classifier, op "resnet50 forward", params "batch N"), with --jsonl
in the same JSON lines, so bench/gpu_goals.py can compare the two engines row by row.
GPU settings, chosen to give PyTorch its best: cuDNN autotuning (cudnn.benchmark), the
channels_last layout, and for bf16/fp16 the whole model and input in that type (fp32
accumulation inside cuDNN). fp32 means IEEE float32 (TF32 off); tf32 turns TF32 on.
Random weights (torchvision's default init): the speed does not depend on the values.
Prints "not installed" and exits 0 when torch/torchvision are missing (Debian:
apt-get install python3-torch python3-torchvision). spec/classifier.md §5 has the
reference run (PyTorch 1.13 CPU, oneDNN, 2-vCPU EPYC)."""
import argparse
import copy
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_rows  # noqa: E402

try:
    import torch
    import torchvision
except ImportError:
    print("torchvision_resnet50: torch/torchvision not installed")
    sys.exit(0)

MACS = 4.089e9  # multiply-adds of one 224x224 image


def run_cpu(net, a, batches):
    print("\n| net | threads | batch | wall ms/image (mean ± sd) | CPU ms/image | images/s | GMAC/s | reps |")
    print("|---|---|---|---|---|---|---|---|")
    for b in batches:
        x = torch.randn(b, 3, 224, 224)
        with torch.no_grad():
            net(x)  # warm-up
            times = []
            start, c0 = time.perf_counter(), time.process_time()
            while len(times) < a.reps or time.perf_counter() - start < a.min_time:
                t0 = time.perf_counter()
                net(x)
                times.append((time.perf_counter() - t0) * 1e3 / b)
            cpu = (time.process_time() - c0) * 1e3 / (len(times) * b)
        m = statistics.mean(times)
        sd = statistics.stdev(times) if len(times) > 1 else 0.0
        print(f"| torchvision resnet50 | {torch.get_num_threads()} | {b} | {m:.1f} ± {sd:.1f} | {cpu:.1f} | "
              f"{1e3 / m:.2f} | {MACS / m * 1e-6:.1f} | {len(times)} |", flush=True)


def run_gpu(net, a, batches, precisions):
    dev = a.device
    rows = torch_rows.Rows(a.jsonl, torch.cuda.get_device_name(torch.device(dev)) if dev.startswith("cuda") else "cpu")
    torch.backends.cudnn.benchmark = True
    variant = "torchvision (cuDNN, channels_last)"
    t_start = time.perf_counter()
    dtypes = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    ref = {}  # batch -> fp32 logits, for "dev vs fp32"
    for b in batches:
        for p in precisions:
            params = f"batch {b}"
            if a.budget and time.perf_counter() - t_start > a.budget:
                rows.skipped("classifier", "resnet50 forward", params, f"time budget ({p})")
                continue
            torch_rows.set_fp32_mode(torch, p == "tf32")
            m = copy.deepcopy(net).to(device=dev, dtype=dtypes[p], memory_format=torch.channels_last)
            g = torch.Generator().manual_seed(5)
            x = torch.randn(b, 3, 224, 224, generator=g).to(device=dev, dtype=dtypes[p])
            x = x.contiguous(memory_format=torch.channels_last)
            try:
                with torch.inference_mode():
                    out = m(x).float()
                    dv = -1.0
                    if p == "fp32":
                        ref[b] = out
                    elif b in ref:
                        dv = float((out - ref[b]).abs().max() / ref[b].abs().max())
                    ms, sd, _ = torch_rows.time_call(torch, lambda: m(x), dev, a.min_time, a.reps)
            except RuntimeError as e:  # out of memory and the like: a row, not the end of the run
                rows.skipped("classifier", "resnet50 forward", params, f"{p}: {str(e).splitlines()[0][:120]}")
                if dev.startswith("cuda"):
                    torch.cuda.empty_cache()
                continue
            rows.row("classifier", "resnet50 forward", params, variant, p, ms, sd, 2 * MACS * b / (ms * 1e-3) / 1e12,
                     "TFLOP/s", dv)
            print(f"|   |   | {params} | images/s | {p} | {b / (ms * 1e-3):.1f} | | | |", flush=True)
        if dev.startswith("cuda"):
            torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--batch", default=None, help="comma-separated batch sizes (default 1,32 on the CPU, 64,256,1 on a GPU)")
    ap.add_argument("--precisions", default="fp32,tf32,bf16,fp16", help="GPU only (default fp32,tf32,bf16,fp16)")
    ap.add_argument("--reps", type=int, default=5, help="minimum repetitions per row (default 5)")
    ap.add_argument("--min-time", type=float, default=1.0, help="minimum seconds per row (default 1)")
    ap.add_argument("--budget", type=float, default=0, help="GPU: start no new row after this many seconds (0: no limit)")
    ap.add_argument("--jsonl", default=None, help="GPU: append one JSON object per row to this file")
    a = ap.parse_args()
    gpu = a.device.startswith("cuda")
    batches = [int(s) for s in (a.batch or ("64,256,1" if gpu else "1,32")).split(",") if s.strip()]
    precisions = [p for p in a.precisions.split(",") if p]
    bad = [p for p in precisions if p not in ("fp32", "tf32", "bf16", "fp16")]
    if bad:
        ap.error(f"unknown precision {bad[0]!r} (fp32, tf32, bf16, fp16)")
    if gpu and not torch.cuda.is_available():
        print("torchvision_resnet50: torch has no CUDA device here: nothing to run")
        return 0
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = torchvision.models.resnet50().eval()
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}"
          + (f", cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name()}" if gpu else ""))
    if gpu:
        run_gpu(net, a, batches, precisions)
    else:
        run_cpu(net, a, batches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
