#!/usr/bin/python3
"""make_sklearn_fixture.py — pickled scikit-learn linking networks for test_torch_convert.

Writes tests/data/sklearn_link/ (committed; tests need no Python):
  ols_p4.pkl      LinearRegression(), pickle protocol 4 (as pickle.dump writes on Python 3.8+)
  ridge_p2.pkl    Ridge(alpha=1.0), protocol 2 (numpy bytes as _codecs.encode(str, 'latin1'))
  enet_p5.pkl     ElasticNet(alpha=0.01, l1_ratio=0.5), protocol 5 (in-band PickleBuffer)
  ridge1_p4.pkl   Ridge on ONE target: 1-D coef_, scalar intercept_
  lasso_dict.pkl  {'model': Lasso(alpha=0.01), 'note': 'wrapped'}, protocol 4
  expected.safetensors   X_test F32 [8, 12]; per model <m>.coef F64, <m>.intercept F64,
                         <m>.pred F64 = predict(X_test as float64)
Run with Debian's python3-sklearn:  /usr/bin/python3 tests/make_sklearn_fixture.py
"""
import json, os, pickle, struct, sys
import numpy as np
import sklearn
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "sklearn_link")
os.makedirs(out, exist_ok=True)
rng = np.random.RandomState(5)
n, d, k = 60, 12, 5
X = np.maximum(rng.randn(n, d), 0).astype(np.float32)        # post-ReLU-like features
B = rng.randn(d, k).astype(np.float32)
Y = (X @ B + 0.1 * rng.randn(n, k)).astype(np.float32)
X_test = np.maximum(rng.randn(8, d), 0).astype(np.float32)
X64, Y64 = X.astype(np.float64), Y.astype(np.float64)

models = {
    "ols_p4": (LinearRegression().fit(X64, Y64), 4),
    "ridge_p2": (Ridge(alpha=1.0).fit(X64, Y64), 2),
    "enet_p5": (ElasticNet(alpha=0.01, l1_ratio=0.5).fit(X64, Y64), 5),
    "ridge1_p4": (Ridge(alpha=1.0).fit(X64, Y64[:, 0]), 4),
    "lasso_dict": (Lasso(alpha=0.01).fit(X64, Y64), 4),
}
tensors = {"X_test": X_test}
for name, (m, proto) in models.items():
    obj = {"model": m, "note": "wrapped"} if name == "lasso_dict" else m
    with open(os.path.join(out, name + ".pkl"), "wb") as f:
        pickle.dump(obj, f, protocol=proto)
    coef = np.atleast_2d(m.coef_).astype(np.float64)
    icpt = np.atleast_1d(np.asarray(m.intercept_, dtype=np.float64))
    tensors[name + ".coef"] = coef
    tensors[name + ".intercept"] = icpt
    tensors[name + ".pred"] = np.asarray(m.predict(X_test.astype(np.float64)), dtype=np.float64).reshape(8, -1)

def write_st(path, ts, meta):
    names = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}
    hdr, off, blobs = {"__metadata__": meta}, 0, []
    for k, v in ts.items():
        b = np.ascontiguousarray(v).tobytes()
        hdr[k] = {"dtype": names[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

write_st(os.path.join(out, "expected.safetensors"), tensors,
         {"sklearn": sklearn.__version__, "numpy": np.__version__, "python": sys.version.split()[0]})
print("wrote", out, "sklearn", sklearn.__version__)
