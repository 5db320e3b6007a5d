/* png_io.h — PNG reading and writing through libpng (8-bit RGB / gray / palette).
 *
 * Writing is atomic (temp file + rename). Reading converts palette, gray, 16-bit and
 * alpha images to 8-bit RGB (lis_png_read_rgb) or returns the raw 8-bit index/gray
 * plane (lis_png_read_index, for label masks). libpng errors become lis errors.
 */
#ifndef LIS_PNG_IO_H
#define LIS_PNG_IO_H

#include <stdint.h>

#include "runtime/status.h"

/* data: H*W*C uint8, C = 1 (gray) or 3 (RGB), row-major HWC. */
lis_status lis_png_write(const char *path, const uint8_t *data, int h, int w, int c);
/* Reads any PNG as 8-bit RGB; *out is malloc'ed H*W*3. */
lis_status lis_png_read_rgb(const char *path, uint8_t **out, int *h, int *w);
/* Reads an indexed or 8-bit gray PNG as one byte per pixel (palette indices kept). */
lis_status lis_png_read_index(const char *path, uint8_t **out, int *h, int *w);

#endif
