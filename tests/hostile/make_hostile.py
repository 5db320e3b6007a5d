#!/usr/bin/python3
"""make_hostile.py — writes the hostile input set of tests/hostile/ (committed, so the tests
need no Python). Every file must be refused by `lis-run convert` with an error containing the
substrings listed in tests/hostile/EXPECTED ("file<TAB>substring<TAB>..."), and nothing may be
written. test_torch_convert checks both.

Run: /usr/bin/python3 tests/hostile/make_hostile.py   (needs numpy, torch, scikit-learn, and
tests/data/convert/ from tests/make_torch_fixtures.py)

Kinds: pickles that call os.system / posix.system / eval / exec / getattr / subprocess /
importlib (directly, nested in a snapshot, inside a storage blob, inside a scikit-learn model,
in a torch data.pkl, in a legacy stream); refused opcodes (INST, OBJ, EXT1, text opcodes);
deep nesting; huge declared lengths; memo abuse; truncated and corrupt zip archives (CRC,
offsets, names, overlap, duplicates, encryption, methods); zip bombs (a real one over the
inflate budget, one lying about its size, one with an impossible ratio); tensors out of their
storage's range, negative strides, broadcast expansion, too many dims, huge counts; truncated
and inconsistent legacy streams; bad safetensors headers.
"""
import builtins, importlib, io, os, pickle, posix, struct, subprocess, warnings, zipfile, zlib

import torch
from sklearn.linear_model import LinearRegression

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
expected = []


def emit(name, data, *substrings):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    expected.append((name, substrings))


# ---------------------------------------------------------------- a tiny pickle assembler
def proto(n): return b"\x80" + bytes([n])
def glob(mod, name): return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"
def s(x):
    b = x.encode()
    return b"X" + struct.pack("<I", len(b)) + b
def num(n): return b"\x8a" + bytes([len(pickle.encode_long(n))]) + pickle.encode_long(n)
MARK, TUPLE, TUPLE1, REDUCE, STOP = b"(", b"t", b"\x85", b"R", b"."
EMPTY_DICT, EMPTY_TUPLE, SETITEM, SETITEMS, NONE = b"}", b")", b"s", b"u", b"N"
NEWFALSE, NEWTRUE, BINPERSID, EMPTY_LIST, APPENDS = b"\x89", b"\x88", b"Q", b"]", b"e"
def tup(*xs): return MARK + b"".join(xs) + TUPLE
def odict(): return glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
def call_os(cmd="echo pwned"): return glob("os", "system") + s(cmd) + TUPLE1 + REDUCE


def tensor_expr(pid, offset, size, stride):
    return glob("torch._utils", "_rebuild_tensor_v2") + tup(
        pid + BINPERSID, num(offset), tup(*map(num, size)), tup(*map(num, stride)), NEWFALSE, odict()) + REDUCE


def zip_pid(key, numel, stype="FloatStorage"):
    return tup(s("storage"), glob("torch", stype), s(key), s("cpu"), num(numel))


def state_dict_pkl(items):
    """items: list of (name, value pickle bytes) -> protocol-2 OrderedDict pickle"""
    return proto(2) + odict() + MARK + b"".join(s(k) + v for k, v in items) + SETITEMS + STOP


def torch_zip(datapkl, storages, archive="archive", extra=()):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_STORED) as z:
        z.writestr(archive + "/data.pkl", datapkl)
        for k, b in storages.items():
            z.writestr(archive + "/data/" + k, b)
        z.writestr(archive + "/version", b"3\n")
        for n, b in extra:
            z.writestr(archive + "/" + n, b)
    return bio.getvalue()


MAGIC = proto(2) + b"\x8a\x0a" + bytes.fromhex("6cfc9c46f9206aa85019") + STOP
def sysinfo(little=True):
    return proto(2) + EMPTY_DICT + MARK + s("protocol_version") + num(1001) + s("little_endian") + \
        (NEWTRUE if little else NEWFALSE) + s("type_sizes") + EMPTY_DICT + SETITEMS + STOP
def legacy_stream(obj_pkl, records, little=True):
    """records: list of (key, numel, raw bytes)"""
    out = MAGIC + proto(2) + num(1001) + STOP + sysinfo(little) + obj_pkl
    out += proto(2) + EMPTY_LIST + MARK + b"".join(s(k) for k, _, _ in records) + APPENDS + STOP
    for _, n, raw in records:
        out += struct.pack("<q", n) + raw
    return out
def legacy_pid(key, numel, view=NONE):
    return tup(s("storage"), glob("torch", "FloatStorage"), s(key), s("cpu"), num(numel), view)


def snapshot(gema_state_items, proto_n=4):
    """{'G_ema': _reconstruct_persistent_obj({'type': 'class', 'class_name': 'Gen', 'state': {...}})}"""
    meta = EMPTY_DICT + MARK + s("type") + s("class") + s("version") + num(6) + s("class_name") + s("Gen") + \
        s("state") + EMPTY_DICT + MARK + b"".join(k + v for k, v in gema_state_items) + SETITEMS + SETITEMS
    return proto(proto_n) + EMPTY_DICT + s("G_ema") + \
        glob("torch_utils.persistence", "_reconstruct_persistent_obj") + meta + TUPLE1 + REDUCE + SETITEM + STOP


def blob_param(blob, numel, offset=0):
    """('_parameters', OrderedDict(w=tensor of a _load_from_bytes storage blob)) for snapshot()"""
    pid_storage = glob("torch.storage", "_load_from_bytes") + b"B" + struct.pack("<I", len(blob)) + blob + TUPLE1 + REDUCE
    t = glob("torch._utils", "_rebuild_tensor_v2") + tup(pid_storage, num(offset), tup(num(numel)), tup(num(1)),
                                                         NEWFALSE, odict()) + REDUCE
    return (s("_parameters"), odict() + MARK + s("w") + t + SETITEMS)


class Reduce:
    """pickles as fn(*args): what an attacker's __reduce__ produces"""
    def __init__(self, fn, *args): self.fn, self.args = fn, args
    def __reduce__(self): return (self.fn, self.args)


def patch(data, off, fmt, val):
    b = bytearray(data)
    b[off:off + struct.calcsize(fmt)] = struct.pack(fmt, val)
    return bytes(b)


# ---------------------------------------------------------------- pickles calling code
emit("p_os_system.pkl", proto(2) + call_os() + STOP, "global 'os.system' would run code")
emit("p_posix_system.pkl", pickle.dumps(Reduce(posix.system, "echo pwned"), protocol=4), "'posix.system' would run code")
emit("p_eval.pkl", pickle.dumps(Reduce(builtins.eval, "__import__('os').system('echo pwned')"), protocol=3),
     "'builtins.eval' would run code")
emit("p_exec_py2.pkl", proto(2) + glob("__builtin__", "exec") + s("print(1)") + TUPLE1 + REDUCE + STOP,
     "'__builtin__.exec' would run code")
emit("p_getattr.pkl", pickle.dumps(Reduce(getattr, "x", "upper"), protocol=4), "'builtins.getattr' would run code")
# protocol 2 writes Python 2 names (fix_imports): subprocess.Popen becomes commands.Popen
emit("p_subprocess.pkl", pickle.dumps(Reduce(subprocess.Popen, ["echo", "pwned"]), protocol=2),
     "'commands.Popen' would run code")
emit("p_subprocess_co.pkl", pickle.dumps(Reduce(subprocess.check_output, ["id"]), protocol=4),
     "'subprocess.check_output' would run code")
emit("p_importlib.pkl", pickle.dumps(Reduce(importlib.import_module, "os"), protocol=4),
     "'importlib.import_module' would run code")
emit("p_dill_import.pkl", proto(4) + glob("dill._dill", "_import_module") + s("os") + TUPLE1 + REDUCE + STOP,
     "'dill._dill._import_module' would run code")
emit("p_unknown_global.pkl", proto(2) + glob("evil_module", "Thing") + EMPTY_TUPLE + REDUCE + STOP,
     "global 'evil_module.Thing' is not one lis reads")
emit("p_nested_os.pkl", snapshot([(s("_parameters"), odict()), (s("attr"), EMPTY_LIST + MARK + call_os() + APPENDS)]),
     "global 'os.system' would run code")
# ---------------------------------------------------------------- refused opcodes
emit("p_inst.pkl", proto(2) + MARK + s("echo pwned") + b"ios\nsystem\n" + STOP, "INST/OBJ opcodes")
emit("p_obj.pkl", proto(2) + MARK + glob("argparse", "Namespace") + b"o" + STOP, "INST/OBJ opcodes")
emit("p_ext1.pkl", proto(2) + b"\x82\x01" + STOP, "extension registry opcodes are refused")
emit("p_text_int.pkl", proto(2) + b"I1\n" + STOP, "protocol-0 text opcodes")
emit("p_unknown_op.pkl", proto(2) + b"\xff" + STOP, "unknown opcode 0xff")
# ---------------------------------------------------------------- nesting and sizes
emit("p_deep_marks.pkl", proto(2) + MARK * 5000 + STOP, "nesting deeper than 1000 MARKs")
emit("p_deep_modules.pkl",
     proto(4) + EMPTY_DICT + s("G_ema") +
     (glob("torch_utils.persistence", "_reconstruct_persistent_obj") + EMPTY_DICT + MARK + s("type") + s("class") +
      s("class_name") + s("M") + s("state") + EMPTY_DICT + MARK + s("_modules") + odict() + MARK + s("m")) * 100 +
     NONE + (SETITEMS + SETITEMS + SETITEMS + TUPLE1 + REDUCE) * 100 + SETITEM + STOP,
     "modules nested deeper than 64 levels")
def module_obj(children):
    return glob("torch_utils.persistence", "_reconstruct_persistent_obj") + EMPTY_DICT + MARK + s("type") + s("class") + \
        s("class_name") + s("M") + s("state") + EMPTY_DICT + MARK + s("_modules") + odict() + MARK + children + \
        SETITEMS + SETITEMS + SETITEMS + TUPLE1 + REDUCE
# a module DAG: level i holds level i-1 twice (memo references), 2^40 paths to walk
dag = module_obj(b"") + b"q\x00" + b"0"
for i in range(1, 40):
    dag += module_obj(s("a") + b"h" + bytes([i - 1]) + s("b") + b"h" + bytes([i - 1])) + b"q" + bytes([i]) + b"0"
emit("p_module_dag.pkl", proto(4) + EMPTY_DICT + s("G_ema") + dag + b"h" + bytes([39]) + SETITEM + STOP,
     "more than 100000 modules")
emit("p_huge_unicode8.pkl", proto(4) + b"\x8d" + struct.pack("<Q", 1 << 62) + b"abc" + STOP, "exceeds the")
emit("p_huge_binbytes.pkl", proto(3) + b"B" + struct.pack("<I", 0xFFFFFFF0) + b"x" * 16 + STOP,
     "truncated: needs 4294967280 bytes")
emit("p_huge_long4.pkl", proto(2) + b"\x8b" + struct.pack("<i", 0x7FFFFFFF) + b"\x01" * 8 + STOP,
     "truncated: needs 2147483647")
emit("p_memo_unset.pkl", proto(2) + b"h\xc8" + STOP, "memo entry 200 was never stored")
emit("p_memo_far.pkl", proto(2) + NONE + b"r" + struct.pack("<I", 0xFFFFFFF0) + STOP,
     "memo index 4294967280 is out of order")
emit("p_underflow.pkl", proto(2) + REDUCE + STOP, "stack underflow")
emit("p_no_stop.pkl", proto(2) + EMPTY_DICT, "the pickle ends without STOP")
emit("p_trailing.pkl", snapshot([]) + b"GARBAGE", "follow the pickle's STOP")
emit("p_proto9.pkl", b"\x80\x09" + NONE + STOP, "unrecognised file kind")
emit("p_no_gema.pkl", proto(4) + EMPTY_DICT + s("G") + NONE + SETITEM + STOP, "the snapshot has no 'G_ema'")
emit("p_gema_none.pkl", proto(4) + EMPTY_DICT + s("G_ema") + NONE + SETITEM + STOP, "'G_ema' is None")
# ---------------------------------------------------------------- storage blobs of snapshots
evil_blob = legacy_stream(proto(2) + call_os() + STOP, [])
emit("p_blob_os.pkl", snapshot([blob_param(evil_blob, 4)]), "storage blob: pickle 4 (object)",
     "global 'os.system' would run code")
good_blob = legacy_stream(proto(2) + legacy_pid("7", 4) + BINPERSID + STOP, [("7", 4, b"\0" * 16)])
emit("p_blob_trunc.pkl", snapshot([blob_param(good_blob[:-5], 4)]), "storage '7' needs 16 bytes, 11 remain")
emit("p_tensor_oob.pkl", snapshot([blob_param(good_blob, 4, offset=3)]), "w: reaches element 6 but its storage holds 4")
# ---------------------------------------------------------------- scikit-learn
lr = LinearRegression()
lr.coef_ = Reduce(posix.system, "echo pwned")
lr.intercept_ = 0.0
emit("s_posix_system.pkl", pickle.dumps(lr, protocol=4), "'posix.system' would run code")
emit("s_unfitted.pkl", pickle.dumps(LinearRegression(), protocol=4), "it was never fitted")

# ---------------------------------------------------------------- torch zip archives
good = open(os.path.join(DATA, "convert", "dtypes.pth"), "rb").read()
emit("z_truncated.pth", good[:len(good) // 2], "no end-of-central-directory record")
info = [i for i in zipfile.ZipFile(io.BytesIO(good)).infolist() if i.filename.endswith("/data/0")][0]
lh = info.header_offset
data_at = lh + 30 + struct.unpack("<H", good[lh + 26:lh + 28])[0] + struct.unpack("<H", good[lh + 28:lh + 30])[0]
emit("z_bad_crc.pth", patch(good, data_at + 5, "<B", good[data_at + 5] ^ 0x40), "fails its CRC-32 check")
eocd = good.rfind(b"PK\x05\x06")
cd_off = struct.unpack("<I", good[eocd + 16:eocd + 20])[0]
z64 = good.rfind(b"PK\x06\x06")  # torch writes a ZIP64 end record too: patch both
emit("z_cd_out_of_range.pth", patch(patch(good, eocd + 16, "<I", cd_off + 10 ** 6), z64 + 48, "<Q", cd_off + 10 ** 6),
     "central directory (offset")
first_cd = good.find(b"PK\x01\x02", cd_off)
emit("z_local_offset.pth", patch(good, first_cd + 42, "<I", 0x7FFFFFF0), "local header offset 2147483632 is out of range")
emit("z_name_mismatch.pth", patch(good, 30, "<B", ord("X")), "the local header names another file")
emit("z_encrypted.pth", patch(good, first_cd + 8, "<H", 0x0801), "is encrypted")
emit("z_method.pth", patch(good, first_cd + 10, "<H", 12), "compression method 12")
emit("z_cut_middle.pth", good[:first_cd - 200] + good[first_cd:])  # the directory's offsets now point past the data
bio = io.BytesIO()
with zipfile.ZipFile(bio, "w") as z:
    warnings.simplefilter("ignore")
    z.writestr("archive/data.pkl", state_dict_pkl([]))
    z.writestr("archive/data.pkl", state_dict_pkl([]))
emit("z_dup_names.pth", bio.getvalue(), "appears twice")
# two entries whose bytes overlap: the second local header lies inside the first entry's data
inner = b"PK\x03\x04" + struct.pack("<HHHHHLLLHH", 20, 0, 0, 0, 0, zlib.crc32(b"x"), 1, 1, 1, 0) + b"b" + b"x"
outer_data = inner + b"padding"
outer = b"PK\x03\x04" + struct.pack("<HHHHHLLLHH", 20, 0, 0, 0, 0, zlib.crc32(outer_data), len(outer_data),
                                    len(outer_data), 1, 0) + b"a" + outer_data
cd = b""
for name, off, payload in ((b"a", 0, outer_data), (b"b", 30 + 1, b"x")):
    cd += b"PK\x01\x02" + struct.pack("<HHHHHHLLLHHHHHLL", 20, 20, 0, 0, 0, 0, zlib.crc32(payload), len(payload),
                                      len(payload), 1, 0, 0, 0, 0, 0, off) + name
emit("z_overlap.pth", outer + cd + b"PK\x05\x06" + struct.pack("<HHHHLLH", 0, 0, 2, 2, len(cd), len(outer), 0),
     "overlap (a zip bomb or a corrupt archive)")


def deflated_zip(name, payload, usize_patch=None):
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = co.compress(payload) + co.flush()
    crc, usize = zlib.crc32(payload), len(payload) if usize_patch is None else usize_patch
    lh = b"PK\x03\x04" + struct.pack("<HHHHHLLLHH", 20, 0, 8, 0, 0, crc, len(comp), usize, len(name), 0) + name
    cdh = b"PK\x01\x02" + struct.pack("<HHHHHHLLLHHHHHLL", 20, 20, 0, 8, 0, 0, crc, len(comp), usize, len(name), 0, 0, 0,
                                       0, 0, 0) + name
    return lh + comp + cdh + b"PK\x05\x06" + struct.pack("<HHHHLLH", 0, 0, 1, 1, len(cdh), len(lh) + len(comp), 0)


emit("z_bomb.pth", deflated_zip(b"archive/data.pkl", bytes(300 << 20)), "over the archive's budget")
emit("z_bomb_lying.pth", deflated_zip(b"archive/data.pkl", bytes(1 << 20), usize_patch=1000),
     "inflates beyond its declared size")
emit("z_bomb_ratio.pth", deflated_zip(b"archive/data.pkl", bytes(1 << 16), usize_patch=0xFFFFFFFE),
     "impossible for deflate (zip bomb)")
f4 = struct.pack("<4f", 1, 2, 3, 4)
emit("z_missing_storage.pth", torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 0, [4], [1]))]), {}),
     "storage '0' is used but the entry 'archive/data/0' is missing")
emit("z_short_storage.pth", torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 0, [4], [1]))]), {"0": f4[:12]}),
     "holds 12 bytes; storage '0' needs 16")
emit("z_offset_oob.pth", torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 1000, [4], [1]))]), {"0": f4}),
     "w: reaches element 1003 but its storage holds 4")
emit("z_stride_oob.pth", torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 0, [2, 2], [3, 1]))]), {"0": f4}),
     "w: reaches element 4 but its storage holds 4")
emit("z_neg_stride.pth", torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 3, [4], [-1]))]), {"0": f4}),
     "tensor stride[0] is not a non-negative integer")
emit("z_huge_numel.pth", torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 1 << 62), 0, [4], [1]))]), {"0": f4}),
     "persistent id: bad element count")
emit("z_huge_shape.pth",
     torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 0, [1 << 40, 1 << 40, 1 << 40], [0, 0, 0]))]), {"0": f4}),
     "w: shape overflows")
emit("z_broadcast.pth", torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 0, [1 << 30, 4], [0, 1]))]), {"0": f4}),
     "w: expands")
emit("z_9dims.pth", torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 0, [1] * 9, [1] * 9))]), {"0": f4}),
     "tensor size has 9 dimensions")
emit("z_eval_datapkl.pth", torch_zip(proto(2) + glob("builtins", "eval") + s("1+1") + TUPLE1 + REDUCE + STOP, {}),
     "data.pkl: offset 2 (GLOBAL): global 'builtins.eval' would run code")
emit("z_os_in_state_dict.pth",
     torch_zip(state_dict_pkl([("w", tensor_expr(zip_pid("0", 4), 0, [4], [1])), ("x", call_os())]), {"0": f4}),
     "global 'os.system' would run code")
bio = io.BytesIO()
torch.save(torch.nn.Linear(2, 3), bio)
emit("z_whole_module.pth", bio.getvalue(), "a whole pickled module")
bio = io.BytesIO()
with zipfile.ZipFile(bio, "w") as z:
    z.writestr("hello.txt", b"hi")
emit("z_not_torch.pth", bio.getvalue(), "without <name>/data.pkl")
emit("z_bigendian.pth", torch_zip(state_dict_pkl([]), {}, extra=[("byteorder", b"big")]), "big-endian torch files")
emit("z_bad_pid.pth", torch_zip(state_dict_pkl([("w", tensor_expr(tup(s("module"), s("x")), 0, [4], [1]))]), {}),
     "persistent id is not a ('storage'")

# ---------------------------------------------------------------- legacy streams
leg = open(os.path.join(DATA, "convert", "dtypes_legacy.pth"), "rb").read()
emit("l_truncated.pth", leg[:-10], "(truncated file)")
one = legacy_stream(state_dict_pkl([("w", tensor_expr(legacy_pid("5", 4), 0, [4], [1]))]), [("5", 4, f4)])
emit("l_numel_mismatch.pth", one[:-24] + struct.pack("<q", 5) + one[-16:],
     "storage '5' holds 5 elements but its persistent id says 4")
emit("l_os_system.pth", legacy_stream(proto(2) + call_os() + STOP, []), "pickle 4 (object)",
     "global 'os.system' would run code")
emit("l_bigendian.pth", legacy_stream(state_dict_pkl([]), [], little=False), "big-endian torch files")
emit("l_view_metadata.pth",
     legacy_stream(state_dict_pkl([("w", tensor_expr(legacy_pid("5", 4, view=tup(s("x"), num(0), num(4))), 0, [4], [1]))]),
                   [("5", 4, f4)]), "view_metadata")
emit("l_unlisted.pth", legacy_stream(state_dict_pkl([("w", tensor_expr(legacy_pid("5", 4), 0, [4], [1]))]), []),
     "storage '5' is used but its data are missing")
emit("l_trailing.pth", one + b"extra", "bytes of trailing data")

# ---------------------------------------------------------------- safetensors
emit("t_header_huge.safetensors", struct.pack("<Q", 1 << 62) + b"{}")
h = b'{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,1600]}}'
emit("t_offsets.safetensors", struct.pack("<Q", len(h)) + h + b"\0" * 16)

with open(os.path.join(HERE, "EXPECTED"), "w") as f:
    f.write("# file<TAB>substrings the error must contain, TAB-separated (none: any error); by make_hostile.py\n")
    for n, subs in expected:
        f.write("\t".join((n,) + tuple(subs)) + "\n")
print("wrote %d hostile files" % len(expected))
