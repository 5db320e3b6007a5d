#!/usr/bin/env python3
"""torchvision_resnet50.py — the PyTorch side of `lis-bench resnet`: torchvision resnet50
(full net incl. fc, float32, eval, no_grad) on the CPU with the same threads and batches,
printing ms/image (wall and process CPU) and images/s in the same table layout.

    /usr/bin/python3 bench/torchvision_resnet50.py [--threads 2] [--batch 1,32] [--min-time 1] [--reps 5]

Random weights (torchvision's default init): the speed does not depend on the values.
Prints "not installed" and exits 0 when torch/torchvision are missing (Debian:
apt-get install python3-torch python3-torchvision). spec/classifier.md §5 has the
reference run (PyTorch 1.13 CPU, oneDNN, 2-vCPU EPYC)."""
import argparse
import statistics
import sys
import time

try:
    import torch
    import torchvision
except ImportError:
    print("torchvision_resnet50: torch/torchvision not installed")
    sys.exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--batch", default="1,32", help="comma-separated batch sizes (default 1,32)")
    ap.add_argument("--reps", type=int, default=5, help="minimum repetitions per row (default 5)")
    ap.add_argument("--min-time", type=float, default=1.0, help="minimum seconds per row (default 1)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = torchvision.models.resnet50().eval()
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print("\n| net | threads | batch | wall ms/image (mean ± sd) | CPU ms/image | images/s | GMAC/s | reps |")
    print("|---|---|---|---|---|---|---|---|")
    macs = 4.089e9
    for b in [int(s) for s in a.batch.split(",") if s.strip()]:
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
              f"{1e3 / m:.2f} | {macs / m * 1e-6:.1f} | {len(times)} |", flush=True)


if __name__ == "__main__":
    main()
