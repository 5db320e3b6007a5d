// cuda_scratch.cu — per-stream scratch buffers for kernels that need a workspace between
// launches (Winograd's transformed tiles, split-K's partial sums). Calls on one stream run
// in order, so they may share one buffer; a kind keeps users that nest apart (a Winograd
// call runs GEMMs, which must not take its buffer). Up to NSLOT streams per kind hold a
// buffer; another stream takes a slot a destroyed stream left (lis_cuda_scratch_forget), else
// rebinds the first slot after waiting for its last user.
#include "runtime/cuda_common.cuh"

namespace {

struct Slot {
    lis_stream stream;
    float *buf;
    size_t floats;
    int used; // bound to `stream` (a freed slot keeps its buffer for the next stream)
};
constexpr int NSLOT = 4;
Slot g_slots[LIS_SCRATCH_KINDS][NSLOT];

} // namespace

float *lis_cuda_scratch(lis_stream s, int kind, size_t floats) {
    if (kind < 0 || kind >= LIS_SCRATCH_KINDS) {
        lis_err_set("cuda scratch: unknown kind %d", kind);
        return NULL;
    }
    Slot *slots = g_slots[kind], *sc = NULL;
    // this stream's buffer, else a free slot, else the first slot's (rebound to this stream)
    for (int i = 0; i < NSLOT && !sc; i++)
        if (slots[i].used && slots[i].stream == s) sc = &slots[i];
    for (int i = 0; i < NSLOT && !sc; i++)
        if (!slots[i].used) sc = &slots[i];
    if (!sc) {
        sc = &slots[0];
        if (lis_stream_sync(sc->stream) != LIS_OK) return NULL; // its last user may still be reading it
    }
    sc->stream = s;
    sc->used = 1;
    if (floats > sc->floats) {
        lis_dev_free(sc->buf);
        sc->floats = 0;
        static const char *const what[LIS_SCRATCH_KINDS] = {"winograd scratch", "split-K partial sums",
                                                            "NHWC operands"};
        sc->buf = (float *)lis_dev_alloc(floats * sizeof(float), what[kind]);
        if (!sc->buf) return NULL;
        sc->floats = floats;
    }
    return sc->buf;
}

void lis_cuda_scratch_forget(lis_stream s) {
    bool bound = false;
    for (int k = 0; k < LIS_SCRATCH_KINDS; k++)
        for (int i = 0; i < NSLOT; i++) bound = bound || (g_slots[k][i].used && g_slots[k][i].stream == s);
    if (!bound) return;
    // the slots' next user must not overwrite what this stream's queued kernels still read
    (void)lis_stream_sync(s);
    for (int k = 0; k < LIS_SCRATCH_KINDS; k++)
        for (int i = 0; i < NSLOT; i++)
            if (g_slots[k][i].used && g_slots[k][i].stream == s) {
                g_slots[k][i].used = 0;
                g_slots[k][i].stream = NULL;
            }
}

void lis_cuda_scratch_release(void) {
    for (int k = 0; k < LIS_SCRATCH_KINDS; k++)
        for (int i = 0; i < NSLOT; i++) {
            lis_dev_free(g_slots[k][i].buf);
            g_slots[k][i] = Slot{};
        }
}
