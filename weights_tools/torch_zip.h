/* torch_zip.h — a read-only zip reader for torch.save archives (and any plain zip).
 *
 * Layout (APPNOTE 6.3.x), as torch 1.13 writes `model.pth` (spec/classifier.md §3.2):
 *
 *   [local header "PK\3\4" | name | extra (torch: id 'FB' padding data to 64 bytes) | data
 *    | data descriptor "PK\7\8" crc csize usize]   one per entry, flag 0x0808: the local
 *                                                   header's crc/sizes are 0
 *   [central directory: "PK\1\2" per entry: crc, csize, usize, name, local header offset,
 *    ZIP64 extra (id 0x0001) when a field is 0xFFFFFFFF]
 *   [ZIP64 end record "PK\6\6" + locator "PK\6\7"]     torch writes them even for small files
 *   [end of central directory "PK\5\6" (+ comment)]
 *
 * Sizes, CRCs and offsets come from the central directory; the data start from the local
 * header (its extra field differs from the central one). Checked: every offset and size
 * against the file and SIZE_MAX, the local name equals the central name, names are unique,
 * entries do not overlap (an overlapping archive is the classic zip bomb), encrypted
 * entries and methods other than stored (0) and deflate (8) are refused. Reading an entry
 * checks its CRC-32 (zlib) and, for deflate, inflates into exactly the declared size:
 * more output than declared, or a total over the archive's inflate budget, is refused.
 */
#ifndef LIS_TORCH_ZIP_H
#define LIS_TORCH_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/status.h"

typedef struct {
    char *name;               /* NUL-terminated (names holding NUL are refused) */
    uint64_t local_offset;    /* of the local header */
    uint64_t data_offset;     /* of the (compressed) data */
    uint64_t csize, usize;    /* compressed and uncompressed sizes */
    uint32_t crc;
    uint16_t method, flags;
    int checked;              /* CRC verified (stored entries) */
} lis_zip_entry;

typedef struct {
    const unsigned char *buf; /* the whole archive; not owned */
    size_t size;
    lis_zip_entry *e;         /* in central-directory order */
    size_t n;
    size_t *by_name;          /* indices sorted by name */
    uint64_t inflate_limit;   /* total bytes deflated entries may inflate to */
    uint64_t inflated;        /* so far */
    char label[512];
} lis_zip;

/* Reads the central directory of buf[0..size). The inflate budget defaults to
 * max(256 MiB, 4 x size); set z->inflate_limit afterwards to change it. */
lis_status lis_zip_open(lis_zip *z, const unsigned char *buf, size_t size, const char *label);
void lis_zip_close(lis_zip *z);
const lis_zip_entry *lis_zip_find(const lis_zip *z, const char *name);
/* The entry's bytes: a view into the archive (stored) or a new buffer in *owned (deflated;
 * the caller frees it). The CRC is checked either way. */
lis_status lis_zip_read(lis_zip *z, const lis_zip_entry *e, const unsigned char **data, unsigned char **owned);

#endif
