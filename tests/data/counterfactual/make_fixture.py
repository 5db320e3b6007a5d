#!/usr/bin/python3
"""make_fixture.py — PyTorch reference for tests/test_counterfactual.c: the counterfactual
losses of LinkingInStyle (gen_counterfactual / counterfactual_opt.py / counterfactual.py)
with autograd gradients and a few optimiser steps, in float64.

Problem (regenerated bit for bit in the C test from numpy's RandomState streams):
  fc         the demo classifier's fc.weight [6, 768], fc.bias [6] (cli/demo/classifier.safetensors)
  coef       RandomState(1).randn(512 * 768) * 0.02 -> float32 [512, 768]
  intercept  RandomState(2).randn(512) * 0.1 -> float32
  r          |RandomState(3).randn(768)| * 0.3 -> float32
  w_orig     RandomState(4).randn(512) * 0.5 -> float32 (variant v2)
  s0         RandomState(0).random_sample(768) (float64): lis's documented initial shift
  origin 2, target 4, lambda 0.6, cosine weight 10, lr 0.5
Variants: released (v7) and v2 with plain gradient descent, v4 and v5 with torch.optim.AdamW
(betas (0.9, 0.99), eps 1e-8, weight_decay 0.01), as the original scripts.
Writes <variant>_grad0.npy [768] (d loss / d s at s0), <variant>_loss.npy [steps] (loss
before each step), <variant>_s.npy [768] (s after the steps).
Run:  /usr/bin/python3 tests/data/counterfactual/make_fixture.py
"""
import json, os, struct
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))

def load_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == "__metadata__" or v["dtype"] != "F32":
            continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype=np.float32).reshape(v["shape"])
    return out

cls = load_st(os.path.join(root, "cli", "demo", "classifier.safetensors"))
Wfc = torch.tensor(cls["fc.weight"].astype(np.float64))
bfc = torch.tensor(cls["fc.bias"].astype(np.float64))
F, wd = 768, 512
A = torch.tensor((np.random.RandomState(1).randn(wd * F) * 0.02).astype(np.float32).reshape(wd, F).astype(np.float64))
c = torch.tensor((np.random.RandomState(2).randn(wd) * 0.1).astype(np.float32).astype(np.float64))
r = torch.tensor((np.abs(np.random.RandomState(3).randn(F)) * 0.3).astype(np.float32).astype(np.float64))
w_orig = torch.tensor((np.random.RandomState(4).randn(wd) * 0.5).astype(np.float32).astype(np.float64))
s0 = np.random.RandomState(0).random_sample(F)
o, t, lam, cw, lr = 2, 4, 0.6, 10.0, 0.5
cos = torch.nn.functional.cosine_similarity

def loss_fn(variant, s):
    x = r - s
    z = Wfc @ x + bfc
    v = A @ x + c
    if variant == "released":
        return -z[t] + lam * z[o] - cw * cos(A @ r + c, v, dim=0)
    if variant == "v2":
        return -z[t] + lam * z[o] - cw * cos(w_orig, v, dim=0)
    if variant == "v4":
        return -torch.softmax(z, 0)[t]
    if variant == "v5":
        return -torch.softmax(z, 0)[t] - lam * cos(A @ r + c, v, dim=0)
    raise ValueError(variant)

for variant, adam, steps in [("released", False, 5), ("v2", False, 5), ("v4", True, 25), ("v5", True, 25)]:
    s = torch.tensor(s0, requires_grad=True)
    g0 = torch.autograd.grad(loss_fn(variant, s), s)[0]
    np.save(os.path.join(here, variant + "_grad0.npy"), g0.numpy())
    opt = torch.optim.AdamW([s], lr=lr, betas=(0.9, 0.99), weight_decay=0.01) if adam else torch.optim.SGD([s], lr=lr)
    losses = []
    for k in range(steps):
        opt.zero_grad()
        L = loss_fn(variant, s)
        L.backward()
        opt.step()
        losses.append(L.item())
    np.save(os.path.join(here, variant + "_loss.npy"), np.array(losses))
    np.save(os.path.join(here, variant + "_s.npy"), s.detach().numpy())
    print(variant, steps, "steps: loss", losses[0], "->", losses[-1], "torch", torch.__version__)
