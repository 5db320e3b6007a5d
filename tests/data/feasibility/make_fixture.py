#!/usr/bin/python3
"""make_fixture.py — reference values for tests/test_feasibility.c, from scikit-learn / scipy.

Writes (next to this file; committed, tests need no Python):
  blobs_X.npy      F32 [90, 5]   three well-separated blobs (make_blobs, random_state 3)
  blobs_labels.npy I64 [90]      KMeans(3, n_init=10, random_state=0).labels_
  mix_X.npy        F32 [200, 8]  four overlapping Gaussian clusters
  rsa_X.npy        F32 [12, 6]   small integer values (ties in the distances)
  rsa_Y.npy        F32 [12, 9]
  rsa_corr_X.npy   F64 [12, 12]  numpy.corrcoef(X); rsa_corr_Y.npy the same of Y (mathematically
                                 equal correlations round differently, so Spearman is checked on these)
  rsa_euclid_X.npy F64 [12, 12]  scipy cdist(X, X)
  expected.json    ARI cases, k-means inertias, triangle correlations, versions
Run with Debian's python3-sklearn:  /usr/bin/python3 tests/data/feasibility/make_fixture.py
"""
import json, os
import numpy as np
import scipy, sklearn
from scipy.spatial.distance import cdist
from scipy.stats import pearsonr, spearmanr
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

out = os.path.dirname(os.path.abspath(__file__))
exp = {"sklearn": sklearn.__version__, "scipy": scipy.__version__, "numpy": np.__version__}

# ---- adjusted Rand index
rng = np.random.RandomState(1)
cases = [([0, 0, 1, 1], [0, 0, 1, 1]), ([0, 0, 1, 1], [1, 1, 0, 0]), ([0, 0, 1, 2], [0, 0, 1, 1]),
         ([0, 0, 0, 0], [0, 1, 2, 3]), ([0, 0, 1, 1], [0, 1, 0, 1]), ([5, 5, 7, 7, 7], [232, 232, 151, 151, 9])]
for n, ka, kb in [(50, 3, 4), (200, 5, 5), (31, 2, 7), (400, 6, 6)]:
    a = rng.randint(ka, size=n)
    b = np.where(rng.rand(n) < 0.6, a, rng.randint(kb, size=n))  # partly agreeing
    cases.append((a.tolist(), b.tolist()))
exp["ari"] = [{"a": [int(x) for x in a], "b": [int(x) for x in b], "ari": float(adjusted_rand_score(a, b))} for a, b in cases]

# ---- k-means
X, _ = make_blobs(n_samples=90, n_features=5, centers=3, cluster_std=0.6, random_state=3)
X = X.astype(np.float32)
km = KMeans(3, n_init=10, random_state=0).fit(X)
np.save(os.path.join(out, "blobs_X.npy"), X)
np.save(os.path.join(out, "blobs_labels.npy"), km.labels_.astype(np.int64))
exp["blobs_inertia"] = float(km.inertia_)
c = rng.randn(4, 8) * 1.2
M = (np.repeat(c, 50, axis=0) + rng.randn(200, 8)).astype(np.float32)
np.save(os.path.join(out, "mix_X.npy"), M)
exp["mix_inertia_best"] = float(min(KMeans(4, n_init=10, random_state=s).fit(M).inertia_ for s in range(5)))
exp["mix_inertia_n10"] = float(KMeans(4, n_init=10, random_state=0).fit(M).inertia_)

# ---- similarity matrices and triangle correlations
A = rng.randint(0, 4, size=(12, 6)).astype(np.float32)
B = (A @ rng.randint(-1, 2, size=(6, 9)) + rng.randint(0, 2, size=(12, 9))).astype(np.float32)
np.save(os.path.join(out, "rsa_X.npy"), A)
np.save(os.path.join(out, "rsa_Y.npy"), B)
CA, CB = np.corrcoef(A.astype(np.float64)), np.corrcoef(B.astype(np.float64))
EA, EB = cdist(A.astype(np.float64), A.astype(np.float64)), cdist(B.astype(np.float64), B.astype(np.float64))
np.save(os.path.join(out, "rsa_corr_X.npy"), CA)
np.save(os.path.join(out, "rsa_corr_Y.npy"), CB)
np.save(os.path.join(out, "rsa_euclid_X.npy"), EA)
iu = np.triu_indices(12, 1)
exp["corr_pearson"] = float(pearsonr(CA[iu], CB[iu])[0])
exp["corr_spearman"] = float(spearmanr(CA[iu], CB[iu])[0])
exp["euclid_pearson"] = float(pearsonr(EA[iu], EB[iu])[0])
exp["euclid_spearman"] = float(spearmanr(EA[iu], EB[iu])[0])
exp["ties_a"] = [1, 2, 2, 3, 3, 3, 7, 0, 0.5, 2]
exp["ties_b"] = [4, 1, 1, 1, 9, 2, 2, 8, 8, 8]
exp["ties_spearman"] = float(spearmanr(exp["ties_a"], exp["ties_b"])[0])
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(exp, f, indent=1)
print(json.dumps({k: v for k, v in exp.items() if k != "ari"}, indent=1))
