#!/usr/bin/env python3
"""cls_layers.py — the classifier's per-convolution tables of several benchmark steps side by
side, so that one GPU run says which kernel variant wins on which layer:

    python3 bench/cls_layers.py DIR/logs/bench-cls.log DIR/logs/bench-cls-taps.log ...

Each log is the output of `lis-bench cuda classifier --layers` (tests/gpu_check.sh names them
bench-cls*.log after their step); the step name (the file name without .log) labels its
column. For each batch and precision that two or more logs measured: one row per convolution
shape with every variant's milliseconds, the fastest variant and its gain over the first log's
(the shipped path, bench-cls, when it is given first); then the totals, and the total of the
fastest variant per shape: what a per-layer choice among them would give (each variant ran
in its own process, so the rows are comparable only within one run).

Prints markdown; the last line is a one-line summary. Exit status 0 whatever the outcome;
2 when no log can be read."""
import os
import re
import sys

HEAD = re.compile(r"^per convolution shape, batch (\d+), (\w+)")


def parse(path):
    """{(batch, precision): [(shape, ms)]} of one log, shapes in the order printed."""
    tables, cur = {}, None
    with open(path, errors="replace") as f:
        for line in f:
            m = HEAD.match(line)
            if m:
                cur = tables.setdefault((int(m.group(1)), m.group(2)), [])
                continue
            if cur is None:
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            # | conv | in -> out | size | count | path | ms | share | TFLOP/s |
            if len(cells) == 8 and re.match(r"^\d+x\d+/\d+$", cells[0]):
                try:
                    ms = float(cells[5])
                except ValueError:
                    continue
                if ms > 0:  # 0: the benchmark could not read that layer's events
                    cur.append(((cells[0], cells[1], cells[2], cells[3]), ms))
            elif line.startswith("| classifier") or (cur and not line.strip()):
                cur = None  # a table ends at its blank line or the next result row
    return tables


def main(paths):
    logs = []
    for p in paths:
        try:
            name = os.path.basename(p)
            logs.append((name[:-4] if name.endswith(".log") else name, parse(p)))
        except OSError as e:
            print(f"cls_layers: {p}: {e.strerror}", file=sys.stderr)
    if not logs:
        print("cls_layers: no log could be read", file=sys.stderr)
        return 2
    keys = []
    for _, t in logs:
        keys += [k for k in t if k not in keys]
    summary = []
    for batch, prec in keys:
        cols = [(name, dict(t[(batch, prec)])) for name, t in logs if t.get((batch, prec))]
        if len(cols) < 2:
            continue
        shapes = []
        for name, t in logs:
            shapes += [s for s, _ in t.get((batch, prec), []) if s not in shapes]
        print(f"\n### batch {batch}, {prec}: ms per convolution shape (summed over its count)\n")
        print("| conv | in -> out | size | count | " + " | ".join(n for n, _ in cols) + " | fastest | vs first |")
        print("|---|---|---|---|" + "---|" * len(cols) + "---|---|")
        totals = [0.0] * len(cols)
        best_total = 0.0
        for s in shapes:
            ms = [c.get(s) for _, c in cols]
            known = [(v, i) for i, v in enumerate(ms) if v is not None]
            for i, v in enumerate(ms):
                totals[i] += v or 0.0
            v_best, i_best = min(known)
            best_total += v_best
            gain = f"{ms[0] / v_best:.2f}x" if ms[0] else "-"
            cells = " | ".join("-" if v is None else f"{v:.3f}" for v in ms)
            print(f"| {' | '.join(s)} | {cells} | {cols[i_best][0]} | {gain} |")
        cells = " | ".join(f"**{v:.3f}**" for v in totals)
        print(f"| total | | | | {cells} | per shape: **{best_total:.3f}** | "
              f"{totals[0] / best_total:.2f}x |" if best_total else "")
        i_min = min(range(len(cols)), key=lambda i: totals[i])
        summary.append(f"b{batch} {prec}: {cols[0][0]} {totals[0]:.2f} ms, fastest {cols[i_min][0]} "
                       f"{totals[i_min]:.2f}, per-shape best {best_total:.2f}")
    print()
    print("per-layer variants: " + ("; ".join(summary) if summary else "no batch and precision in two logs"))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) > 1 else 2)
    sys.exit(main(sys.argv[1:]))
