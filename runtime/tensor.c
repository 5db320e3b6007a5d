/* tensor.c — dtype tables, allocation and dtype conversion. */
#include "runtime/tensor.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *name; size_t size; } dtypes[LIS_DTYPE_COUNT] = {
    [LIS_DTYPE_F32] = {"F32", 4}, [LIS_DTYPE_F64] = {"F64", 8}, [LIS_DTYPE_F16] = {"F16", 2},
    [LIS_DTYPE_BF16] = {"BF16", 2}, [LIS_DTYPE_I64] = {"I64", 8}, [LIS_DTYPE_I32] = {"I32", 4},
    [LIS_DTYPE_I16] = {"I16", 2}, [LIS_DTYPE_I8] = {"I8", 1}, [LIS_DTYPE_U8] = {"U8", 1},
    [LIS_DTYPE_BOOL] = {"BOOL", 1},
};

size_t lis_dtype_size(lis_dtype dt) { return (unsigned)dt < LIS_DTYPE_COUNT ? dtypes[dt].size : 0; }
const char *lis_dtype_name(lis_dtype dt) { return (unsigned)dt < LIS_DTYPE_COUNT ? dtypes[dt].name : "?"; }

int lis_dtype_from_name(const char *s, lis_dtype *dt) {
    for (int i = 0; i < LIS_DTYPE_COUNT; i++)
        if (strcmp(s, dtypes[i].name) == 0) { *dt = (lis_dtype)i; return 1; }
    return 0;
}

int64_t lis_tensor_numel(const lis_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

size_t lis_tensor_nbytes(const lis_tensor *t) { return (size_t)lis_tensor_numel(t) * lis_dtype_size(t->dtype); }

const char *lis_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap) {
    size_t o = 0;
    buf[0] = 0;
    if (ndim == 0) { snprintf(buf, cap, "scalar"); return buf; }
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? "x%lld" : "%lld", (long long)shape[i]);
    return buf;
}

lis_status lis_tensor_alloc(lis_tensor *t, lis_dtype dt, int ndim, const int64_t *shape) {
    memset(t, 0, sizeof *t);
    if (ndim < 0 || ndim > LIS_MAX_DIMS) return lis_err_set("tensor with %d dims (max %d)", ndim, LIS_MAX_DIMS);
    size_t n = lis_dtype_size(dt);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || !lis_mul_ok(n, (size_t)shape[i], &n)) return lis_err_set("tensor shape too large");
        t->shape[i] = shape[i];
    }
    t->dtype = dt;
    t->ndim = ndim;
    t->data = lis_alloc_aligned(n, "tensor");
    if (!t->data) return LIS_ERR;
    memset(t->data, 0, n);
    t->owns = 1;
    return LIS_OK;
}

void lis_tensor_free(lis_tensor *t) {
    if (!t) return;
    if (t->owns) free(t->data);
    t->data = NULL;
    t->owns = 0;
}

float lis_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal: normalise */
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp - 15 + 127) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float lis_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t lis_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xff;
    uint32_t m = x & 0x7fffff;
    if (e == 0xff) return (uint16_t)(sign | 0x7c00 | (m ? 0x200 : 0));
    const int exp = (int)e - 127 + 15;
    if (exp >= 31) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) { /* subnormal half (or zero) */
        if (exp < -10) return (uint16_t)sign;
        m |= 0x800000;
        const int shift = 14 - exp;
        uint32_t h = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)exp << 10) | (m >> 13);
    const uint32_t rem = m & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* a carry into the exponent is right, up to infinity */
    return (uint16_t)(sign | h);
}

uint16_t lis_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40); /* NaN: keep it quiet */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

lis_status lis_tensor_to_f32(const lis_tensor *src, lis_tensor *dst) {
    LIS_TRY(lis_tensor_alloc(dst, LIS_DTYPE_F32, src->ndim, src->shape));
    int64_t n = lis_tensor_numel(src);
    float *o = dst->data;
    const unsigned char *p = src->data;
    for (int64_t i = 0; i < n; i++) {
        switch (src->dtype) {
        case LIS_DTYPE_F32: { float v; memcpy(&v, p + 4 * i, 4); o[i] = v; } break;
        case LIS_DTYPE_F64: { double v; memcpy(&v, p + 8 * i, 8); o[i] = (float)v; } break;
        case LIS_DTYPE_F16: { uint16_t v; memcpy(&v, p + 2 * i, 2); o[i] = lis_f16_to_f32(v); } break;
        case LIS_DTYPE_BF16: { uint16_t v; memcpy(&v, p + 2 * i, 2); o[i] = lis_bf16_to_f32(v); } break;
        case LIS_DTYPE_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); o[i] = (float)v; } break;
        case LIS_DTYPE_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); o[i] = (float)v; } break;
        case LIS_DTYPE_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); o[i] = (float)v; } break;
        case LIS_DTYPE_I8: o[i] = (float)(int8_t)p[i]; break;
        case LIS_DTYPE_U8: case LIS_DTYPE_BOOL: o[i] = (float)p[i]; break;
        default: lis_tensor_free(dst); return lis_err_set("cannot convert dtype %d to F32", src->dtype);
        }
    }
    return LIS_OK;
}
