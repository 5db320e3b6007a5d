#!/usr/bin/python3
"""make_torch_fixtures.py — small torch.save files for test_torch_convert (committed; the
tests need no Python). Run: /usr/bin/python3 tests/make_torch_fixtures.py

tests/data/convert/:
  pump_small.pth         PUMP-stytrf ConvMixer state dict (the real names, spec/pump.md §2) at
                         reduced width (128 -> 8, 512 -> 16), zip format
  pump_small_deflate64.pth  the same archive re-zipped with deflate, ZIP64 extra fields in the
                         central directory and a ZIP64 end record with saturated classic fields
  wrapped.pth            an ImageNet-example style checkpoint: {'epoch', 'arch', 'best_acc1',
                         'state_dict': {'module.<name>': ...} (resnet_small_ckpt weights),
                         'optimizer': {...}}
  dtypes.pth             float16 / bfloat16 / float64 (also a transposed view) / int / bool
                         tensors, a 0-d and an empty tensor
  dtypes_legacy.pth      the same, legacy format
  ref.safetensors        expected values: pump_small.<name> (F32), dtypes.<name> (as float32
                         for floating sources, native otherwise)
"""
import collections, io, json, os, struct, zipfile
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "data", "convert")
os.makedirs(out, exist_ok=True)
torch.manual_seed(3)

def st_read(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
    dt = {"F32": np.float32, "I64": np.int64}
    return collections.OrderedDict(
        (k, torch.from_numpy(np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                                           dt[v["dtype"]]).reshape(v["shape"]).copy())) for k, v in h.items())

def st_write(path, ts):
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64", np.dtype(np.int32): "I32",
             np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL"}
    hdr, off, blobs = {}, 0, []
    for k, v in ts.items():
        b = np.ascontiguousarray(v).tobytes()
        hdr[k] = {"dtype": names[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        off += len(b); blobs.append(b)
    h = json.dumps(hdr).encode(); h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

ref = collections.OrderedDict()

# ---- PUMP ConvMixer names at reduced width
C0, C1 = 8, 16
pump = collections.OrderedDict()
def conv(name, o, i, k):
    pump[name + ".weight"] = torch.randn(o, i, k, k)
    pump[name + ".bias"] = torch.randn(o)
def bn(name, c):
    pump[name + ".weight"] = torch.rand(c) + 0.5
    pump[name + ".bias"] = torch.randn(c)
    pump[name + ".running_mean"] = torch.randn(c)
    pump[name + ".running_var"] = torch.rand(c) + 0.5
    pump[name + ".num_batches_tracked"] = torch.tensor(100)
conv("0", C0, 3, 5); bn("2", C0); conv("3", C1, C0, 4); bn("5", C1)
for k in range(7):
    conv("%d.fn.0" % (6 + 4 * k), C1, 1, 9); bn("%d.fn.2" % (6 + 4 * k), C1)
    conv("%d" % (7 + 4 * k), C1, C1, 1); bn("%d" % (9 + 4 * k), C1)
conv("34", C1, C1, 1)
torch.save(pump, os.path.join(out, "pump_small.pth"))
for k, v in pump.items():
    ref["pump_small." + k] = v.numpy()

# the same archive, deflated, with ZIP64 records forced by lowering zipfile's limits
src = zipfile.ZipFile(os.path.join(out, "pump_small.pth"))
lim = (zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT)
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 64, 4
with zipfile.ZipFile(os.path.join(out, "pump_small_deflate64.pth"), "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(info.filename, src.read(info.filename))
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = lim
# saturate the classic end record's counts, size and offset: readers must take the ZIP64 values
p = os.path.join(out, "pump_small_deflate64.pth")
b = bytearray(open(p, "rb").read())
e = b.rfind(b"PK\x05\x06")
b[e + 8:e + 20] = struct.pack("<HHLL", 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
open(p, "wb").write(bytes(b))

# ---- wrapped checkpoint with the DataParallel prefix
w = st_read(os.path.join(here, "data", "resnet_small_ckpt", "weights.safetensors"))
sd = collections.OrderedDict(("module." + k, v) for k, v in w.items())
params = [k for k, v in w.items() if v.dtype == torch.float32][:2]
torch.save({"epoch": 7, "arch": "resnet50", "best_acc1": torch.tensor(0.5), "state_dict": sd,
            "optimizer": {"state": {0: {"momentum_buffer": torch.zeros_like(w[params[0]])}},
                          "param_groups": [{"lr": 0.1, "momentum": 0.9, "params": [0, 1]}]}},
           os.path.join(out, "wrapped.pth"))

# ---- dtypes, views, 0-d and empty tensors
base = torch.randn(6, 5, dtype=torch.float64)
dt = collections.OrderedDict([
    ("f16", torch.randn(3, 4).half()),
    ("bf16", torch.randn(2, 7).bfloat16()),
    ("f64", torch.randn(4, 3, dtype=torch.float64)),
    ("f64_t", base.t()),                      # non-contiguous view
    ("f64_slice", base[2:, 1:4]),             # offset + strides into a shared storage
    ("i64", torch.arange(-5, 7, dtype=torch.int64).reshape(3, 4)),
    ("i32", torch.arange(10, dtype=torch.int32)),
    ("u8", torch.arange(250, 256, dtype=torch.uint8)),
    ("bool", torch.tensor([True, False, True])),
    ("scalar_f16", torch.tensor(1.5, dtype=torch.float16)),
    ("empty", torch.zeros(0, 3)),
])
torch.save(dt, os.path.join(out, "dtypes.pth"))
torch.save(dt, os.path.join(out, "dtypes_legacy.pth"), _use_new_zipfile_serialization=False)
for k, v in dt.items():
    ref["dtypes." + k] = v.float().numpy() if v.is_floating_point() else v.numpy()
st_write(os.path.join(out, "ref.safetensors"), ref)
print("wrote", sorted(os.listdir(out)))
