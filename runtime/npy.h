/* npy.h — NumPy .npy files (format versions 1.0, 2.0, 3.0), read and atomic write.
 *
 * Layout: "\x93NUMPY", major, minor, header length (uint16 LE for v1, uint32 LE for v2/3),
 * then an ASCII Python dict literal padded with spaces to a multiple of 64 bytes,
 * e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (4, 32, 512), }
 * then the raw data. lis reads little-endian numeric dtypes (f2 f4 f8 i1 i2 i4 i8 u1 b1)
 * in C order and rejects Fortran order, big-endian data, object arrays and truncation.
 */
#ifndef LIS_NPY_H
#define LIS_NPY_H

#include "runtime/tensor.h"

/* Reads into a newly allocated tensor of the file's dtype. */
lis_status lis_npy_read(const char *path, lis_tensor *t);
/* Parses an in-memory buffer (fuzzing); copies the data. */
lis_status lis_npy_parse(const unsigned char *buf, size_t size, lis_tensor *t, const char *label);
/* Reads and converts to float32 (any numeric dtype). */
lis_status lis_npy_read_f32(const char *path, lis_tensor *t);
lis_status lis_npy_write(const char *path, const lis_tensor *t);
/* Writes an array of any dtype as dir/name (atomic). */
lis_status lis_npy_write_in(const char *dir, const char *name, lis_dtype dt, int ndim, const int64_t *shape,
                            const void *data);
/* Convenience: writes a float32 array of the given shape. */
lis_status lis_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape);

#endif
