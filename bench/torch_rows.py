"""torch_rows.py — the PyTorch baselines' side of lis-bench's output: the same markdown
table columns and the same JSON-lines fields as `lis-bench cuda --jsonl`, so that
bench/gpu_goals.py can put a lis row and the PyTorch row of the same suite, params and
precision side by side (they are matched on suite, params and precision; "variant" says
which engine a row is from). Also the timing loop the baselines share (CUDA events when
the device is a GPU, wall clock on the CPU) and PyTorch's precision switches."""
import json
import os
import statistics
import time

HEADER = ("\n| suite | op | params | variant | precision | time (ms) | throughput | vs lib | dev vs fp32 |\n"
          "|---|---|---|---|---|---|---|---|---|")


class Rows:
    """Prints rows as markdown; appends them to --jsonl FILE when given."""

    def __init__(self, jsonl_path, device_name):
        self.jsonl = open(jsonl_path, "a") if jsonl_path else None
        self.device = device_name
        self.commit = os.environ.get("LIS_COMMIT", "unknown")
        self.date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(HEADER, flush=True)

    def row(self, suite, op, params, variant, precision, ms_mean, ms_std, throughput, unit, dev=-1.0):
        thr = f"{throughput:.{0 if throughput >= 100 else 2}f} {unit}" if throughput > 0 else "-"
        dv = f"{dev:.2e}" if dev >= 0 else "-"
        print(f"| {suite} | {op} | {params} | {variant} | {precision} | {ms_mean:.4f} ± {ms_std:.4f} | {thr} | - | {dv} |",
              flush=True)
        if self.jsonl:
            self.jsonl.write(json.dumps({
                "suite": suite, "op": op, "params": params, "variant": variant, "precision": precision, "ok": 1,
                "time_ms": ms_mean, "std_ms": ms_std, "throughput": throughput, "unit": unit, "vs_lib": 0.0,
                "dev": dev, "device": self.device, "commit": self.commit, "date": self.date}) + "\n")
            self.jsonl.flush()

    def skipped(self, suite, op, params, why):
        print(f"| {suite} | {op} | {params} | - | - | skipped: {why} | - | - | - |", flush=True)


def set_fp32_mode(torch, tf32):
    """fp32 = IEEE float32 everywhere; tf32 = TF32 tensor cores in convolutions and matmuls.
    (PyTorch's own default is TF32 in cuDNN convolutions and IEEE in matmuls.)"""
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32


def time_call(torch, fn, device, min_time, min_reps, warmup=2):
    """Mean and standard deviation in ms of fn() over at least min_reps calls and min_time
    seconds, after `warmup` calls (cuDNN's autotuning happens there)."""
    cuda = device.startswith("cuda")
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        if cuda:
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            fn()
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1))
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.mean(times), (statistics.stdev(times) if len(times) > 1 else 0.0), len(times)
