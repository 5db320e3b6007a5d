#!/usr/bin/python3
"""make_seeds.py — small seed inputs for the fuzz targets that the repository's test data
do not already provide (run.sh adds tests/data and tests/hostile files to every corpus).
Run once: /usr/bin/python3 tests/fuzz/make_seeds.py   (numpy, torch); the seeds are committed.

seeds/pickle/   torch zip data.pkl (protocol 2), a miniature StyleGAN-XL snapshot (protocol 4,
                persistent objects, a storage blob, numpy scalars and arrays as dill writes them)
seeds/legacy/   legacy torch.save streams of one storage (what _load_from_bytes parses)
seeds/npy/      .npy files: f4, f8, i8, u1, bool, 0-d, Fortran order, format 2.0, big-endian
seeds/cfg/      INI pipeline configs
seeds/safetensors/  small valid files with metadata, F16/I64, 0-d and empty tensors
"""
import collections, io, json, os, pickle, struct, zipfile
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
def put(sub, name, data):
    d = os.path.join(here, "seeds", sub)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)

# ---- pickles
bio = io.BytesIO()
torch.save(collections.OrderedDict(w=torch.arange(6.).reshape(2, 3), b=torch.ones(2).half(), n=torch.tensor(3)), bio)
z = zipfile.ZipFile(io.BytesIO(bio.getvalue()))
put("pickle", "torch_data.pkl", z.read([n for n in z.namelist() if n.endswith("data.pkl")][0]))

def storage_blob(t):
    b = io.BytesIO()
    torch.save(t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage(), b, _use_new_zipfile_serialization=False)
    return b.getvalue()

blob = storage_blob(torch.arange(4.))
put("legacy", "blob_f32.bin", blob)
put("legacy", "blob_i64.bin", storage_blob(torch.tensor([123456])))
b = io.BytesIO()
torch.save({"a": torch.arange(3.), "b": torch.arange(6.)[1::2]}, b, _use_new_zipfile_serialization=False)
put("legacy", "state_dict.pth", b.getvalue())

class Persistent:
    """pickles like torch_utils.persistence objects"""
    def __init__(self, name, state): self.name, self.state = name, state
    def __reduce__(self):
        import torch_utils_stub
        return (torch_utils_stub._reconstruct_persistent_obj,
                (dict(type="class", version=6, module_src="# src", class_name=self.name, state=self.state),))

import sys, types
stub = types.ModuleType("torch_utils.persistence")
def _reconstruct_persistent_obj(meta): return meta
_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
stub._reconstruct_persistent_obj = _reconstruct_persistent_obj
sys.modules["torch_utils"] = types.ModuleType("torch_utils")
sys.modules["torch_utils.persistence"] = stub
sys.modules["torch_utils_stub"] = stub
class Blob:
    def __init__(self, b): self.b = b
    def __reduce__(self):
        import torch.storage
        return (torch.storage._load_from_bytes, (self.b,))
class Param:
    def __init__(self, blob, shape): self.blob, self.shape = blob, shape
    def __reduce__(self):
        import torch._utils
        stride = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
        return (torch._utils._rebuild_tensor_v2, (Blob(self.blob), 0, self.shape, stride, False, collections.OrderedDict()))
layer = Persistent("SynthesisLayer", {
    "training": False, "_parameters": collections.OrderedDict(weight=Param(blob, (2, 2))),
    "_buffers": collections.OrderedDict(), "_modules": collections.OrderedDict(),
    "in_size": np.array([36, 36]), "padding": [9, 8, 9, 8], "up_factor": 2, "conv_clamp": 256,
    "in_cutoff": np.float64(2.0), "is_torgb": False})
syn = Persistent("SynthesisNetwork", {"_parameters": collections.OrderedDict(), "_buffers": collections.OrderedDict(),
                                      "_modules": collections.OrderedDict(L0_36_2=layer), "layer_names": ["L0_36_2"]})
put("pickle", "mini_snapshot.pkl", pickle.dumps({"G": None, "G_ema": Persistent("Gen", {
    "_parameters": collections.OrderedDict(), "_buffers": collections.OrderedDict(),
    "_modules": collections.OrderedDict(synthesis=syn), "z_dim": 64}), "progress": {"best_fid": 2.5}}, protocol=4))

# ---- npy
def npy(name, a, **kw):
    b = io.BytesIO()
    np.save(b, a, **kw)
    put("npy", name, b.getvalue())
npy("f4_2x3.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
npy("f8.npy", np.linspace(0, 1, 5))
npy("i8.npy", np.arange(-3, 3))
npy("u1.npy", np.arange(7, dtype=np.uint8))
npy("bool.npy", np.array([True, False]))
npy("scalar.npy", np.float32(3.5))
npy("fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
npy("big_endian.npy", np.arange(3, dtype=">f4"))
b = io.BytesIO()
np.lib.format.write_array(b, np.arange(4, dtype=np.float16), version=(2, 0))
put("npy", "v2_f2.npy", b.getvalue())

# ---- cfg
put("cfg", "pipeline.cfg", b"""# a pipeline
[sample]
seeds      = 0-99, 150, 200-209   # ranges
truncation = 0.7                  ; comment
classes    = 232, 254, 151
batch = 8
flag = yes
psi = 0.5, 0.7, 1.0
[link]
model = ridge
alpha = 1.0
out   = runs/dogs#1/link
""")
put("cfg", "crlf_bom.cfg", b"\xef\xbb\xbf[sample]\r\nseeds = all\r\n\r\n[link]\r\nmodel = ols\r\n")

# ---- safetensors
def st(name, ts, meta=None):
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64", np.dtype(np.uint8): "U8"}
    hdr, off, blobs = ({"__metadata__": meta} if meta else {}), 0, []
    for k, v in ts.items():
        raw = np.ascontiguousarray(v).tobytes()
        hdr[k] = {"dtype": names[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw); blobs.append(raw)
    h = json.dumps(hdr).encode(); h += b" " * (-len(h) % 8)
    put("safetensors", name, struct.pack("<Q", len(h)) + h + b"".join(blobs))
st("small.safetensors", {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "h": np.ones(2, np.float16),
                         "n": np.array(7, dtype=np.int64), "e": np.zeros((0, 3), np.float32)},
   {"config": json.dumps({"arch": "resnet"}), "origin": "seed"})
st("u8.safetensors", {"img": np.arange(12, dtype=np.uint8).reshape(2, 2, 3)})
print("seeds written")
