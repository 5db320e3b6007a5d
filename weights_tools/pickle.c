/* pickle.c — the pickle VM of pickle.h: opcodes, the one table of allowed globals, and
 * the builders that turn "calls" of those globals into plain values.
 *
 * Python's pickle module (Lib/pickle.py, _Unpickler) is the semantic reference: the
 * stack is split at each MARK (popping below the mark is an underflow), the memo is
 * indexed by the writer's counter, BUILD on an object without __setstate__ updates its
 * __dict__. The differences are deliberate: nothing is imported or called; a REDUCE whose
 * callable is not a builder in `globals_table` cannot happen, because GLOBAL already
 * refused the name.
 */
#include "weights_tools/pickle.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK_DEFAULT_BUDGET ((size_t)1 << 30) /* 1 GiB of values */
#define PK_MAX_STACK ((size_t)1 << 22)      /* entries on the stack of one run */
#define PK_MAX_MARKS 1000                   /* MARK nesting (real checkpoints: < 60) */
#define PK_MAX_RUN_DEPTH 3                  /* nested runs: snapshot -> storage blob */
#define PK_MAX_NAME 127                     /* module / name of a GLOBAL */

/* ------------------------------------------------------------------------------------
 * The table of globals. Every GLOBAL / STACK_GLOBAL is looked up here, first match wins.
 * A module ending in '.' matches every module under it; name "*" matches every name.
 * ------------------------------------------------------------------------------------ */
typedef enum {
    B_DENY = 0,        /* would run code: refused with its own message */
    B_DICT,            /* collections.OrderedDict, dict subclasses: a dict */
    B_SET,             /* set(list), frozenset(list) */
    B_BYTEARRAY,       /* bytearray(bytes) */
    B_CODECS_ENCODE,   /* _codecs.encode(str, 'latin1'): protocol-2 bytes */
    B_COPYREG_RECON,   /* copyreg._reconstructor(cls, base, state): protocol 0/1 objects */
    B_TENSOR_V2,       /* torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) */
    B_TENSOR_V1,       /* torch._utils._rebuild_tensor(storage, offset, size, stride) */
    B_PARAM,           /* torch._utils._rebuild_parameter(tensor, requires_grad, hooks[, state]) */
    B_FROM_TYPE_V2,    /* torch._tensor._rebuild_from_type_v2(func, type, args, state) */
    B_STORAGE,         /* torch.FloatStorage ...: a dtype tag inside persistent ids */
    B_TORCH_SIZE,      /* torch.Size(tuple) */
    B_LOAD_FROM_BYTES, /* torch.storage._load_from_bytes(b) */
    B_PERSISTENT,      /* torch_utils.persistence._reconstruct_persistent_obj(meta) */
    B_NP_SCALAR,       /* numpy scalar(dtype, bytes) */
    B_NP_DTYPE,        /* numpy.dtype(code, align, copy) + BUILD */
    B_NP_RECONSTRUCT,  /* numpy _reconstruct(ndarray, (0,), b'b') + BUILD(state) */
    B_NP_NDARRAY,      /* numpy.ndarray: only an argument of _reconstruct */
    B_NP_FROMBUFFER,   /* numpy _frombuffer(buf, dtype, shape, order): protocol 5 arrays */
    B_DILL_ARRAY,      /* dill._dill._create_array(f, args, state, npdict) */
    B_CLASS,           /* a class whose instances are kept as inert objects (state only) */
    B_FUNC,            /* a function whose "calls" are kept as opaque values */
} pk_builder;

struct lis_pk_global {
    const char *module, *name;
    pk_builder b;
    int arg; /* B_STORAGE: lis_dtype */
};

static const lis_pk_global globals_table[] = {
    /* containers and Python-level plumbing */
    {"collections", "OrderedDict", B_DICT, 0},
    {"collections", "defaultdict", B_DICT, 0},
    {"dnnlib.util", "EasyDict", B_DICT, 0},
    {"builtins", "set", B_SET, 0},
    {"builtins", "frozenset", B_SET, 0},
    {"builtins", "bytearray", B_BYTEARRAY, 0},
    {"__builtin__", "set", B_SET, 0},
    {"__builtin__", "frozenset", B_SET, 0},
    {"_codecs", "encode", B_CODECS_ENCODE, 0},
    {"copyreg", "_reconstructor", B_COPYREG_RECON, 0},
    {"copy_reg", "_reconstructor", B_COPYREG_RECON, 0},
    {"argparse", "Namespace", B_CLASS, 0},
    /* torch tensors and storages (torch.save, spec/classifier.md §3.1) */
    {"torch._utils", "_rebuild_tensor_v2", B_TENSOR_V2, 0},
    {"torch._utils", "_rebuild_tensor", B_TENSOR_V1, 0},
    {"torch._utils", "_rebuild_parameter", B_PARAM, 0},
    {"torch._utils", "_rebuild_parameter_with_state", B_PARAM, 0},
    {"torch._tensor", "_rebuild_from_type_v2", B_FROM_TYPE_V2, 0},
    {"torch._tensor", "Tensor", B_CLASS, 0},
    {"torch", "Tensor", B_CLASS, 0},
    {"torch.nn.parameter", "Parameter", B_CLASS, 0},
    {"torch", "Size", B_TORCH_SIZE, 0},
    {"torch", "FloatStorage", B_STORAGE, LIS_DTYPE_F32},
    {"torch", "DoubleStorage", B_STORAGE, LIS_DTYPE_F64},
    {"torch", "HalfStorage", B_STORAGE, LIS_DTYPE_F16},
    {"torch", "BFloat16Storage", B_STORAGE, LIS_DTYPE_BF16},
    {"torch", "LongStorage", B_STORAGE, LIS_DTYPE_I64},
    {"torch", "IntStorage", B_STORAGE, LIS_DTYPE_I32},
    {"torch", "ShortStorage", B_STORAGE, LIS_DTYPE_I16},
    {"torch", "CharStorage", B_STORAGE, LIS_DTYPE_I8},
    {"torch", "ByteStorage", B_STORAGE, LIS_DTYPE_U8},
    {"torch", "BoolStorage", B_STORAGE, LIS_DTYPE_BOOL},
    {"torch.storage", "_load_from_bytes", B_LOAD_FROM_BYTES, 0},
    /* StyleGAN-XL snapshots (spec/stylegan_xl.md §5.2) */
    {"torch_utils.persistence", "_reconstruct_persistent_obj", B_PERSISTENT, 0},
    {"numpy.core.multiarray", "scalar", B_NP_SCALAR, 0},
    {"numpy._core.multiarray", "scalar", B_NP_SCALAR, 0},
    {"numpy", "dtype", B_NP_DTYPE, 0},
    {"numpy.core.multiarray", "_reconstruct", B_NP_RECONSTRUCT, 0},
    {"numpy._core.multiarray", "_reconstruct", B_NP_RECONSTRUCT, 0},
    {"numpy", "ndarray", B_NP_NDARRAY, 0},
    {"numpy.core.numeric", "_frombuffer", B_NP_FROMBUFFER, 0},
    {"numpy._core.numeric", "_frombuffer", B_NP_FROMBUFFER, 0},
    {"dill._dill", "_create_array", B_DILL_ARRAY, 0},
    /* scikit-learn linear models (the original's LinkingNW_*.pkl), old and new module paths */
    {"sklearn.linear_model._base", "LinearRegression", B_CLASS, 0},
    {"sklearn.linear_model.base", "LinearRegression", B_CLASS, 0},
    {"sklearn.linear_model._ridge", "Ridge", B_CLASS, 0},
    {"sklearn.linear_model.ridge", "Ridge", B_CLASS, 0},
    {"sklearn.linear_model._coordinate_descent", "ElasticNet", B_CLASS, 0},
    {"sklearn.linear_model.coordinate_descent", "ElasticNet", B_CLASS, 0},
    {"sklearn.linear_model._coordinate_descent", "Lasso", B_CLASS, 0},
    {"sklearn.linear_model.coordinate_descent", "Lasso", B_CLASS, 0},
    /* Code runners, refused by name so the message says why. */
    {"dill._dill", "_import_module", B_DENY, 0},
    {"dill._dill", "_eval_repr", B_DENY, 0},
    {"dill._dill", "_get_attr", B_DENY, 0},
    {"builtins", "*", B_DENY, 0},
    {"__builtin__", "*", B_DENY, 0},
    {"os", "*", B_DENY, 0},
    {"os.", "*", B_DENY, 0},
    {"posix", "*", B_DENY, 0},
    {"nt", "*", B_DENY, 0},
    {"subprocess", "*", B_DENY, 0},
    {"sys", "*", B_DENY, 0},
    {"importlib", "*", B_DENY, 0},
    {"importlib.", "*", B_DENY, 0},
    {"runpy", "*", B_DENY, 0},
    {"code", "*", B_DENY, 0},
    {"codeop", "*", B_DENY, 0},
    {"pty", "*", B_DENY, 0},
    {"shutil", "*", B_DENY, 0},
    {"socket", "*", B_DENY, 0},
    {"ctypes", "*", B_DENY, 0},
    {"pickle", "*", B_DENY, 0},
    {"_pickle", "*", B_DENY, 0},
    {"marshal", "*", B_DENY, 0},
    {"operator", "*", B_DENY, 0},
    {"types", "*", B_DENY, 0},
    {"webbrowser", "*", B_DENY, 0},
    {"multiprocessing", "*", B_DENY, 0},
    {"multiprocessing.", "*", B_DENY, 0},
    {"commands", "*", B_DENY, 0}, /* Python 2 names, mapped by fix_imports */
    {"popen2", "*", B_DENY, 0},
    {"platform", "*", B_DENY, 0},
    {"pdb", "*", B_DENY, 0},
    {"timeit", "*", B_DENY, 0},
    {"torch.", "load", B_DENY, 0},
    /* Other networks of a snapshot (the official file's discriminator D, augment_pipe):
     * module classes kept as inert objects, and the functions dill writes for their
     * hooks kept as opaque values. Nothing of them is used; they only have to parse. */
    {"dill._dill", "_create_function", B_FUNC, 0},
    {"dill._dill", "_create_code", B_FUNC, 0},
    {"dill._dill", "_create_cell", B_FUNC, 0},
    {"dill._dill", "_create_namedtuple", B_FUNC, 0},
    {"dill._dill", "_load_type", B_FUNC, 0},
    {"functools", "partial", B_FUNC, 0},
    {"torch.nn.modules.", "*", B_CLASS, 0},
    {"torch.nn.utils.", "*", B_CLASS, 0},
    {"torch.utils.hooks", "*", B_CLASS, 0},
    {"torchvision.", "*", B_CLASS, 0},
    {"timm.", "*", B_CLASS, 0},
    {"pg_modules.", "*", B_CLASS, 0},
    {"feature_networks.", "*", B_CLASS, 0},
    {"training.", "*", B_CLASS, 0},
};

static int module_matches(const char *pattern, const char *module) {
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '.') return strncmp(pattern, module, n) == 0;
    return strcmp(pattern, module) == 0;
}

static const lis_pk_global *find_global(const char *module, const char *name) {
    for (size_t i = 0; i < sizeof globals_table / sizeof *globals_table; i++) {
        const lis_pk_global *g = &globals_table[i];
        if (module_matches(g->module, module) && (!strcmp(g->name, "*") || !strcmp(g->name, name))) return g;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------
 * Values: every node is a pk_node in one list; arrays are realloc'ed per node.
 * ------------------------------------------------------------------------------------ */
typedef struct pk_node {
    struct pk_node *next;
    void *owned; /* bytes owned by this value (latin-1 re-encoded strings) */
    lis_pk v;
} pk_node;

struct lis_pk_vm {
    lis_pk_opts o;
    char label[512];
    pk_node *nodes;
    size_t used, budget;
    int run_depth;
};

static lis_status over_budget(lis_pk_vm *vm, size_t want) {
    return lis_err_set("%s: the pickle needs more than %zu MiB of values (asked for %zu more bytes); refusing it", vm->label,
                       vm->budget >> 20, want);
}

static int charge(lis_pk_vm *vm, size_t n) {
    if (n > vm->budget - vm->used) { over_budget(vm, n); return 0; }
    vm->used += n;
    return 1;
}

lis_pk *lis_pk_new(lis_pk_vm *vm, lis_pk_type type) {
    if (!charge(vm, sizeof(pk_node))) return NULL;
    pk_node *nd = calloc(1, sizeof *nd);
    if (!nd) { lis_err_set("out of memory"); return NULL; }
    nd->next = vm->nodes;
    vm->nodes = nd;
    nd->v.type = type;
    return &nd->v;
}

static pk_node *node_of(lis_pk *v) { return (pk_node *)((char *)v - offsetof(pk_node, v)); }

/* Appends to v->items, growing by doubling within the budget. */
static lis_status items_push(lis_pk_vm *vm, lis_pk *v, lis_pk *x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(lis_pk *) / 2) return lis_err_set("%s: container too large", vm->label);
        if (!charge(vm, (cap - v->cap) * sizeof(lis_pk *))) return LIS_ERR;
        lis_pk **ni = realloc(v->items, cap * sizeof *ni);
        if (!ni) return lis_err_set("out of memory");
        v->items = ni;
        v->cap = cap;
    }
    v->items[v->n++] = x;
    return LIS_OK;
}

lis_status lis_pk_vm_init(lis_pk_vm **out, const lis_pk_opts *o) {
    *out = NULL;
    lis_pk_vm *vm = calloc(1, sizeof *vm);
    if (!vm) return lis_err_set("out of memory");
    vm->o = *o;
    snprintf(vm->label, sizeof vm->label, "%s", o->label ? o->label : "pickle");
    vm->o.label = vm->label;
    vm->budget = o->max_alloc ? o->max_alloc : PK_DEFAULT_BUDGET;
    *out = vm;
    return LIS_OK;
}

void lis_pk_vm_free(lis_pk_vm *vm) {
    if (!vm) return;
    for (pk_node *nd = vm->nodes, *nx; nd; nd = nx) {
        nx = nd->next;
        free(nd->v.items);
        free(nd->owned);
        free(nd);
    }
    free(vm);
}

const lis_pk_opts *lis_pk_vm_opts(const lis_pk_vm *vm) { return &vm->o; }

/* ------------------------------------------------------------------------------------
 * One run: the machine state lives on the C stack so callbacks can nest runs.
 * ------------------------------------------------------------------------------------ */
typedef struct {
    lis_pk_vm *vm;
    const char *label;
    const unsigned char *buf;
    size_t size, p;
    size_t op_off;     /* offset of the opcode being run */
    unsigned char op;
    size_t nops;
    lis_pk **stack;
    size_t sp, scap;
    size_t *marks;     /* stack heights at each open MARK */
    size_t nmarks, mcap;
    lis_pk **memo;
    size_t memo_n, memo_cap;
    lis_status (*persistent_load)(void *ctx, lis_pk_vm *vm, const lis_pk *pid, lis_pk **out);
    void *ctx;
} pk_run;

static const char *op_name(unsigned char op) {
    switch (op) {
    case '(': return "MARK"; case '.': return "STOP"; case '0': return "POP"; case '1': return "POP_MARK";
    case '2': return "DUP"; case 'F': return "FLOAT"; case 'I': return "INT"; case 'J': return "BININT";
    case 'K': return "BININT1"; case 'L': return "LONG"; case 'M': return "BININT2"; case 'N': return "NONE";
    case 'P': return "PERSID"; case 'Q': return "BINPERSID"; case 'R': return "REDUCE"; case 'S': return "STRING";
    case 'T': return "BINSTRING"; case 'U': return "SHORT_BINSTRING"; case 'V': return "UNICODE";
    case 'X': return "BINUNICODE"; case 'a': return "APPEND"; case 'b': return "BUILD"; case 'c': return "GLOBAL";
    case 'd': return "DICT"; case '}': return "EMPTY_DICT"; case 'e': return "APPENDS"; case 'g': return "GET";
    case 'h': return "BINGET"; case 'i': return "INST"; case 'j': return "LONG_BINGET"; case 'l': return "LIST";
    case ']': return "EMPTY_LIST"; case 'o': return "OBJ"; case 'p': return "PUT"; case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT"; case 's': return "SETITEM"; case 't': return "TUPLE"; case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS"; case 'G': return "BINFLOAT"; case 0x80: return "PROTO"; case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1"; case 0x83: return "EXT2"; case 0x84: return "EXT4"; case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2"; case 0x87: return "TUPLE3"; case 0x88: return "NEWTRUE"; case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1"; case 0x8b: return "LONG4"; case 'B': return "BINBYTES"; case 'C': return "SHORT_BINBYTES";
    case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8"; case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET"; case 0x90: return "ADDITEMS"; case 0x91: return "FROZENSET"; case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL"; case 0x94: return "MEMOIZE"; case 0x95: return "FRAME"; case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER"; case 0x98: return "READONLY_BUFFER";
    default: return "unknown opcode";
    }
}

/* Error at the current opcode: "<label>: offset N (OPCODE): <message>". */
static lis_status run_err(pk_run *r, const char *fmt, ...) LIS_PRINTF(2, 3);
static lis_status run_err(pk_run *r, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lis_err_set("%s: offset %zu (%s): %s", r->label, r->op_off, op_name(r->op), msg);
}

/* An error raised below (budget, callback) gets the opcode position prepended. */
static lis_status run_ctx(pk_run *r, lis_status s) {
    if (s != LIS_OK) lis_err_prefix("%s: offset %zu (%s)", r->label, r->op_off, op_name(r->op));
    return s;
}

static lis_status need(pk_run *r, size_t n, const unsigned char **out) {
    if (n > r->size - r->p)
        return run_err(r, "truncated: needs %zu bytes, %zu remain", n, r->size - r->p);
    *out = r->buf + r->p;
    r->p += n;
    return LIS_OK;
}

static uint64_t le(const unsigned char *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static lis_status push(pk_run *r, lis_pk *v) {
    if (!v) return run_ctx(r, LIS_ERR);
    if (r->sp == r->scap) {
        if (r->sp >= PK_MAX_STACK) return run_err(r, "stack deeper than %zu entries", PK_MAX_STACK);
        size_t cap = r->scap ? r->scap * 2 : 64;
        if (!charge(r->vm, (cap - r->scap) * sizeof(lis_pk *))) return run_ctx(r, LIS_ERR);
        lis_pk **ns = realloc(r->stack, cap * sizeof *ns);
        if (!ns) return lis_err_set("out of memory");
        r->stack = ns;
        r->scap = cap;
    }
    r->stack[r->sp++] = v;
    return LIS_OK;
}

static size_t frame_base(const pk_run *r) { return r->nmarks ? r->marks[r->nmarks - 1] : 0; }

static lis_status pop(pk_run *r, lis_pk **v) {
    if (r->sp <= frame_base(r)) return run_err(r, "stack underflow");
    *v = r->stack[--r->sp];
    return LIS_OK;
}

static lis_status top(pk_run *r, lis_pk **v) {
    if (r->sp <= frame_base(r)) return run_err(r, "stack underflow");
    *v = r->stack[r->sp - 1];
    return LIS_OK;
}

/* Pops back to the last MARK: the items are stack[*first .. sp), valid until the next push. */
static lis_status pop_mark(pk_run *r, size_t *first) {
    if (!r->nmarks) return run_err(r, "no MARK to pop to");
    *first = r->marks[--r->nmarks];
    return LIS_OK;
}

static lis_pk *new_val(pk_run *r, lis_pk_type t) { return lis_pk_new(r->vm, t); }

static lis_pk *new_int(pk_run *r, int64_t i) {
    lis_pk *v = new_val(r, LIS_PK_INT);
    if (v) v->i = i;
    return v;
}

static lis_pk *new_bytes(pk_run *r, lis_pk_type t, const unsigned char *p, size_t n) {
    lis_pk *v = new_val(r, t);
    if (v) { v->p = p; v->len = n; }
    return v;
}

/* A container from stack[first .. sp) */
static lis_status make_seq(pk_run *r, lis_pk_type t, size_t first, lis_pk **out) {
    lis_pk *v = new_val(r, t);
    if (!v) return run_ctx(r, LIS_ERR);
    for (size_t i = first; i < r->sp; i++) LIS_TRY(run_ctx(r, items_push(r->vm, v, r->stack[i])));
    r->sp = first;
    *out = v;
    return LIS_OK;
}

static lis_status memo_put(pk_run *r, size_t idx, lis_pk *v) {
    if (idx > r->nops) return run_err(r, "memo index %zu is out of order (only %zu opcodes so far)", idx, r->nops);
    if (idx >= r->memo_cap) {
        size_t cap = r->memo_cap ? r->memo_cap : 64;
        while (cap <= idx) cap *= 2;
        if (!charge(r->vm, (cap - r->memo_cap) * sizeof(lis_pk *))) return run_ctx(r, LIS_ERR);
        lis_pk **nm = realloc(r->memo, cap * sizeof *nm);
        if (!nm) return lis_err_set("out of memory");
        memset(nm + r->memo_cap, 0, (cap - r->memo_cap) * sizeof *nm);
        r->memo = nm;
        r->memo_cap = cap;
    }
    r->memo[idx] = v;
    if (idx >= r->memo_n) r->memo_n = idx + 1;
    return LIS_OK;
}

static lis_status memo_get(pk_run *r, uint64_t idx) {
    if (idx >= r->memo_n || !r->memo[idx]) return run_err(r, "memo entry %llu was never stored", (unsigned long long)idx);
    return push(r, r->memo[idx]);
}

/* A decimal line argument of GET / PUT (text opcodes kept for old writers). */
static lis_status read_line(pk_run *r, char *buf, size_t cap) {
    size_t n = 0;
    for (;;) {
        if (r->p >= r->size) return run_err(r, "truncated: unterminated text argument");
        char c = (char)r->buf[r->p++];
        if (c == '\n') break;
        if (n + 1 >= cap) return run_err(r, "text argument longer than %zu bytes", cap - 1);
        buf[n++] = c;
    }
    buf[n] = 0;
    return LIS_OK;
}

static lis_status read_decimal(pk_run *r, uint64_t *out) {
    char line[32];
    LIS_TRY(read_line(r, line, sizeof line));
    if (!line[0]) return run_err(r, "empty number");
    uint64_t v = 0;
    for (const char *c = line; *c; c++) {
        if (*c < '0' || *c > '9' || v > (UINT64_MAX - 9) / 10) return run_err(r, "bad number '%s'", line);
        v = v * 10 + (uint64_t)(*c - '0');
    }
    *out = v;
    return LIS_OK;
}

static int valid_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static lis_status resolve_global(pk_run *r, const char *module, const char *name) {
    if (!valid_name(module) || !valid_name(name)) return run_err(r, "malformed global name");
    const lis_pk_global *g = find_global(module, name);
    if (!g) return run_err(r, "global '%s.%s' is not one lis reads (refused; lis executes nothing from a pickle and "
                              "only rebuilds the PyTorch, NumPy, StyleGAN-XL and scikit-learn objects of its table)",
                           module, name);
    if (g->b == B_DENY)
        return run_err(r, "global '%s.%s' would run code when Python loads this file: refused (this is not a plain "
                          "checkpoint; do not load it with Python either)", module, name);
    lis_pk *v = new_val(r, LIS_PK_GLOBAL);
    if (!v) return run_ctx(r, LIS_ERR);
    size_t ml = strlen(module), nl = strlen(name);
    if (!charge(r->vm, ml + nl + 2)) return run_ctx(r, LIS_ERR);
    char *names = malloc(ml + nl + 2);
    if (!names) return lis_err_set("out of memory");
    memcpy(names, module, ml + 1);
    memcpy(names + ml + 1, name, nl + 1);
    node_of(v)->owned = names;
    v->u.glob.g = g;
    v->u.glob.module = names;
    v->u.glob.name = names + ml + 1;
    return push(r, v);
}

/* ------------------------------------------------------------------------------------
 * Builders
 * ------------------------------------------------------------------------------------ */
static const lis_pk *arg(const lis_pk *args, size_t i) {
    return args && (args->type == LIS_PK_TUPLE || args->type == LIS_PK_LIST) && i < args->n ? args->items[i] : NULL;
}

static size_t nargs(const lis_pk *args) {
    return args && (args->type == LIS_PK_TUPLE || args->type == LIS_PK_LIST) ? args->n : 0;
}

/* numpy dtype code ("f8", "<f4", "i8", "b1", "?", "u1") -> lis dtype */
static void parse_np_code(lis_pk *d, const unsigned char *p, size_t n) {
    d->u.nd.dtype_ok = 0;
    d->u.nd.byteorder = '=';
    size_t i = 0;
    if (n && (p[0] == '<' || p[0] == '>' || p[0] == '|' || p[0] == '=')) d->u.nd.byteorder = (char)p[i++];
    size_t k = 0;
    for (; i < n && k + 1 < sizeof d->u.nd.code; i++) d->u.nd.code[k++] = (char)p[i];
    d->u.nd.code[k] = 0;
    static const struct { const char *code; lis_dtype dt; } map[] = {
        {"f4", LIS_DTYPE_F32}, {"f8", LIS_DTYPE_F64}, {"f2", LIS_DTYPE_F16}, {"i8", LIS_DTYPE_I64},
        {"i4", LIS_DTYPE_I32}, {"i2", LIS_DTYPE_I16}, {"i1", LIS_DTYPE_I8},  {"u1", LIS_DTYPE_U8},
        {"b1", LIS_DTYPE_BOOL}, {"?", LIS_DTYPE_BOOL},
    };
    for (size_t j = 0; j < sizeof map / sizeof *map; j++)
        if (!strcmp(d->u.nd.code, map[j].code)) {
            d->u.nd.dtype = map[j].dt;
            d->u.nd.dtype_ok = 1;
        }
}

static lis_status tuple_shape(pk_run *r, const lis_pk *t, int *ndim, int64_t *shape, const char *what) {
    if (!t || t->type != LIS_PK_TUPLE) return run_err(r, "%s must be a tuple", what);
    if (t->n > LIS_MAX_DIMS) return run_err(r, "%s has %zu dimensions (lis holds at most %d)", what, t->n, LIS_MAX_DIMS);
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->type != LIS_PK_INT || t->items[i]->i < 0)
            return run_err(r, "%s[%zu] is not a non-negative integer", what, i);
        shape[i] = t->items[i]->i;
    }
    *ndim = (int)t->n;
    return LIS_OK;
}

static lis_status build_tensor(pk_run *r, const lis_pk *args, int v2, lis_pk **out) {
    if (nargs(args) < 4 || (v2 && nargs(args) > 7)) return run_err(r, "_rebuild_tensor: expected 4-7 arguments, got %zu", nargs(args));
    const lis_pk *st = arg(args, 0), *off = arg(args, 1);
    if (st->type != LIS_PK_STORAGE) return run_err(r, "_rebuild_tensor: the storage argument is a %s", lis_pk_type_name(st->type));
    if (off->type != LIS_PK_INT || off->i < 0) return run_err(r, "_rebuild_tensor: bad storage offset");
    lis_pk *t = new_val(r, LIS_PK_TENSOR);
    if (!t) return run_ctx(r, LIS_ERR);
    int nd2;
    LIS_TRY(tuple_shape(r, arg(args, 2), &t->u.tensor.ndim, t->u.tensor.shape, "tensor size"));
    LIS_TRY(tuple_shape(r, arg(args, 3), &nd2, t->u.tensor.stride, "tensor stride"));
    if (nd2 != t->u.tensor.ndim) return run_err(r, "tensor size has %d dims but stride %d", t->u.tensor.ndim, nd2);
    t->u.tensor.storage = (lis_pk *)st;
    t->u.tensor.offset = off->i;
    *out = t;
    return LIS_OK;
}

static lis_status build_np_reconstruct(pk_run *r, const lis_pk *args, lis_pk **out) {
    const lis_pk *cls = arg(args, 0);
    if (nargs(args) != 3 || cls->type != LIS_PK_GLOBAL || cls->u.glob.g->b != B_NP_NDARRAY)
        return run_err(r, "numpy _reconstruct: expected (numpy.ndarray, shape, typecode)");
    lis_pk *a = new_val(r, LIS_PK_NDARRAY);
    if (!a) return run_ctx(r, LIS_ERR);
    *out = a;
    return LIS_OK;
}

/* ndarray.__setstate__((version, shape, dtype, is_fortran, data)) */
static lis_status apply_nd_state(pk_run *r, lis_pk *a, const lis_pk *state) {
    if (!state || state->type != LIS_PK_TUPLE || (state->n != 4 && state->n != 5))
        return run_err(r, "ndarray state must be a 4- or 5-tuple");
    size_t o = state->n == 5 ? 1 : 0;
    const lis_pk *dt = state->items[o + 1], *fo = state->items[o + 2], *data = state->items[o + 3];
    LIS_TRY(tuple_shape(r, state->items[o], &a->u.nd.ndim, a->u.nd.shape, "ndarray shape"));
    if (dt->type != LIS_PK_DTYPE) return run_err(r, "ndarray dtype is a %s", lis_pk_type_name(dt->type));
    a->u.nd.dtype = dt->u.nd.dtype;
    a->u.nd.dtype_ok = dt->u.nd.dtype_ok;
    a->u.nd.byteorder = dt->u.nd.byteorder;
    memcpy(a->u.nd.code, dt->u.nd.code, sizeof a->u.nd.code);
    a->u.nd.fortran = (fo->type == LIS_PK_BOOL || fo->type == LIS_PK_INT) && fo->i;
    if (data->type == LIS_PK_BYTES) {
        a->u.nd.data = data->p;
        a->u.nd.nbytes = data->len;
    } else {
        a->u.nd.dtype_ok = 0; /* object arrays (a list of values) and other payloads */
    }
    a->u.nd.built = 1;
    return LIS_OK;
}

static lis_status build_np_scalar(pk_run *r, const lis_pk *args, lis_pk **out) {
    const lis_pk *dt = arg(args, 0), *b = arg(args, 1);
    if (nargs(args) != 2 || dt->type != LIS_PK_DTYPE || b->type != LIS_PK_BYTES)
        return run_err(r, "numpy scalar: expected (dtype, bytes)");
    const char *c = dt->u.nd.code;
    char kind = c[0] == '?' ? 'b' : c[0];
    size_t sz = c[0] == '?' ? 1 : (size_t)atoi(c + 1);
    if (!strchr("fiub", kind) || (sz != 1 && sz != 2 && sz != 4 && sz != 8) || b->len != sz)
        return run_err(r, "numpy scalar of dtype '%s' with %zu bytes is not supported", c, b->len);
    if (dt->u.nd.byteorder == '>' && sz > 1) return run_err(r, "big-endian numpy scalar");
    uint64_t raw = le(b->p, (int)sz);
    lis_pk *v;
    if (kind == 'f') {
        double d;
        if (sz == 8) memcpy(&d, &raw, 8);
        else if (sz == 4) { uint32_t u = (uint32_t)raw; float f; memcpy(&f, &u, 4); d = f; }
        else if (sz == 2) d = lis_f16_to_f32((uint16_t)raw);
        else return run_err(r, "1-byte float");
        v = new_val(r, LIS_PK_FLOAT);
        if (v) v->f = d;
    } else if (kind == 'b') {
        v = new_val(r, LIS_PK_BOOL);
        if (v) v->i = raw != 0;
    } else {
        int64_t i;
        if (kind == 'u') {
            if (raw > (uint64_t)INT64_MAX) return run_err(r, "numpy uint64 scalar above int64 range");
            i = (int64_t)raw;
        } else {
            int sh = 64 - 8 * (int)sz;
            i = sh ? (int64_t)(raw << sh) >> sh : (int64_t)raw;
        }
        v = new_int(r, i);
    }
    if (!v) return run_ctx(r, LIS_ERR);
    *out = v;
    return LIS_OK;
}

static lis_status build_codecs(pk_run *r, const lis_pk *s, const lis_pk *enc, lis_pk **out) {
    if (!s || s->type != LIS_PK_STR || !enc || enc->type != LIS_PK_STR ||
        !(lis_pk_is_str(enc, "latin1") || lis_pk_is_str(enc, "latin-1")))
        return run_err(r, "_codecs.encode: expected (str, 'latin1')");
    /* UTF-8 code points < 256 -> one byte each */
    if (!charge(r->vm, s->len + 1)) return run_ctx(r, LIS_ERR);
    unsigned char *b = malloc(s->len + 1);
    if (!b) return lis_err_set("out of memory");
    size_t n = 0;
    for (size_t i = 0; i < s->len;) {
        unsigned char c = s->p[i];
        if (c < 0x80) { b[n++] = c; i++; }
        else if ((c & 0xe0) == 0xc0 && i + 1 < s->len && (s->p[i + 1] & 0xc0) == 0x80 && c <= 0xc3) {
            b[n++] = (unsigned char)(((c & 0x1f) << 6) | (s->p[i + 1] & 0x3f));
            i += 2;
        } else { free(b); return run_err(r, "_codecs.encode: character above U+00FF in a latin-1 string"); }
    }
    lis_pk *v = new_bytes(r, LIS_PK_BYTES, b, n);
    if (!v) { free(b); return run_ctx(r, LIS_ERR); }
    node_of(v)->owned = b;
    *out = v;
    return LIS_OK;
}

static lis_status build_object(pk_run *r, const lis_pk *cls, lis_pk *args, int called, lis_pk **out) {
    lis_pk *o = new_val(r, LIS_PK_OBJECT);
    if (!o) return run_ctx(r, LIS_ERR);
    o->u.obj.cls = cls;
    o->u.obj.args = args;
    o->u.obj.called = called;
    *out = o;
    return LIS_OK;
}

static lis_status call(pk_run *r, const lis_pk *fn, lis_pk *args, int newobj, int depth, lis_pk **out);

/* dict(list of pairs) for OrderedDict([(k, v), ...]) */
static lis_status build_dict(pk_run *r, const lis_pk *args, lis_pk **out) {
    lis_pk *d = new_val(r, LIS_PK_DICT);
    if (!d) return run_ctx(r, LIS_ERR);
    const lis_pk *src = arg(args, 0);
    if (src && (src->type == LIS_PK_LIST || src->type == LIS_PK_TUPLE))
        for (size_t i = 0; i < src->n; i++) {
            const lis_pk *pr = src->items[i];
            if (pr->type != LIS_PK_TUPLE || pr->n != 2) return run_err(r, "OrderedDict: items must be (key, value) pairs");
            LIS_TRY(run_ctx(r, items_push(r->vm, d, pr->items[0])));
            LIS_TRY(run_ctx(r, items_push(r->vm, d, pr->items[1])));
        }
    *out = d;
    return LIS_OK;
}

/* REDUCE (newobj = 0) or NEWOBJ (newobj = 1) of fn with args. */
static lis_status call(pk_run *r, const lis_pk *fn, lis_pk *args, int newobj, int depth, lis_pk **out) {
    if (!args || args->type != LIS_PK_TUPLE) return run_err(r, "the arguments are a %s, not a tuple", args ? lis_pk_type_name(args->type) : "nothing");
    if (fn->type == LIS_PK_OBJECT && fn->u.obj.called && !newobj) return build_object(r, fn, args, 1, out);
    if (fn->type != LIS_PK_GLOBAL) return run_err(r, "calling a %s is not supported", lis_pk_type_name(fn->type));
    const lis_pk_global *g = fn->u.glob.g;
    const char *m = fn->u.glob.module, *nm = fn->u.glob.name;
    if (newobj && g->b != B_CLASS && g->b != B_DICT && g->b != B_SET)
        return run_err(r, "%s.%s cannot be instantiated with NEWOBJ", m, nm);
    switch (g->b) {
    case B_DICT: return build_dict(r, args, out);
    case B_SET: {
        lis_pk *s = new_val(r, LIS_PK_SET);
        if (!s) return run_ctx(r, LIS_ERR);
        const lis_pk *src = arg(args, 0);
        if (src && (src->type == LIS_PK_LIST || src->type == LIS_PK_TUPLE || src->type == LIS_PK_SET))
            for (size_t i = 0; i < src->n; i++) LIS_TRY(run_ctx(r, items_push(r->vm, s, src->items[i])));
        *out = s;
        return LIS_OK;
    }
    case B_BYTEARRAY: {
        const lis_pk *a0 = arg(args, 0);
        if (!a0) { *out = new_bytes(r, LIS_PK_BYTES, (const unsigned char *)"", 0); return *out ? LIS_OK : run_ctx(r, LIS_ERR); }
        if (a0->type == LIS_PK_BYTES) { *out = new_bytes(r, LIS_PK_BYTES, a0->p, a0->len); return *out ? LIS_OK : run_ctx(r, LIS_ERR); }
        return build_codecs(r, a0, arg(args, 1), out);
    }
    case B_CODECS_ENCODE: return build_codecs(r, arg(args, 0), arg(args, 1), out);
    case B_COPYREG_RECON: {
        const lis_pk *cls = arg(args, 0);
        if (nargs(args) != 3 || cls->type != LIS_PK_GLOBAL || (cls->u.glob.g->b != B_CLASS && cls->u.glob.g->b != B_DICT))
            return run_err(r, "copyreg._reconstructor: the class is not one lis reads");
        if (cls->u.glob.g->b == B_DICT) return build_dict(r, NULL, out);
        return build_object(r, cls, NULL, 0, out);
    }
    case B_TENSOR_V2: return build_tensor(r, args, 1, out);
    case B_TENSOR_V1: return build_tensor(r, args, 0, out);
    case B_PARAM: {
        const lis_pk *t = arg(args, 0);
        if (!t || t->type != LIS_PK_TENSOR) return run_err(r, "_rebuild_parameter: the data is not a tensor");
        *out = (lis_pk *)t;
        return LIS_OK;
    }
    case B_FROM_TYPE_V2: {
        const lis_pk *f = arg(args, 0), *a = arg(args, 2);
        if (nargs(args) != 4 || f->type != LIS_PK_GLOBAL || depth > 0 ||
            (f->u.glob.g->b != B_TENSOR_V2 && f->u.glob.g->b != B_TENSOR_V1 && f->u.glob.g->b != B_PARAM))
            return run_err(r, "_rebuild_from_type_v2: only tensor rebuilds are supported");
        return call(r, f, (lis_pk *)a, 0, depth + 1, out);
    }
    case B_TORCH_SIZE: {
        const lis_pk *t = arg(args, 0);
        if (nargs(args) != 1 || t->type != LIS_PK_TUPLE) return run_err(r, "torch.Size: expected a tuple");
        *out = (lis_pk *)t;
        return LIS_OK;
    }
    case B_LOAD_FROM_BYTES: {
        const lis_pk *b = arg(args, 0);
        if (nargs(args) != 1 || b->type != LIS_PK_BYTES) return run_err(r, "_load_from_bytes: expected (bytes,)");
        if (!r->vm->o.load_from_bytes) return run_err(r, "torch.storage._load_from_bytes is not expected in this file");
        if (r->vm->run_depth >= PK_MAX_RUN_DEPTH) return run_err(r, "storage blobs nested too deeply");
        *out = NULL;
        LIS_TRY(run_ctx(r, r->vm->o.load_from_bytes(r->vm->o.ctx, r->vm, b->p, b->len, out)));
        return *out ? LIS_OK : run_err(r, "_load_from_bytes returned no value");
    }
    case B_PERSISTENT: {
        const lis_pk *meta = arg(args, 0);
        if (nargs(args) != 1 || meta->type != LIS_PK_DICT) return run_err(r, "_reconstruct_persistent_obj: expected (meta dict,)");
        const lis_pk *type = lis_pk_dict_get(meta, "type"), *cn = lis_pk_dict_get(meta, "class_name");
        if (!lis_pk_is_str(type, "class") || !cn || cn->type != LIS_PK_STR)
            return run_err(r, "_reconstruct_persistent_obj: meta needs type 'class' and a class_name");
        LIS_TRY(build_object(r, fn, args, 0, out));
        (*out)->u.obj.class_name = cn;
        (*out)->u.obj.state = lis_pk_dict_get(meta, "state");
        return LIS_OK;
    }
    case B_NP_SCALAR: return build_np_scalar(r, args, out);
    case B_NP_DTYPE: {
        const lis_pk *c = arg(args, 0);
        if (!c || c->type != LIS_PK_STR) return run_err(r, "numpy.dtype: expected a type code");
        lis_pk *d = new_val(r, LIS_PK_DTYPE);
        if (!d) return run_ctx(r, LIS_ERR);
        parse_np_code(d, c->p, c->len);
        *out = d;
        return LIS_OK;
    }
    case B_NP_RECONSTRUCT: return build_np_reconstruct(r, args, out);
    case B_NP_FROMBUFFER: {
        const lis_pk *b = arg(args, 0), *dt = arg(args, 1), *o = arg(args, 3);
        if (nargs(args) != 4 || b->type != LIS_PK_BYTES || dt->type != LIS_PK_DTYPE || o->type != LIS_PK_STR)
            return run_err(r, "numpy _frombuffer: expected (buffer, dtype, shape, order)");
        lis_pk *a = new_val(r, LIS_PK_NDARRAY);
        if (!a) return run_ctx(r, LIS_ERR);
        LIS_TRY(tuple_shape(r, arg(args, 2), &a->u.nd.ndim, a->u.nd.shape, "ndarray shape"));
        a->u.nd.dtype = dt->u.nd.dtype;
        a->u.nd.dtype_ok = dt->u.nd.dtype_ok;
        a->u.nd.byteorder = dt->u.nd.byteorder;
        memcpy(a->u.nd.code, dt->u.nd.code, sizeof a->u.nd.code);
        a->u.nd.fortran = lis_pk_is_str(o, "F");
        a->u.nd.data = b->p;
        a->u.nd.nbytes = b->len;
        a->u.nd.built = 1;
        *out = a;
        return LIS_OK;
    }
    case B_DILL_ARRAY: {
        const lis_pk *f = arg(args, 0), *a = arg(args, 1), *state = arg(args, 2);
        if (nargs(args) != 4 || f->type != LIS_PK_GLOBAL || f->u.glob.g->b != B_NP_RECONSTRUCT || a->type != LIS_PK_TUPLE)
            return run_err(r, "dill _create_array: expected (numpy _reconstruct, args, state, npdict)");
        LIS_TRY(build_np_reconstruct(r, a, out));
        return apply_nd_state(r, *out, state);
    }
    case B_CLASS: return build_object(r, fn, args, 0, out);
    case B_FUNC: return build_object(r, fn, args, 1, out);
    case B_STORAGE: return run_err(r, "%s.%s is only expected inside a persistent id", m, nm);
    case B_NP_NDARRAY: return run_err(r, "numpy.ndarray called directly");
    case B_DENY: break;
    }
    return run_err(r, "%s.%s cannot be called", m, nm);
}

/* BUILD: obj.__setstate__(state) or obj.__dict__.update(state) */
static lis_status build(pk_run *r, lis_pk *obj, lis_pk *state) {
    switch (obj->type) {
    case LIS_PK_DICT: /* OrderedDict._metadata of state dicts: not part of the data */
    case LIS_PK_TENSOR:
        return LIS_OK;
    case LIS_PK_NDARRAY:
        if (obj->u.nd.built) return run_err(r, "ndarray built twice");
        return apply_nd_state(r, obj, state);
    case LIS_PK_DTYPE:
        if (state && state->type == LIS_PK_TUPLE && state->n >= 2 && state->items[1]->type == LIS_PK_STR &&
            state->items[1]->len == 1) {
            obj->u.nd.byteorder = (char)state->items[1]->p[0];
            if (state->n >= 4 && state->items[3]->type != LIS_PK_NONE) obj->u.nd.dtype_ok = 0; /* structured */
            return LIS_OK;
        }
        return run_err(r, "numpy dtype state not understood");
    case LIS_PK_OBJECT:
        if (obj->u.obj.called) return run_err(r, "BUILD on the result of a call");
        /* (state, slotstate) tuples: keep the dict part */
        if (state && state->type == LIS_PK_TUPLE && state->n == 2 && state->items[0]->type == LIS_PK_DICT) state = state->items[0];
        if (!obj->u.obj.state || obj->u.obj.state->type != LIS_PK_DICT || !state || state->type != LIS_PK_DICT) {
            obj->u.obj.state = state;
            return LIS_OK;
        }
        /* a second BUILD updates the same __dict__ */
        for (size_t i = 0; i < state->n; i++) LIS_TRY(run_ctx(r, items_push(r->vm, obj->u.obj.state, state->items[i])));
        return LIS_OK;
    default:
        return run_err(r, "BUILD on a %s", lis_pk_type_name(obj->type));
    }
}

static lis_status set_items(pk_run *r, lis_pk *d, size_t first) {
    if ((r->sp - first) % 2) return run_err(r, "odd number of items for a dict");
    if (d->type != LIS_PK_DICT && !(d->type == LIS_PK_OBJECT && !d->u.obj.called))
        return run_err(r, "setting items of a %s", lis_pk_type_name(d->type));
    for (size_t i = first; i < r->sp; i++) LIS_TRY(run_ctx(r, items_push(r->vm, d, r->stack[i])));
    r->sp = first;
    return LIS_OK;
}

static lis_status append_items(pk_run *r, lis_pk *l, size_t first) {
    if (l->type != LIS_PK_LIST && l->type != LIS_PK_SET && !(l->type == LIS_PK_OBJECT && !l->u.obj.called))
        return run_err(r, "appending to a %s", lis_pk_type_name(l->type));
    for (size_t i = first; i < r->sp; i++) LIS_TRY(run_ctx(r, items_push(r->vm, l, r->stack[i])));
    r->sp = first;
    return LIS_OK;
}

static lis_status step(pk_run *r, lis_pk **result) {
    const unsigned char *b = NULL;
    lis_pk *v = NULL, *w = NULL, *x = NULL;
    size_t first = 0;
    uint64_t n = 0;
    r->op_off = r->p;
    if (r->p >= r->size) return lis_err_set("%s: offset %zu: truncated: the pickle ends without STOP", r->label, r->p);
    r->op = r->buf[r->p++];
    r->nops++;
    switch (r->op) {
    case 0x80: /* PROTO */
        LIS_TRY(need(r, 1, &b));
        if (b[0] > 5) return run_err(r, "pickle protocol %d is not supported (0-5)", b[0]);
        return LIS_OK;
    case 0x95: /* FRAME: a length hint */
        LIS_TRY(need(r, 8, &b));
        if (le(b, 8) > r->size - r->p) return run_err(r, "frame of %llu bytes, %zu remain", (unsigned long long)le(b, 8), r->size - r->p);
        return LIS_OK;
    case '.': /* STOP */
        LIS_TRY(pop(r, result));
        return LIS_OK;
    case '(': /* MARK */
        if (r->nmarks >= PK_MAX_MARKS) return run_err(r, "nesting deeper than %d MARKs", PK_MAX_MARKS);
        if (r->nmarks == r->mcap) {
            size_t cap = r->mcap ? r->mcap * 2 : 32;
            if (!charge(r->vm, (cap - r->mcap) * sizeof(size_t))) return run_ctx(r, LIS_ERR);
            size_t *nm = realloc(r->marks, cap * sizeof *nm);
            if (!nm) return lis_err_set("out of memory");
            r->marks = nm;
            r->mcap = cap;
        }
        r->marks[r->nmarks++] = r->sp;
        return LIS_OK;
    case '0': /* POP */
        if (r->sp > frame_base(r)) { r->sp--; return LIS_OK; }
        LIS_TRY(pop_mark(r, &first));
        r->sp = first;
        return LIS_OK;
    case '1': /* POP_MARK */
        LIS_TRY(pop_mark(r, &first));
        r->sp = first;
        return LIS_OK;
    case '2': /* DUP */
        LIS_TRY(top(r, &v));
        return push(r, v);
    case 'N': return push(r, new_val(r, LIS_PK_NONE));
    case 0x88: case 0x89: /* NEWTRUE, NEWFALSE */
        v = new_val(r, LIS_PK_BOOL);
        if (v) v->i = r->op == 0x88;
        return push(r, v);
    case 'J': LIS_TRY(need(r, 4, &b)); return push(r, new_int(r, (int32_t)(uint32_t)le(b, 4)));
    case 'K': LIS_TRY(need(r, 1, &b)); return push(r, new_int(r, b[0]));
    case 'M': LIS_TRY(need(r, 2, &b)); return push(r, new_int(r, (int64_t)le(b, 2)));
    case 0x8a: case 0x8b: { /* LONG1, LONG4: little-endian two's complement */
        if (r->op == 0x8a) { LIS_TRY(need(r, 1, &b)); n = b[0]; }
        else {
            LIS_TRY(need(r, 4, &b));
            int32_t sn = (int32_t)(uint32_t)le(b, 4);
            if (sn < 0) return run_err(r, "negative length");
            n = (uint64_t)sn;
        }
        LIS_TRY(need(r, (size_t)n, &b));
        if (n > 8) return push(r, new_bytes(r, LIS_PK_BIGINT, b, (size_t)n));
        uint64_t u = n ? le(b, (int)n) : 0;
        int sh = 64 - 8 * (int)n;
        int64_t i = n == 0 ? 0 : (sh ? (int64_t)(u << sh) >> sh : (int64_t)u);
        return push(r, new_int(r, i));
    }
    case 'G': { /* BINFLOAT: big-endian double */
        LIS_TRY(need(r, 8, &b));
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = (u << 8) | b[i];
        v = new_val(r, LIS_PK_FLOAT);
        if (v) memcpy(&v->f, &u, 8);
        return push(r, v);
    }
    case 0x8c: case 'U': case 'C': /* SHORT_BINUNICODE, SHORT_BINSTRING, SHORT_BINBYTES */
        LIS_TRY(need(r, 1, &b));
        n = b[0];
        LIS_TRY(need(r, (size_t)n, &b));
        return push(r, new_bytes(r, r->op == 'C' ? LIS_PK_BYTES : LIS_PK_STR, b, (size_t)n));
    case 'X': case 'T': case 'B': /* BINUNICODE, BINSTRING, BINBYTES */
        LIS_TRY(need(r, 4, &b));
        n = le(b, 4);
        if (r->op == 'T' && n > INT32_MAX) return run_err(r, "negative length");
        LIS_TRY(need(r, (size_t)n, &b));
        return push(r, new_bytes(r, r->op == 'B' ? LIS_PK_BYTES : LIS_PK_STR, b, (size_t)n));
    case 0x8d: case 0x8e: case 0x96: /* BINUNICODE8, BINBYTES8, BYTEARRAY8 */
        LIS_TRY(need(r, 8, &b));
        n = le(b, 8);
        if (n > r->size - r->p) return run_err(r, "declared length %llu exceeds the %zu bytes remaining", (unsigned long long)n, r->size - r->p);
        LIS_TRY(need(r, (size_t)n, &b));
        return push(r, new_bytes(r, r->op == 0x8d ? LIS_PK_STR : LIS_PK_BYTES, b, (size_t)n));
    case ')': return push(r, new_val(r, LIS_PK_TUPLE));
    case ']': return push(r, new_val(r, LIS_PK_LIST));
    case '}': return push(r, new_val(r, LIS_PK_DICT));
    case 0x8f: return push(r, new_val(r, LIS_PK_SET));
    case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
        size_t k = (size_t)(r->op - 0x84);
        if (r->sp < frame_base(r) + k) return run_err(r, "stack underflow");
        LIS_TRY(make_seq(r, LIS_PK_TUPLE, r->sp - k, &v));
        return push(r, v);
    }
    case 't': case 'l': case 'd': case 0x91: /* TUPLE, LIST, DICT, FROZENSET */
        LIS_TRY(pop_mark(r, &first));
        if (r->op == 'd') {
            if ((r->sp - first) % 2) return run_err(r, "odd number of items for a dict");
            LIS_TRY(make_seq(r, LIS_PK_DICT, first, &v));
        } else {
            LIS_TRY(make_seq(r, r->op == 't' ? LIS_PK_TUPLE : r->op == 'l' ? LIS_PK_LIST : LIS_PK_SET, first, &v));
        }
        return push(r, v);
    case 'a': /* APPEND */
        LIS_TRY(pop(r, &v));
        LIS_TRY(top(r, &w));
        LIS_TRY(push(r, v));
        return append_items(r, w, r->sp - 1);
    case 'e': case 0x90: /* APPENDS, ADDITEMS */
        LIS_TRY(pop_mark(r, &first));
        if (first <= frame_base(r)) return run_err(r, "no list below the MARK");
        return append_items(r, r->stack[first - 1], first);
    case 's': /* SETITEM */
        if (r->sp < frame_base(r) + 3) return run_err(r, "stack underflow");
        return set_items(r, r->stack[r->sp - 3], r->sp - 2);
    case 'u': /* SETITEMS */
        LIS_TRY(pop_mark(r, &first));
        if (first <= frame_base(r)) return run_err(r, "no dict below the MARK");
        return set_items(r, r->stack[first - 1], first);
    case 'g': LIS_TRY(read_decimal(r, &n)); return memo_get(r, n);
    case 'h': LIS_TRY(need(r, 1, &b)); return memo_get(r, b[0]);
    case 'j': LIS_TRY(need(r, 4, &b)); return memo_get(r, le(b, 4));
    case 'p': case 'q': case 'r': /* PUT, BINPUT, LONG_BINPUT */
        if (r->op == 'p') LIS_TRY(read_decimal(r, &n));
        else if (r->op == 'q') { LIS_TRY(need(r, 1, &b)); n = b[0]; }
        else { LIS_TRY(need(r, 4, &b)); n = le(b, 4); }
        LIS_TRY(top(r, &v));
        return memo_put(r, (size_t)n, v);
    case 0x94: /* MEMOIZE */
        LIS_TRY(top(r, &v));
        return memo_put(r, r->memo_n, v);
    case 'c': { /* GLOBAL "module\nname\n" */
        char mod[PK_MAX_NAME + 1], name[PK_MAX_NAME + 1];
        LIS_TRY(read_line(r, mod, sizeof mod));
        LIS_TRY(read_line(r, name, sizeof name));
        return resolve_global(r, mod, name);
    }
    case 0x93: { /* STACK_GLOBAL */
        char mod[PK_MAX_NAME + 1], name[PK_MAX_NAME + 1];
        LIS_TRY(pop(r, &w));
        LIS_TRY(pop(r, &v));
        if (v->type != LIS_PK_STR || w->type != LIS_PK_STR || v->len > PK_MAX_NAME || w->len > PK_MAX_NAME ||
            memchr(v->p, 0, v->len) || memchr(w->p, 0, w->len))
            return run_err(r, "module and name must be short strings");
        memcpy(mod, v->p, v->len); mod[v->len] = 0;
        memcpy(name, w->p, w->len); name[w->len] = 0;
        return resolve_global(r, mod, name);
    }
    case 'R': case 0x81: /* REDUCE, NEWOBJ */
        LIS_TRY(pop(r, &w));
        LIS_TRY(pop(r, &v));
        LIS_TRY(call(r, v, w, r->op == 0x81, 0, &x));
        return push(r, x);
    case 0x92: /* NEWOBJ_EX: cls, args, kwargs */
        LIS_TRY(pop(r, &x));
        LIS_TRY(pop(r, &w));
        LIS_TRY(pop(r, &v));
        if (x->type != LIS_PK_DICT) return run_err(r, "NEWOBJ_EX kwargs must be a dict");
        LIS_TRY(call(r, v, w, 1, 0, &x));
        return push(r, x);
    case 'b': /* BUILD */
        LIS_TRY(pop(r, &w));
        LIS_TRY(top(r, &v));
        return build(r, v, w);
    case 'Q': /* BINPERSID */
        LIS_TRY(pop(r, &v));
        if (!r->persistent_load) return run_err(r, "persistent ids are not expected in this file");
        LIS_TRY(run_ctx(r, r->persistent_load(r->ctx, r->vm, v, &x)));
        if (!x) return run_err(r, "persistent_load returned no value");
        return push(r, x);
    case 0x98: /* READONLY_BUFFER */
        return top(r, &v);
    case 'i': case 'o':
        return run_err(r, "the INST/OBJ opcodes instantiate arbitrary classes: refused");
    case 0x82: case 0x83: case 0x84:
        return run_err(r, "extension registry opcodes are refused");
    case 'P':
        return run_err(r, "text persistent ids are not supported");
    case 0x97:
        return run_err(r, "out-of-band buffers are not supported");
    case 'I': case 'L': case 'F': case 'S': case 'V':
        return run_err(r, "protocol-0 text opcodes are not supported (re-save the file with protocol 2 or later)");
    default:
        return run_err(r, "unknown opcode 0x%02x", r->op);
    }
}

lis_status lis_pk_run(lis_pk_vm *vm, const lis_pk_run_opts *ro, const unsigned char *buf, size_t size, size_t *pos,
                      lis_pk **out) {
    *out = NULL;
    const char *label = ro && ro->label ? ro->label : vm->label;
    if (vm->run_depth >= PK_MAX_RUN_DEPTH) return lis_err_set("%s: pickles nested too deeply", label);
    pk_run r = {.vm = vm, .label = label, .buf = buf, .size = size, .p = *pos,
                .persistent_load = ro && ro->persistent_load ? ro->persistent_load : vm->o.persistent_load,
                .ctx = ro && ro->persistent_load ? ro->ctx : vm->o.ctx};
    if (r.p > size) return lis_err_set("%s: start offset past the end", r.label);
    size_t used0 = vm->used;
    vm->run_depth++;
    lis_status s = LIS_OK;
    while (s == LIS_OK && !*out) s = step(&r, out);
    vm->run_depth--;
    free(r.stack);
    free(r.marks);
    free(r.memo);
    /* the stack/mark/memo arrays were charged; give that back, keep the values' share */
    size_t scratch = (r.scap * sizeof(lis_pk *)) + (r.mcap * sizeof(size_t)) + (r.memo_cap * sizeof(lis_pk *));
    if (vm->used - used0 >= scratch) vm->used -= scratch;
    if (s != LIS_OK) { *out = NULL; return s; }
    *pos = r.p;
    return LIS_OK;
}

lis_status lis_pk_file_open(lis_pk_file *f, const char *path, const lis_pk_opts *o) {
    memset(f, 0, sizeof *f);
    LIS_TRY(lis_map_file(&f->map, path));
    lis_pk_opts oo = *o;
    if (!oo.label) oo.label = path;
    lis_status s = lis_pk_vm_init(&f->vm, &oo);
    size_t pos = 0;
    if (s == LIS_OK) s = lis_pk_run(f->vm, NULL, f->map.data, f->map.size, &pos, &f->root);
    if (s == LIS_OK && pos != f->map.size)
        s = lis_err_set("%s: %zu bytes follow the pickle's STOP at offset %zu", oo.label, f->map.size - pos, pos - 1);
    if (s != LIS_OK) lis_pk_file_close(f);
    return s;
}

void lis_pk_file_close(lis_pk_file *f) {
    if (!f) return;
    lis_pk_vm_free(f->vm);
    lis_unmap_file(&f->map);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------------------------------
 * Reading values
 * ------------------------------------------------------------------------------------ */
const char *lis_pk_type_name(lis_pk_type t) {
    static const char *names[] = {"None", "bool", "int", "big int", "float", "str", "bytes", "tuple", "list", "dict",
                                  "set", "global", "object", "storage", "tensor", "ndarray", "dtype"};
    return (unsigned)t < LIS_PK_TYPE_COUNT ? names[t] : "?";
}

int lis_pk_is_str(const lis_pk *v, const char *s) {
    size_t n = strlen(s);
    return v && v->type == LIS_PK_STR && v->len == n && memcmp(v->p, s, n) == 0;
}

const char *lis_pk_str(const lis_pk *v, char *buf, size_t cap) {
    if (!cap) return buf;
    buf[0] = 0;
    if (!v || v->type != LIS_PK_STR) return buf;
    size_t n = v->len < cap - 1 ? v->len : cap - 1;
    memcpy(buf, v->p, n);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++) if (!buf[i]) buf[i] = '?';
    return buf;
}

lis_pk *lis_pk_dict_get(const lis_pk *d, const char *key) {
    if (!d || d->type != LIS_PK_DICT) return NULL;
    for (size_t i = d->n / 2; i-- > 0;)
        if (lis_pk_is_str(d->items[2 * i], key)) return d->items[2 * i + 1];
    return NULL;
}

int lis_pk_as_int(const lis_pk *v, int64_t *out) {
    if (!v || (v->type != LIS_PK_INT && v->type != LIS_PK_BOOL)) return 0;
    *out = v->i;
    return 1;
}

int lis_pk_as_double(const lis_pk *v, double *out) {
    if (v && (v->type == LIS_PK_INT || v->type == LIS_PK_BOOL)) { *out = (double)v->i; return 1; }
    if (v && v->type == LIS_PK_FLOAT) { *out = v->f; return 1; }
    return 0;
}

const char *lis_pk_class_name(const lis_pk *v, char *buf, size_t cap) {
    if (cap) buf[0] = 0;
    if (!v || v->type != LIS_PK_OBJECT) return buf;
    if (v->u.obj.class_name) return lis_pk_str(v->u.obj.class_name, buf, cap);
    const lis_pk *c = v->u.obj.cls;
    if (c && c->type == LIS_PK_GLOBAL) snprintf(buf, cap, "%s.%s", c->u.glob.module, c->u.glob.name);
    return buf;
}

lis_pk *lis_pk_obj_state(const lis_pk *v) {
    return v && v->type == LIS_PK_OBJECT && v->u.obj.state && v->u.obj.state->type == LIS_PK_DICT ? v->u.obj.state : NULL;
}

static int utf8_ok(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!k || (k == 2 && c < 0xc2) || i + k > n || (c == 0)) return 0;
        for (size_t j = 1; j < k; j++) if ((p[i + j] & 0xc0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

static int nd_numel(const lis_pk *a, size_t *numel) {
    size_t n = 1;
    for (int i = 0; i < a->u.nd.ndim; i++) if (!lis_mul_ok(n, (size_t)a->u.nd.shape[i], &n)) return 0;
    *numel = n;
    return 1;
}

static int nd_plain(const lis_pk *a, size_t max_elems) {
    size_t n;
    return a->u.nd.built && a->u.nd.dtype_ok && a->u.nd.byteorder != '>' && !a->u.nd.fortran && nd_numel(a, &n) &&
           n <= max_elems && lis_dtype_size(a->u.nd.dtype) * n == a->u.nd.nbytes;
}

/* Values are a DAG (memo references can share a subtree many times, doubling at every
 * level), so a walk counts the nodes it visits and gives up past PK_WALK_BUDGET. */
#define PK_WALK_BUDGET 1000000
static int is_plain(const lis_pk *v, size_t max_elems, int depth, size_t *visits) {
    if (!v || depth > LIS_PK_MAX_WALK_DEPTH || ++*visits > PK_WALK_BUDGET) return 0;
    switch (v->type) {
    case LIS_PK_NONE: case LIS_PK_BOOL: case LIS_PK_INT: return 1;
    case LIS_PK_FLOAT: return 1;
    case LIS_PK_STR: /* long strings count by size, so the JSON written stays bounded too */
        *visits += v->len / 64;
        return *visits <= PK_WALK_BUDGET && utf8_ok(v->p, v->len) && !memchr(v->p, 0, v->len);
    case LIS_PK_TUPLE: case LIS_PK_LIST:
        for (size_t i = 0; i < v->n; i++) if (!is_plain(v->items[i], max_elems, depth + 1, visits)) return 0;
        return 1;
    case LIS_PK_DICT:
        for (size_t i = 0; i + 1 < v->n; i += 2)
            if (v->items[i]->type != LIS_PK_STR || !is_plain(v->items[i], 0, depth + 1, visits) ||
                !is_plain(v->items[i + 1], max_elems, depth + 1, visits))
                return 0;
        return 1;
    case LIS_PK_NDARRAY: {
        size_t n;
        if (!nd_plain(v, max_elems) || !nd_numel(v, &n)) return 0;
        *visits += n;
        return *visits <= PK_WALK_BUDGET;
    }
    default: return 0;
    }
}

int lis_pk_is_plain(const lis_pk *v, size_t max_elems) {
    size_t visits = 0;
    return is_plain(v, max_elems, 0, &visits);
}

static void json_num(lis_sbuf *b, double d) {
    if (!isfinite(d)) lis_sbuf_printf(b, "null");
    else if (d == floor(d) && fabs(d) < 9e15) lis_sbuf_printf(b, "%.1f", d);
    else lis_sbuf_printf(b, "%.17g", d);
}

static void json_str(lis_sbuf *b, const lis_pk *v) {
    char small[256], *s = v->len < sizeof small ? small : malloc(v->len + 1);
    if (!s) { b->oom = 1; return; }
    memcpy(s, v->p, v->len);
    s[v->len] = 0;
    lis_sbuf_json_str(b, s);
    if (s != small) free(s);
}

/* element k (row-major) of a plain ndarray as a double */
static double nd_elem(const lis_pk *a, size_t k) {
    const unsigned char *p = a->u.nd.data + k * lis_dtype_size(a->u.nd.dtype);
    switch (a->u.nd.dtype) {
    case LIS_DTYPE_F32: { float f; memcpy(&f, p, 4); return f; }
    case LIS_DTYPE_F64: { double d; memcpy(&d, p, 8); return d; }
    case LIS_DTYPE_F16: { uint16_t h; memcpy(&h, p, 2); return lis_f16_to_f32(h); }
    case LIS_DTYPE_BF16: { uint16_t h; memcpy(&h, p, 2); return lis_bf16_to_f32(h); }
    case LIS_DTYPE_I64: { int64_t i; memcpy(&i, p, 8); return (double)i; }
    case LIS_DTYPE_I32: { int32_t i; memcpy(&i, p, 4); return i; }
    case LIS_DTYPE_I16: { int16_t i; memcpy(&i, p, 2); return i; }
    case LIS_DTYPE_I8: return (int8_t)p[0];
    case LIS_DTYPE_U8: case LIS_DTYPE_BOOL: return p[0];
    default: return NAN;
    }
}

static void json_nd(lis_sbuf *b, const lis_pk *a, int dim, size_t *k) {
    if (dim == a->u.nd.ndim) {
        double d = nd_elem(a, (*k)++);
        if (a->u.nd.dtype == LIS_DTYPE_BOOL) lis_sbuf_printf(b, d ? "true" : "false");
        else if (a->u.nd.dtype == LIS_DTYPE_F32 || a->u.nd.dtype == LIS_DTYPE_F64 || a->u.nd.dtype == LIS_DTYPE_F16 ||
                 a->u.nd.dtype == LIS_DTYPE_BF16)
            json_num(b, d);
        else lis_sbuf_printf(b, "%.0f", d);
        return;
    }
    lis_sbuf_printf(b, "[");
    for (int64_t i = 0; i < a->u.nd.shape[dim]; i++) {
        if (i) lis_sbuf_printf(b, ",");
        json_nd(b, a, dim + 1, k);
    }
    lis_sbuf_printf(b, "]");
}

/* v is plain (checked once by lis_pk_to_json), so every part of it is */
static void to_json(lis_sbuf *b, const lis_pk *v, size_t max_elems, int depth) {
    switch (v->type) {
    case LIS_PK_BOOL: lis_sbuf_printf(b, v->i ? "true" : "false"); return;
    case LIS_PK_INT: lis_sbuf_printf(b, "%lld", (long long)v->i); return;
    case LIS_PK_FLOAT: json_num(b, v->f); return;
    case LIS_PK_STR: json_str(b, v); return;
    case LIS_PK_TUPLE: case LIS_PK_LIST:
        lis_sbuf_printf(b, "[");
        for (size_t i = 0; i < v->n; i++) {
            if (i) lis_sbuf_printf(b, ",");
            to_json(b, v->items[i], max_elems, depth + 1);
        }
        lis_sbuf_printf(b, "]");
        return;
    case LIS_PK_DICT:
        lis_sbuf_printf(b, "{");
        for (size_t i = 0; i + 1 < v->n; i += 2) {
            if (i) lis_sbuf_printf(b, ",");
            json_str(b, v->items[i]);
            lis_sbuf_printf(b, ":");
            to_json(b, v->items[i + 1], max_elems, depth + 1);
        }
        lis_sbuf_printf(b, "}");
        return;
    case LIS_PK_NDARRAY: {
        size_t k = 0;
        json_nd(b, v, 0, &k);
        return;
    }
    default: lis_sbuf_printf(b, "null"); return;
    }
}

void lis_pk_to_json(lis_sbuf *b, const lis_pk *v, size_t max_elems) {
    if (!lis_pk_is_plain(v, max_elems)) lis_sbuf_printf(b, "null");
    else to_json(b, v, max_elems, 0);
}

/* ------------------------------------------------------------------------------------
 * Tensors
 * ------------------------------------------------------------------------------------ */
int lis_pk_storage_dtype(const lis_pk *g, lis_dtype *dt) {
    if (!g || g->type != LIS_PK_GLOBAL || g->u.glob.g->b != B_STORAGE) return 0;
    *dt = (lis_dtype)g->u.glob.g->arg;
    return 1;
}

/* Copies a strided array into a new contiguous tensor. */
static lis_status gather(lis_tensor *t, const unsigned char *base, const int64_t *stride, size_t esz) {
    lis_tensor o;
    LIS_TRY(lis_tensor_alloc(&o, t->dtype, t->ndim, t->shape));
    int64_t numel = lis_tensor_numel(t), idx[LIS_MAX_DIMS] = {0};
    unsigned char *dst = o.data;
    for (int64_t k = 0; k < numel; k++) {
        int64_t off = 0;
        for (int d = 0; d < t->ndim; d++) off += idx[d] * stride[d];
        memcpy(dst + (size_t)k * esz, base + (size_t)off * esz, esz);
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->shape[d]) break;
            idx[d] = 0;
        }
    }
    *t = o;
    return LIS_OK;
}

/* Checks that offset + sum((shape-1)*stride) < avail elements; 1 if contiguous. */
static lis_status check_extent(const char *what, int ndim, const int64_t *shape, const int64_t *stride, int64_t offset,
                               size_t avail, int *contiguous, size_t *numel) {
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0 || !lis_mul_ok(n, (size_t)shape[d], &n) || n > (size_t)INT64_MAX)
            return lis_err_set("%s: shape overflows", what);
    *numel = n;
    *contiguous = 1;
    int64_t expect = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] != 1 && stride[d] != expect) *contiguous = 0;
        if (__builtin_mul_overflow(expect, shape[d] ? shape[d] : 1, &expect)) expect = INT64_MAX;
    }
    if (n == 0) return LIS_OK;
    int64_t last = offset;
    for (int d = 0; d < ndim; d++) {
        int64_t span;
        if (stride[d] < 0) return lis_err_set("%s: negative stride", what);
        if (__builtin_mul_overflow(shape[d] - 1, stride[d], &span) || __builtin_add_overflow(last, span, &last))
            return lis_err_set("%s: offset and strides overflow", what);
    }
    if (offset < 0 || (uint64_t)last >= (uint64_t)avail)
        return lis_err_set("%s: reaches element %lld but its storage holds %zu (offset %lld)", what, (long long)last, avail,
                           (long long)offset);
    return LIS_OK;
}

lis_status lis_pk_tensor(const lis_pk *v, lis_tensor *t, const char *what) {
    memset(t, 0, sizeof *t);
    if (v && v->type == LIS_PK_TENSOR) {
        const lis_pk *st = v->u.tensor.storage;
        lis_dtype dt = st->u.storage.dtype;
        size_t esz = lis_dtype_size(dt);
        if (!st->u.storage.data && st->u.storage.nbytes) return lis_err_set("%s: storage data not found", what);
        size_t avail = st->u.storage.nbytes / esz, numel = 0;
        if (st->u.storage.numel >= 0 && (uint64_t)st->u.storage.numel < avail) avail = (size_t)st->u.storage.numel;
        int contiguous = 0;
        LIS_TRY(check_extent(what, v->u.tensor.ndim, v->u.tensor.shape, v->u.tensor.stride, v->u.tensor.offset, avail,
                             &contiguous, &numel));
        t->dtype = dt;
        t->ndim = v->u.tensor.ndim;
        memcpy(t->shape, v->u.tensor.shape, sizeof t->shape);
        if (numel == 0) return lis_tensor_alloc(t, dt, t->ndim, v->u.tensor.shape);
        const unsigned char *base = st->u.storage.data + (size_t)v->u.tensor.offset * esz;
        if (contiguous) { t->data = (void *)base; t->owns = 0; return LIS_OK; }
        /* zero strides let a few stored elements stand for a huge tensor (torch's expand) */
        if (numel / 64 > avail + ((size_t)16 << 20) / esz)
            return lis_err_set("%s: expands a storage of %zu elements into %zu (broadcast strides): refused", what, avail,
                               numel);
        return gather(t, base, v->u.tensor.stride, esz);
    }
    if (v && v->type == LIS_PK_NDARRAY) {
        if (!v->u.nd.built) return lis_err_set("%s: numpy array without data", what);
        if (!v->u.nd.dtype_ok) return lis_err_set("%s: numpy dtype '%s' is not supported", what, v->u.nd.code);
        size_t esz = lis_dtype_size(v->u.nd.dtype), numel;
        if (v->u.nd.byteorder == '>' && esz > 1) return lis_err_set("%s: big-endian numpy data are not supported", what);
        if (!nd_numel(v, &numel) || !lis_mul_ok(numel, esz, &numel) || numel != v->u.nd.nbytes)
            return lis_err_set("%s: numpy array of shape with %d dims does not match its %zu data bytes", what,
                               v->u.nd.ndim, v->u.nd.nbytes);
        t->dtype = v->u.nd.dtype;
        t->ndim = v->u.nd.ndim;
        memcpy(t->shape, v->u.nd.shape, sizeof t->shape);
        if (v->u.nd.nbytes == 0) return lis_tensor_alloc(t, t->dtype, t->ndim, v->u.nd.shape);
        if (!v->u.nd.fortran || t->ndim < 2) { t->data = (void *)v->u.nd.data; t->owns = 0; return LIS_OK; }
        int64_t stride[LIS_MAX_DIMS], s = 1;
        for (int d = 0; d < t->ndim; d++) { stride[d] = s; s *= t->shape[d]; }
        return gather(t, v->u.nd.data, stride, esz);
    }
    return lis_err_set("%s: a %s, not a tensor", what, v ? lis_pk_type_name(v->type) : "missing value");
}
