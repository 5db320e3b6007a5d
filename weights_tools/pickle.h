/* pickle.h — a Python pickle reader that builds plain values and executes nothing.
 *
 * Checkpoints arrive as pickles: torch.save's data.pkl (protocol 2), the legacy torch.save
 * stream (five protocol-2 pickles), StyleGAN-XL network snapshots (dill, protocol 4) and
 * scikit-learn estimators (protocol 2-5). A pickle is a program for a stack machine; the
 * dangerous part is that GLOBAL names any Python callable and REDUCE calls it. This VM
 * never calls anything: GLOBAL looks the (module, name) pair up in ONE table (pickle.c,
 * `globals_table`) and either gets a builder that makes a plain value (a tensor
 * descriptor, an ordered dict, a numpy array ...) or fails with a message naming the
 * global and the byte offset of its opcode. Known code-runners (os, subprocess,
 * builtins.eval, ...) get their own message.
 *
 * Example (`python3 -m pickletools` of a torch zip data.pkl, protocol 2):
 *
 *     0: \x80 PROTO      2
 *     2: c    GLOBAL     'collections OrderedDict'
 *    27: q    BINPUT     0
 *    29: )    EMPTY_TUPLE
 *    30: R    REDUCE                         -> {} (ordered dict)
 *    33: (    MARK
 *    34: X        BINUNICODE 'conv1.weight'
 *    53: c        GLOBAL     'torch._utils _rebuild_tensor_v2'
 *    88: (        MARK
 *    89: (            MARK
 *    90: X                BINUNICODE 'storage'
 *   104: c                GLOBAL     'torch FloatStorage'
 *   128: X                BINUNICODE '0'
 *   134: X                BINUNICODE 'cpu'
 *   144: M                BININT2    4704 ... t TUPLE
 *   160: Q            BINPERSID                 -> persistent_load callback: a storage
 *   161: K            BININT1    0               storage offset
 *   163: (K 8 K 3 K 7 K 7 t  size;  (K 147 K 49 K 7 K 1 t  stride
 *   ...  \x89 NEWFALSE, OrderedDict(), t TUPLE, R REDUCE   -> tensor descriptor
 *   ...  u SETITEMS ... b BUILD ({'_metadata': ...}, ignored) . STOP
 *
 * Opcodes: protocols 2-5 binary opcodes plus GET/PUT/DICT/LIST/TUPLE/POP/DUP; refused:
 * INST, OBJ, EXT1/2/4, PERSID (text), NEXT_BUFFER (out-of-band) and the protocol-0 text
 * scalars (INT, LONG, FLOAT, STRING, UNICODE).
 * Limits (checked against the bytes remaining and SIZE_MAX before any use): every
 * length; memo indices (a writer numbers them in order, so an index is never above the
 * count of opcodes run); stack depth; MARK nesting; a total allocation budget. Strings
 * and bytes are views into the input buffer, which must outlive the VM.
 *
 * Values live until lis_pk_vm_free (one arena per VM; memo sharing and cycles are fine).
 * Walkers of values (JSON export, state-dict extraction) must bound their depth:
 * LIS_PK_MAX_WALK_DEPTH.
 */
#ifndef LIS_PICKLE_H
#define LIS_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/fileio.h"
#include "runtime/json.h"
#include "runtime/tensor.h"

#define LIS_PK_MAX_WALK_DEPTH 200

typedef enum {
    LIS_PK_NONE = 0,
    LIS_PK_BOOL,    /* i */
    LIS_PK_INT,     /* i (fits int64) */
    LIS_PK_BIGINT,  /* p, len: little-endian two's complement (> 8 bytes) */
    LIS_PK_FLOAT,   /* f */
    LIS_PK_STR,     /* p, len: UTF-8, not NUL-terminated */
    LIS_PK_BYTES,   /* p, len */
    LIS_PK_TUPLE,   /* items[n] */
    LIS_PK_LIST,    /* items[n] */
    LIS_PK_DICT,    /* items[2n]: key, value, key, value ... (insertion order) */
    LIS_PK_SET,     /* items[n] (set, frozenset) */
    LIS_PK_GLOBAL,  /* a whitelisted global: glob (module, name, builder) */
    LIS_PK_OBJECT,  /* an inert object: class instance, persistent object, opaque call result */
    LIS_PK_STORAGE, /* a torch storage: storage.* */
    LIS_PK_TENSOR,  /* a torch tensor descriptor: tensor.* */
    LIS_PK_NDARRAY, /* a numpy array: nd.* */
    LIS_PK_DTYPE,   /* a numpy dtype: nd.dtype (nd.dtype_ok = 0: one lis cannot hold) */
    LIS_PK_TYPE_COUNT
} lis_pk_type;

typedef struct lis_pk lis_pk;
typedef struct lis_pk_vm lis_pk_vm;
typedef struct lis_pk_global lis_pk_global; /* an entry of the table in pickle.c */

struct lis_pk {
    lis_pk_type type;
    int64_t i;
    double f;
    const unsigned char *p;
    size_t len;
    lis_pk **items;
    size_t n, cap; /* DICT: n counts items (2 per entry) */
    union {
        struct {
            const lis_pk_global *g;
            const char *module, *name; /* NUL-terminated, owned by the VM */
        } glob;
        struct {
            const lis_pk *cls;  /* GLOBAL (class or function), or an OBJECT called again */
            lis_pk *args;       /* TUPLE or NULL */
            lis_pk *state;      /* set by BUILD (or meta['state'] for persistent objects), or NULL */
            const lis_pk *class_name; /* STR: meta['class_name'] of a persistent object, else NULL */
            int called;         /* 1: result of calling a function (opaque), 0: class instance */
        } obj;
        struct {
            lis_dtype dtype;
            const lis_pk *key;   /* STR or INT identifying the storage in its file */
            int64_t numel;       /* elements, as declared by the file */
            const unsigned char *data; /* resolved bytes (numel * element size), or NULL */
            size_t nbytes;
        } storage;
        struct {
            lis_pk *storage;     /* STORAGE */
            int64_t offset;      /* in elements */
            int ndim;
            int64_t shape[LIS_MAX_DIMS], stride[LIS_MAX_DIMS];
        } tensor;
        struct {
            lis_dtype dtype;
            int dtype_ok;        /* 0: a dtype lis does not hold (object, unicode, complex, u8 ...) */
            char code[16];       /* numpy's spelling, e.g. "f8" */
            char byteorder;      /* '<', '>', '|', '=' */
            int ndim, fortran, built;
            int64_t shape[LIS_MAX_DIMS];
            const unsigned char *data; size_t nbytes;
        } nd;
    } u;
};

typedef struct {
    const char *label; /* names the source in messages, e.g. "model.pth: data.pkl" */
    size_t max_alloc;  /* budget for values in bytes (0: 1 GiB) */
    /* BINPERSID: turns the persistent id into a value (torch: a STORAGE). NULL: refused. */
    lis_status (*persistent_load)(void *ctx, lis_pk_vm *vm, const lis_pk *pid, lis_pk **out);
    /* torch.storage._load_from_bytes(b): a legacy torch.save stream of one storage.
     * NULL: refused. */
    lis_status (*load_from_bytes)(void *ctx, lis_pk_vm *vm, const unsigned char *b, size_t n, lis_pk **out);
    void *ctx;
} lis_pk_opts;

lis_status lis_pk_vm_init(lis_pk_vm **vm, const lis_pk_opts *o);
void lis_pk_vm_free(lis_pk_vm *vm);
/* Per-run settings: a NULL field (or a NULL pointer) takes the VM's. */
typedef struct {
    const char *label; /* names this pickle in messages */
    lis_status (*persistent_load)(void *ctx, lis_pk_vm *vm, const lis_pk *pid, lis_pk **out);
    void *ctx;         /* for persistent_load */
} lis_pk_run_opts;

/* Runs one pickle from buf[*pos ..size) up to its STOP; *pos moves past it. Nested runs
 * (from a callback) are allowed and share the values; each run has its own stack and memo.
 * The result and everything it references belong to the VM. Errors name the label and
 * the opcode offset. */
lis_status lis_pk_run(lis_pk_vm *vm, const lis_pk_run_opts *ro, const unsigned char *buf, size_t size, size_t *pos,
                      lis_pk **out);
/* The options the VM was made with (callbacks reuse the label). */
const lis_pk_opts *lis_pk_vm_opts(const lis_pk_vm *vm);
/* Allocates a value owned by the VM (for callbacks); NULL with an error set over budget. */
lis_pk *lis_pk_new(lis_pk_vm *vm, lis_pk_type type);

/* A whole file holding one pickle (snapshots, scikit-learn models): maps it, runs the
 * pickle, and requires it to end exactly at the end of the file. */
typedef struct {
    lis_mapped_file map;
    lis_pk_vm *vm;
    lis_pk *root;
} lis_pk_file;
lis_status lis_pk_file_open(lis_pk_file *f, const char *path, const lis_pk_opts *o);
void lis_pk_file_close(lis_pk_file *f);

/* ---- reading values ---- */
const char *lis_pk_type_name(lis_pk_type t);
/* 1 if v is a STR equal to s. */
int lis_pk_is_str(const lis_pk *v, const char *s);
/* Copies a STR into buf (NUL-terminated, truncated to cap); "" for other types. */
const char *lis_pk_str(const lis_pk *v, char *buf, size_t cap);
/* The value of a DICT entry whose key is the string `key` (the last one wins), or NULL. */
lis_pk *lis_pk_dict_get(const lis_pk *dict, const char *key);
/* Integer value of INT/BOOL (and of numpy integer scalars, which become INT). */
int lis_pk_as_int(const lis_pk *v, int64_t *out);
/* Numeric value of INT/BOOL/FLOAT. */
int lis_pk_as_double(const lis_pk *v, double *out);
/* For an OBJECT: "module.Name" of its class, or the persistent class_name. */
const char *lis_pk_class_name(const lis_pk *v, char *buf, size_t cap);
/* For an OBJECT: its state dict (BUILD state, or persistent meta state), or NULL. */
lis_pk *lis_pk_obj_state(const lis_pk *v);

/* Writes a plain value as JSON: numbers, bools, None, strings, lists/tuples, dicts with
 * string keys, numpy scalars and small numeric arrays (<= max_elems elements). Other
 * values (tensors, objects, bytes) are written as null. Non-finite floats become null.
 * Depth is bounded by LIS_PK_MAX_WALK_DEPTH. */
void lis_pk_to_json(lis_sbuf *b, const lis_pk *v, size_t max_elems);
/* 1 if lis_pk_to_json would write something other than null. */
int lis_pk_is_plain(const lis_pk *v, size_t max_elems);

/* ---- tensors ---- */
/* Materialises a TENSOR (its storage must be resolved) or an NDARRAY as a lis_tensor:
 * checks offset, shape and strides against the storage size (overflow-safe), then gives
 * a view (t->owns = 0) when the data are contiguous, else a gathered copy (owns = 1).
 * The dtype is the source's; float16/bfloat16/float64 are converted by the caller
 * (lis_sd_to_f32). `what` names the tensor in messages. */
lis_status lis_pk_tensor(const lis_pk *v, lis_tensor *t, const char *what);
/* Element size in bytes of a storage type global's dtype ("FloatStorage" -> F32). */
int lis_pk_storage_dtype(const lis_pk *storage_type_global, lis_dtype *dt);

#endif
