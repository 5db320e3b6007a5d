/* test_pickle.c — the pickle VM, the zip reader and the torch formats on hand-made inputs.
 *
 *  1. opcodes: scalars (every integer width incl. LONG1 sign extension, BINFLOAT), strings
 *     and bytes, containers, MARK frames, memo (PUT/GET text, BINPUT, LONG_BINPUT, MEMOIZE),
 *     POP/POP_MARK/DUP, FRAME, protocol bounds; errors name the opcode and its offset.
 *  2. builders: OrderedDict (empty and from pairs), set/frozenset, _codecs.encode, torch
 *     tensors through a persistent_load callback (offsets, strides, gather, 0-d, empty),
 *     numpy dtype/scalar/_reconstruct/_frombuffer/dill _create_array (C and Fortran order),
 *     persistent objects, inert classes, copyreg._reconstructor, torch.Size.
 *  3. limits: allocation budget, memo order, MARK nesting, walk depth of JSON export.
 *  4. robustness on real files: every single-byte corruption of a small torch zip and every
 *     truncation of a legacy file is either read or refused with a message (run under
 *     `make asan` for memory errors).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/fileio.h"
#include "tests/harness.h"
#include "weights_tools/pickle.h"
#include "weights_tools/torch_file.h"
#include "weights_tools/torch_zip.h"

#define PK(lit) (const unsigned char *)(lit), sizeof(lit) - 1

static lis_pk_vm *vm_new(size_t budget) {
    lis_pk_opts o = {.label = "test.pkl", .max_alloc = budget};
    lis_pk_vm *vm = NULL;
    lis_pk_vm_init(&vm, &o);
    return vm;
}

/* runs a pickle in a fresh VM; returns the root (VM in *vmp, caller frees) or NULL */
static lis_pk *run(lis_pk_vm **vmp, const unsigned char *b, size_t n) {
    *vmp = vm_new(0);
    size_t pos = 0;
    lis_pk *out = NULL;
    if (lis_pk_run(*vmp, NULL, b, n, &pos, &out) != LIS_OK) return NULL;
    return out;
}

static void expect_ok(const char *what, const unsigned char *b, size_t n, const char *json) {
    lis_pk_vm *vm;
    lis_pk *v = run(&vm, b, n);
    lis_sbuf s = {0};
    if (v) lis_pk_to_json(&s, v, 64);
    lis_check(v && s.s && !strcmp(s.s, json), "%s -> %s (got %s%s)", what, json, v ? (s.s ? s.s : "?") : "error: ",
              v ? "" : lis_err_msg());
    lis_sbuf_free(&s);
    lis_pk_vm_free(vm);
}

static void expect_err(const char *what, const unsigned char *b, size_t n, const char *sub) {
    lis_pk_vm *vm;
    lis_pk *v = run(&vm, b, n);
    lis_check(!v && strstr(lis_err_msg(), sub), "%s refused: %s", what, v ? "(accepted!)" : lis_err_msg());
    lis_pk_vm_free(vm);
}

static void test_opcodes(void) {
    expect_ok("BININT1/2/4", PK("\200\002(K\005M\064\022J\376\377\377\377l."), "[5,4660,-2]");
    expect_ok("LONG1 sign extension", PK("\200\002(\212\001\377\212\002\000\200\212\000\212\010\377\377\377\377\377\377\377\177l."),
              "[-1,-32768,0,9223372036854775807]");
    expect_ok("LONG4", PK("\200\002\213\002\000\000\000\001\001."), "257");
    expect_ok("BINFLOAT", PK("\200\002G\077\370\000\000\000\000\000\000."), "1.5");
    expect_ok("NONE/NEWTRUE/NEWFALSE", PK("\200\002(N\210\211t."), "[null,true,false]");
    expect_ok("strings", PK("\200\004(\214\002abX\001\000\000\000c\215\001\000\000\000\000\000\000\000dU\001eT\001\000\000\000fl."),
              "[\"ab\",\"c\",\"d\",\"e\",\"f\"]");
    expect_ok("bytes are not plain", PK("\200\003C\002ab."), "null");
    expect_ok("TUPLE1/2/3, EMPTY_TUPLE", PK("\200\002(K\001\205K\001K\002\206K\001K\002K\003\207)t."), "[[1],[1,2],[1,2,3],[]]");
    expect_ok("dict: SETITEM, SETITEMS, DICT", PK("\200\002}X\001\000\000\000aK\001s(X\001\000\000\000bK\002u."), "{\"a\":1,\"b\":2}");
    expect_ok("DICT opcode", PK("\200\002(X\001\000\000\000aK\001d."), "{\"a\":1}");
    expect_ok("list: APPEND, APPENDS", PK("\200\002]K\001a(K\002K\003e."), "[1,2,3]");
    expect_ok("memo: BINPUT/BINGET, MEMOIZE, LONG_BINGET", PK("\200\004(K\007q\000\224h\000j\001\000\000\000l."), "[7,7,7]");
    expect_ok("memo: PUT/GET text", PK("\200\002(K\011p0\ng0\nl."), "[9,9]");
    expect_ok("POP, DUP, POP_MARK", PK("\200\002(K\001K\0020\062(K\011\061l."), "[1,1]");
    expect_ok("FRAME", PK("\200\004\225\003\000\000\000\000\000\000\000K\001."), "1");
    expect_ok("EMPTY_SET/ADDITEMS/FROZENSET are not plain", PK("\200\004\217(K\001\220."), "null");
    expect_ok("STACK_GLOBAL OrderedDict()", PK("\200\004\214\013" "collections\214\013OrderedDict\223)R."), "{}");
    expect_ok("OrderedDict(pairs)", PK("\200\002ccollections\nOrderedDict\n](X\001\000\000\000kK\003ta\205R."), "{\"k\":3}");
    expect_ok("BUILD on a dict is ignored", PK("\200\002ccollections\nOrderedDict\n)R}b."), "{}");
    expect_ok("_codecs.encode latin1", PK("\200\002c_codecs\nencode\nX\004\000\000\000a\303\251bX\006\000\000\000latin1\206R."), "null");
    expect_ok("torch.Size", PK("\200\002ctorch\nSize\nK\002K\003\206\205R."), "[2,3]");

    expect_err("truncated BININT", PK("\200\002J\001\000"), "offset 2 (BININT): truncated: needs 4 bytes, 2 remain");
    expect_err("protocol 6", PK("\200\006N."), "offset 0 (PROTO): pickle protocol 6");
    expect_err("FRAME too long", PK("\200\004\225\377\000\000\000\000\000\000\000N."), "frame of 255 bytes");
    expect_err("APPEND to a dict", PK("\200\002}K\001a."), "appending to a dict");
    expect_err("SETITEMS odd", PK("\200\002}(K\001u."), "odd number of items");
    expect_err("pop below MARK", PK("\200\002K\001(R."), "stack underflow");
    expect_err("STOP on empty stack", PK("\200\002."), "stack underflow");
    expect_err("no MARK", PK("\200\002t."), "no MARK");
    expect_err("GLOBAL with bad name", PK("\200\002cos system\nx\n."), "malformed global name");
    expect_err("GLOBAL name too long",
               PK("\200\002caaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nb\n."),
               "text argument longer");
    expect_err("STACK_GLOBAL of ints", PK("\200\004K\001K\002\223."), "module and name must be short strings");
    expect_err("REDUCE of a non-tuple", PK("\200\002ccollections\nOrderedDict\nK\001R."), "not a tuple");
    expect_err("NEWOBJ of a function", PK("\200\002ctorch._utils\n_rebuild_tensor_v2\n)\201."), "cannot be instantiated");
    expect_err("calling a storage class", PK("\200\002ctorch\nFloatStorage\n)R."), "only expected inside a persistent id");
    expect_err("BINPERSID without a callback", PK("\200\002K\001Q."), "persistent ids are not expected");
    expect_err("_load_from_bytes without a callback", PK("\200\002ctorch.storage\n_load_from_bytes\nC\000\205R."), "not expected in this file");
    expect_err("PERSID", PK("\200\002P1\n."), "text persistent ids");
    expect_err("NEXT_BUFFER", PK("\200\005\227."), "out-of-band");
    expect_err("BUILD on an int", PK("\200\002K\001}b."), "BUILD on a int");
    expect_err("_codecs.encode utf8", PK("\200\002c_codecs\nencode\nX\001\000\000\000aX\004\000\000\000utf8\206R."), "expected (str, 'latin1')");
    expect_err("latin1 above U+00FF", PK("\200\002c_codecs\nencode\nX\003\000\000\000\342\202\254X\006\000\000\000latin1\206R."),
               "above U+00FF");
}

/* ---- tensors through a persistent_load callback: storage '0' = 12 float32 0..11 ---- */
static float storage12[12];
static lis_status pl_fixed(void *ctx, lis_pk_vm *vm, const lis_pk *pid, lis_pk **out) {
    (void)ctx;
    lis_dtype dt;
    if (pid->type != LIS_PK_TUPLE || pid->n != 5 || !lis_pk_storage_dtype(pid->items[1], &dt)) return lis_err_set("bad pid");
    lis_pk *s = lis_pk_new(vm, LIS_PK_STORAGE);
    if (!s) return LIS_ERR;
    s->u.storage.dtype = dt;
    s->u.storage.key = pid->items[2];
    s->u.storage.numel = pid->items[4]->i;
    s->u.storage.data = (const unsigned char *)storage12;
    s->u.storage.nbytes = sizeof storage12;
    *out = s;
    return LIS_OK;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) */
#define TENSOR_PKL(off, size, stride)                                                                                  \
    "\200\002" "ctorch._utils\n_rebuild_tensor_v2\n((X\007\000\000\000storagectorch\nFloatStorage\nX\001\000\000\000" \
    "0X\003\000\000\000cpuK\014tQ" off size stride "\211" "ccollections\nOrderedDict\n)RtR."

static int tensor_case(const char *what, const unsigned char *b, size_t n, int ndim, const float *want, int64_t numel,
                       int expect_view, const char *err) {
    lis_pk_opts o = {.label = "t.pkl", .persistent_load = pl_fixed};
    lis_pk_vm *vm = NULL;
    lis_pk_vm_init(&vm, &o);
    size_t pos = 0;
    lis_pk *v = NULL;
    lis_tensor t = {0};
    lis_status s = lis_pk_run(vm, NULL, b, n, &pos, &v);
    if (s == LIS_OK) s = lis_pk_tensor(v, &t, what);
    int ok;
    if (err) {
        ok = s != LIS_OK && strstr(lis_err_msg(), err);
        lis_check(ok, "%s refused: %s", what, s == LIS_OK ? "(accepted!)" : lis_err_msg());
    } else {
        ok = s == LIS_OK && t.ndim == ndim && lis_tensor_numel(&t) == numel && t.owns != expect_view &&
             (numel == 0 || !memcmp(t.data, want, sizeof(float) * (size_t)numel));
        lis_check(ok, "%s: %s%s", what, s == LIS_OK ? (expect_view ? "view" : "gathered copy") : lis_err_msg(),
                  ok || s != LIS_OK ? "" : " (values/shape/view differ)");
    }
    lis_tensor_free(&t);
    lis_pk_vm_free(vm);
    return ok;
}

static void test_tensors(void) {
    for (int i = 0; i < 12; i++) storage12[i] = (float)i;
    static const float w_view[] = {2, 3, 4, 5, 6, 7}, w_t[] = {0, 3, 1, 4, 2, 5}, w_s[] = {1, 3, 5, 7, 9, 11}, w_0[] = {7};
    tensor_case("offset view 2x3", PK(TENSOR_PKL("K\002", "K\002K\003\206", "K\003K\001\206")), 2, w_view, 6, 1, NULL);
    tensor_case("transposed 3x2 (gather)", PK(TENSOR_PKL("K\000", "K\003K\002\206", "K\001K\003\206")), 2, w_t, 6, 0, NULL);
    tensor_case("strided slice (gather)", PK(TENSOR_PKL("K\001", "K\006\205", "K\002\205")), 1, w_s, 6, 0, NULL);
    tensor_case("0-d scalar", PK(TENSOR_PKL("K\007", ")", ")")), 0, w_0, 1, 1, NULL);
    tensor_case("empty 0x5", PK(TENSOR_PKL("K\000", "K\000K\005\206", "K\005K\001\206")), 2, NULL, 0, 0, NULL);
    tensor_case("size-1 dims with any stride", PK(TENSOR_PKL("K\002", "K\001K\006\206", "K\143K\001\206")), 2, w_view, 6, 1, NULL);
    tensor_case("out of range", PK(TENSOR_PKL("K\007", "K\006\205", "K\001\205")), 1, NULL, 0, 0, "reaches element 12");
    tensor_case("stride overflow", PK(TENSOR_PKL("K\000", "K\003\205", "\212\010\000\000\000\000\000\000\000\100\205")), 1,
                NULL, 0, 0, "overflow");
    tensor_case("size/stride mismatch", PK(TENSOR_PKL("K\000", "K\003\205", ")")), 1, NULL, 0, 0, "stride 0");
    tensor_case("negative offset", PK(TENSOR_PKL("J\377\377\377\377", "K\003\205", "K\001\205")), 1, NULL, 0, 0, "bad storage offset");
}

/* ---- numpy, persistent objects, classes ---- */
#define NP_F8 "cnumpy\ndtype\nX\002\000\000\000f8\211\210\207R(K\003X\001\000\000\000<NNNJ\377\377\377\377J\377\377\377\377K\000tb"
#define NP_RECON "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\000\205C\001b\207R"

static void test_numpy(void) {
    /* 2x2 float64 [[1,2],[3,4]] in C order, and the same values in Fortran order */
    expect_ok("ndarray C order", PK("\200\003" NP_RECON "(K\001K\002K\002\206" NP_F8 "\211"
                                    "C\040\000\000\000\000\000\000\360\077\000\000\000\000\000\000\000\100"
                                    "\000\000\000\000\000\000\010\100\000\000\000\000\000\000\020\100tb."),
              "[[1.0,2.0],[3.0,4.0]]");
    lis_pk_vm *vm;
    lis_pk *v = run(&vm, PK("\200\003" NP_RECON "(K\001K\002K\002\206" NP_F8 "\210"
                            "C\040\000\000\000\000\000\000\360\077\000\000\000\000\000\000\010\100"
                            "\000\000\000\000\000\000\000\100\000\000\000\000\000\000\020\100tb."));
    lis_tensor t = {0};
    int ok = v && lis_pk_tensor(v, &t, "fortran") == LIS_OK && t.owns && t.dtype == LIS_DTYPE_F64;
    double want[4] = {1, 2, 3, 4};
    lis_check(ok && !memcmp(t.data, want, sizeof want), "ndarray Fortran order gathered to row-major");
    lis_tensor_free(&t);
    lis_pk_vm_free(vm);
    expect_ok("numpy scalar f8", PK("\200\003" "cnumpy.core.multiarray\nscalar\n" NP_F8 "C\010\000\000\000\000\000\000\004\100\206R."),
              "2.5");
    expect_ok("numpy scalar i8 (dtype without BUILD)",
              PK("\200\003" "cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nX\002\000\000\000i8\211\210\207RC\010\376\377\377\377\377\377\377\377\206R."),
              "-2");
    expect_ok("_frombuffer", PK("\200\005" "cnumpy.core.numeric\n_frombuffer\n(\226\010\000\000\000\000\000\000\000"
                                "\000\000\000\000\000\000\370\077" "cnumpy\ndtype\nX\002\000\000\000f8\211\210\207RK\001\205X\001\000\000\000CtR."),
              "[1.5]");
    expect_ok("dill _create_array", PK("\200\004" "cdill._dill\n_create_array\n(cnumpy.core.multiarray\n_reconstruct\n"
                                       "(cnumpy\nndarray\nK\000\205C\001bt(K\001K\001\205" NP_F8 "\211"
                                       "C\010\000\000\000\000\000\000\000\300tNtR."),
              "[-2.0]");
    v = run(&vm, PK("\200\003" NP_RECON "(K\001K\003\205" NP_F8 "\211" "C\010\000\000\000\000\000\000\000\000tb."));
    lis_check(v && lis_pk_tensor(v, &t, "nd") != LIS_OK && strstr(lis_err_msg(), "does not match its 8 data bytes"),
              "ndarray shape/data mismatch refused: %s", lis_err_msg());
    lis_pk_vm_free(vm);
    expect_err("numpy scalar with wrong size", PK("\200\003" "cnumpy.core.multiarray\nscalar\n" NP_F8 "C\004\000\000\000\000\206R."),
               "numpy scalar of dtype 'f8' with 4 bytes");
    /* persistent object, inert class, copyreg */
    v = run(&vm, PK("\200\002" "ctorch_utils.persistence\n_reconstruct_persistent_obj\n}(X\004\000\000\000typeX\005\000\000\000class"
                    "X\012\000\000\000class_nameX\003\000\000\000NetX\005\000\000\000state}X\001\000\000\000aK\001su\205R."));
    char cn[64];
    lis_check(v && !strcmp(lis_pk_class_name(v, cn, sizeof cn), "Net") && lis_pk_dict_get(lis_pk_obj_state(v), "a"),
              "persistent object: class_name and state");
    lis_pk_vm_free(vm);
    v = run(&vm, PK("\200\002" "ctorch.nn.modules.linear\nLinear\n)\201}X\001\000\000\000wK\002sb}X\001\000\000\000xK\003sb."));
    lis_check(v && !strcmp(lis_pk_class_name(v, cn, sizeof cn), "torch.nn.modules.linear.Linear") &&
                  lis_pk_dict_get(lis_pk_obj_state(v), "w") && lis_pk_dict_get(lis_pk_obj_state(v), "x"),
              "inert class instance: NEWOBJ + two BUILDs merge the state");
    lis_pk_vm_free(vm);
    v = run(&vm, PK("\200\002" "ccopyreg\n_reconstructor\nctorch.nn.modules.linear\nLinear\ncbuiltins\nobject\nN\207R."));
    lis_check(!v && strstr(lis_err_msg(), "builtins.object"), "copyreg._reconstructor with builtins.object: %s", lis_err_msg());
    lis_pk_vm_free(vm);
    v = run(&vm, PK("\200\004" "cdill._dill\n_load_type\nX\012\000\000\000MethodType\205R(K\001K\002tR."));
    lis_check(v && v->type == LIS_PK_OBJECT && v->u.obj.called, "dill _load_type result called again: an opaque value");
    lis_pk_vm_free(vm);
}

static void test_limits(void) {
    /* budget: a list of 1000 dicts needs far more than 4 KiB */
    unsigned char big[4 + 3 * 1000 + 2], *p = big;
    *p++ = 0x80; *p++ = 2; *p++ = '(';
    for (int i = 0; i < 1000; i++) *p++ = '}';
    *p++ = 'l'; *p++ = '.';
    lis_pk_vm *vm = vm_new(4096);
    size_t pos = 0;
    lis_pk *v;
    lis_status s = lis_pk_run(vm, NULL, big, (size_t)(p - big), &pos, &v);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "more than 0 MiB"), "allocation budget: %s", lis_err_msg());
    lis_pk_vm_free(vm);
    /* JSON export of a 300-deep nested list stops at the walk depth (written as null) */
    unsigned char deep[2 + 2 * 300 + 300 + 1];
    p = deep;
    *p++ = 0x80; *p++ = 2;
    for (int i = 0; i < 300; i++) *p++ = ']';
    for (int i = 0; i < 299; i++) *p++ = 'a';
    *p++ = '.';
    v = run(&vm, deep, (size_t)(p - deep));
    lis_check(v && !lis_pk_is_plain(v, 8), "300-deep list is not exported (walk depth %d)", LIS_PK_MAX_WALK_DEPTH);
    lis_pk_vm_free(vm);
    /* a value DAG: list i holds list i-1 twice (memo), 2^60 paths: walks give up quickly */
    unsigned char dag[8 + 60 * 8], *q = dag;
    *q++ = 0x80; *q++ = 2; *q++ = ']'; *q++ = 'q'; *q++ = 0;
    for (int i = 1; i < 60; i++) { *q++ = '('; *q++ = 'h'; *q++ = (unsigned char)(i - 1); *q++ = 'h'; *q++ = (unsigned char)(i - 1); *q++ = 'l'; *q++ = 'q'; *q++ = (unsigned char)i; }
    *q++ = '.';
    v = run(&vm, dag, (size_t)(q - dag));
    lis_sbuf js = {0};
    if (v) lis_pk_to_json(&js, v, 8);
    lis_check(v && !lis_pk_is_plain(v, 8) && js.s && !strcmp(js.s, "null"), "2^60-path list DAG: not exported, walk bounded");
    lis_sbuf_free(&js);
    lis_pk_vm_free(vm);
    /* two pickles back to back share the VM; the memo does not carry over */
    static const unsigned char two[] = "\200\002K\001q\000.\200\002h\000.";
    vm = vm_new(0);
    pos = 0;
    s = lis_pk_run(vm, NULL, two, sizeof two - 1, &pos, &v);
    lis_check(s == LIS_OK && pos == 7, "first of two pickles ends at its STOP");
    s = lis_pk_run(vm, NULL, two, sizeof two - 1, &pos, &v);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "offset 9 (BINGET): memo entry 0 was never stored"), "memo is per pickle: %s",
              lis_err_msg());
    lis_pk_vm_free(vm);
}

/* ---- 4. corruption sweeps over real small files ---- */
static void test_sweeps(void) {
    lis_mapped_file m;
    if (!lis_check_ok(lis_map_file(&m, lis_test_data("convert/dtypes.pth")), "map dtypes.pth")) return;
    unsigned char *b = malloc(m.size);
    int refused = 0, read = 0, step = lis_test_quick() ? 7 : 1;
    for (size_t i = 0; i < m.size; i += (size_t)step) {
        memcpy(b, m.data, m.size);
        b[i] ^= 0xff;
        lis_torch_file tf = {0};
        lis_err_clear();
        lis_status s = lis_torch_parse(&tf, b, m.size, "flip", 1 << 20);
        if (s == LIS_OK) {
            read++;
            /* every tensor still materialises within bounds */
            for (size_t k = 0; tf.root && tf.root->type == LIS_PK_DICT && k + 1 < tf.root->n; k += 2) {
                lis_tensor t;
                if (lis_pk_tensor(tf.root->items[k + 1], &t, "x") == LIS_OK) lis_tensor_free(&t);
            }
        } else {
            refused += lis_err_msg()[0] != 0;
        }
        lis_torch_close(&tf);
    }
    lis_check(refused + read > 0 && refused > 0, "dtypes.pth byte flips: %d refused with a message, %d still readable", refused, read);
    free(b);
    lis_unmap_file(&m);
    if (!lis_check_ok(lis_map_file(&m, lis_test_data("convert/dtypes_legacy.pth")), "map dtypes_legacy.pth")) return;
    int bad = 0;
    for (size_t n = 0; n < m.size; n += (size_t)step) {
        lis_torch_file tf = {0};
        b = malloc(n + 1);
        memcpy(b, m.data, n);
        bad += lis_torch_parse(&tf, b, n, "trunc", 0) == LIS_OK;
        lis_torch_close(&tf);
        free(b);
    }
    lis_torch_file tf = {0};
    lis_check(bad == 0 && lis_torch_parse(&tf, m.data, m.size, "full", 0) == LIS_OK,
              "dtypes_legacy.pth: every truncation refused (%d accepted), the full file read", bad);
    lis_torch_close(&tf);
    lis_unmap_file(&m);
}

static void test_zip(void) {
    lis_mapped_file m;
    if (!lis_check_ok(lis_map_file(&m, lis_test_data("convert/pump_small_deflate64.pth")), "map")) return;
    lis_zip z;
    if (lis_check_ok(lis_zip_open(&z, m.data, m.size, "deflate64"), "zip open (ZIP64, saturated end record)")) {
        const lis_zip_entry *e = lis_zip_find(&z, "pump_small/data.pkl");
        const unsigned char *d;
        unsigned char *own = NULL;
        lis_check(e && e->method == 8 && lis_zip_read(&z, e, &d, &own) == LIS_OK && own && d[0] == 0x80,
                  "deflated data.pkl inflates and passes its CRC");
        free(own);
        lis_check(lis_zip_find(&z, "pump_small/data/0") && !lis_zip_find(&z, "pump_small/data/999") && z.n == 116,
                  "zip lookup by name (%zu entries)", z.n);
        z.inflate_limit = 100;
        e = lis_zip_find(&z, "pump_small/data.pkl");
        lis_check(lis_zip_read(&z, e, &d, &own) != LIS_OK && strstr(lis_err_msg(), "budget"), "inflate budget: %s", lis_err_msg());
        lis_zip_close(&z);
    }
    lis_unmap_file(&m);
}

int main(void) {
    test_opcodes();
    test_tensors();
    test_numpy();
    test_limits();
    test_zip();
    test_sweeps();
    return lis_test_finish();
}
