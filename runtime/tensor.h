/* tensor.h — dtypes and a plain host tensor.
 *
 * Dimension vocabulary used across lis: activations are N,C,H,W (PyTorch NCHW,
 * row-major); conv weights are K,C,R,S (PyTorch O,I,kh,kw).
 * A lis_tensor either owns its data (owns = 1, freed by lis_tensor_free) or is a
 * view into memory owned by someone else (an mmapped weight file, an arena).
 */
#ifndef LIS_TENSOR_H
#define LIS_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/status.h"

typedef enum {
    LIS_DTYPE_F32 = 0,
    LIS_DTYPE_F64,
    LIS_DTYPE_F16,
    LIS_DTYPE_BF16,
    LIS_DTYPE_I64,
    LIS_DTYPE_I32,
    LIS_DTYPE_I16,
    LIS_DTYPE_I8,
    LIS_DTYPE_U8,
    LIS_DTYPE_BOOL,
    LIS_DTYPE_COUNT
} lis_dtype;

#define LIS_MAX_DIMS 8

typedef struct {
    lis_dtype dtype;
    int ndim;
    int64_t shape[LIS_MAX_DIMS];
    void *data;   /* row-major, contiguous */
    int owns;     /* 1: data was malloc'ed for this tensor; 0: a view */
} lis_tensor;

size_t lis_dtype_size(lis_dtype dt);
const char *lis_dtype_name(lis_dtype dt);    /* safetensors spelling: "F32", "U8", ... */
int lis_dtype_from_name(const char *s, lis_dtype *dt); /* 1 if known */

int64_t lis_tensor_numel(const lis_tensor *t);
size_t lis_tensor_nbytes(const lis_tensor *t);
/* "1x3x256x256" into buf. */
const char *lis_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap);

/* Allocates an owned, zero-filled tensor. */
lis_status lis_tensor_alloc(lis_tensor *t, lis_dtype dt, int ndim, const int64_t *shape);
void lis_tensor_free(lis_tensor *t);

/* Converts any numeric tensor to a newly allocated float32 tensor. */
lis_status lis_tensor_to_f32(const lis_tensor *src, lis_tensor *dst);

/* IEEE half / bfloat16 to float (exact). */
float lis_f16_to_f32(uint16_t h);
float lis_bf16_to_f32(uint16_t h);
/* float to IEEE half / bfloat16, round to nearest even (torch's .half() / .bfloat16(), the
 * GPU's __float2half_rn / __float2bfloat16_rn); NaN stays NaN, overflow gives infinity. */
uint16_t lis_f32_to_f16(float f);
uint16_t lis_f32_to_bf16(float f);

#endif
