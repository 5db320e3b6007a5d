/* torch_zip.c — see torch_zip.h. */
#include "weights_tools/torch_zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define ZIP_EOCD_SIZE 22
#define ZIP_CDH_SIZE 46
#define ZIP_LFH_SIZE 30
#define ZIP_MIN_INFLATE_BUDGET ((uint64_t)256 << 20)
#define ZIP_DEFLATE_MAX_RATIO 1032 /* deflate cannot expand data more than this */

static uint64_t rd(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* 1 if [off, off+len) lies inside [0, limit) */
static int inside(uint64_t off, uint64_t len, uint64_t limit) { return off <= limit && len <= limit - off; }

/* sort keys: qsort has no context argument, so each key carries what it compares */
typedef struct { const char *name; uint64_t off; size_t idx; } zip_key;
static int cmp_names(const void *a, const void *b) { return strcmp(((const zip_key *)a)->name, ((const zip_key *)b)->name); }
static int cmp_offsets(const void *a, const void *b) {
    uint64_t x = ((const zip_key *)a)->off, y = ((const zip_key *)b)->off;
    return x < y ? -1 : x > y;
}

void lis_zip_close(lis_zip *z) {
    if (!z) return;
    for (size_t i = 0; i < z->n; i++) free(z->e[i].name);
    free(z->e);
    free(z->by_name);
    memset(z, 0, sizeof *z);
}

/* Locates the end records; fills the directory's entry count, size and offset. */
static lis_status find_directory(lis_zip *z, uint64_t *count, uint64_t *cd_off, uint64_t *cd_size, uint64_t *cd_end) {
    const unsigned char *b = z->buf;
    size_t n = z->size;
    if (n < ZIP_EOCD_SIZE) return lis_err_set("%s: too short for a zip archive (%zu bytes)", z->label, n);
    /* the last "PK\5\6" whose comment length reaches exactly the end of the file */
    size_t eocd = SIZE_MAX;
    size_t lo = n > ZIP_EOCD_SIZE + 65535 ? n - ZIP_EOCD_SIZE - 65535 : 0;
    for (size_t i = n - ZIP_EOCD_SIZE + 1; i-- > lo;)
        if (!memcmp(b + i, "PK\5\6", 4) && i + ZIP_EOCD_SIZE + rd(b + i + 20, 2) == n) { eocd = i; break; }
    if (eocd == SIZE_MAX)
        return lis_err_set("%s: no end-of-central-directory record: not a zip archive, or truncated", z->label);
    const unsigned char *e = b + eocd;
    uint64_t disk = rd(e + 4, 2), cd_disk = rd(e + 6, 2), n_disk = rd(e + 8, 2), n_all = rd(e + 10, 2);
    *cd_size = rd(e + 12, 4);
    *cd_off = rd(e + 16, 4);
    *count = n_all;
    *cd_end = eocd;
    int saturated = n_all == 0xFFFF || n_disk == 0xFFFF || *cd_size == 0xFFFFFFFFu || *cd_off == 0xFFFFFFFFu ||
                    disk == 0xFFFF || cd_disk == 0xFFFF;
    if (eocd >= 20 && !memcmp(b + eocd - 20, "PK\6\7", 4)) {
        /* ZIP64 locator -> ZIP64 end record */
        const unsigned char *loc = b + eocd - 20;
        uint64_t z64 = rd(loc + 8, 8);
        if (rd(loc + 4, 4) != 0 || rd(loc + 16, 4) > 1) return lis_err_set("%s: multi-disk zip archives are not supported", z->label);
        if (!inside(z64, 56, eocd - 20) || memcmp(b + z64, "PK\6\6", 4))
            return lis_err_set("%s: the ZIP64 end record offset %llu is out of range or corrupt", z->label, (unsigned long long)z64);
        const unsigned char *r = b + z64;
        uint64_t rec = rd(r + 4, 8);
        if (rec < 44 || !inside(z64 + 12, rec, eocd - 20)) return lis_err_set("%s: bad ZIP64 end record size", z->label);
        if (rd(r + 16, 4) != 0 || rd(r + 20, 4) != 0) return lis_err_set("%s: multi-disk zip archives are not supported", z->label);
        if (saturated) {
            *count = rd(r + 32, 8);
            *cd_size = rd(r + 40, 8);
            *cd_off = rd(r + 48, 8);
        } else if (rd(r + 32, 8) != n_all || rd(r + 40, 8) != *cd_size || rd(r + 48, 8) != *cd_off) {
            return lis_err_set("%s: the ZIP64 and classic end records disagree", z->label);
        }
        *cd_end = z64;
    } else if (saturated) {
        return lis_err_set("%s: saturated end record without a ZIP64 locator: truncated or corrupt", z->label);
    } else if (disk != 0 || cd_disk != 0 || n_disk != n_all) {
        return lis_err_set("%s: multi-disk zip archives are not supported", z->label);
    }
    if (!inside(*cd_off, *cd_size, *cd_end))
        return lis_err_set("%s: central directory (offset %llu, %llu bytes) lies outside the archive", z->label,
                           (unsigned long long)*cd_off, (unsigned long long)*cd_size);
    if (*count > *cd_size / ZIP_CDH_SIZE)
        return lis_err_set("%s: %llu entries cannot fit in a %llu-byte central directory", z->label,
                           (unsigned long long)*count, (unsigned long long)*cd_size);
    return LIS_OK;
}

/* ZIP64 extended information (id 0x0001) of a central header: replaces the saturated fields. */
static lis_status zip64_extra(lis_zip *z, const unsigned char *x, size_t xlen, lis_zip_entry *e, uint64_t disk) {
    int need_u = e->usize == 0xFFFFFFFFu, need_c = e->csize == 0xFFFFFFFFu, need_o = e->local_offset == 0xFFFFFFFFu;
    size_t p = 0;
    while (p + 4 <= xlen) {
        uint64_t id = rd(x + p, 2), len = rd(x + p + 2, 2);
        if (len > xlen - p - 4) return lis_err_set("%s: entry '%s': extra field overruns its header", z->label, e->name);
        if (id == 1) {
            const unsigned char *f = x + p + 4;
            size_t q = 0;
            if (need_u) { if (q + 8 > len) goto short_field; e->usize = rd(f + q, 8); q += 8; }
            if (need_c) { if (q + 8 > len) goto short_field; e->csize = rd(f + q, 8); q += 8; }
            if (need_o) { if (q + 8 > len) goto short_field; e->local_offset = rd(f + q, 8); q += 8; }
            if (disk == 0xFFFF && q + 4 <= len && rd(f + q, 4) != 0)
                return lis_err_set("%s: entry '%s' is on another disk", z->label, e->name);
            return LIS_OK;
        }
        p += 4 + (size_t)len;
    }
    if (need_u || need_c || need_o)
        return lis_err_set("%s: entry '%s' has saturated sizes but no ZIP64 extra field", z->label, e->name);
    return LIS_OK;
short_field:
    return lis_err_set("%s: entry '%s': ZIP64 extra field too short", z->label, e->name);
}

lis_status lis_zip_open(lis_zip *z, const unsigned char *buf, size_t size, const char *label) {
    memset(z, 0, sizeof *z);
    z->buf = buf;
    z->size = size;
    snprintf(z->label, sizeof z->label, "%s", label);
    uint64_t count = 0, cd_off = 0, cd_size = 0, cd_end = 0;
    lis_status s = find_directory(z, &count, &cd_off, &cd_size, &cd_end);
    if (s != LIS_OK) return s;
    z->inflate_limit = (uint64_t)size * 4 > ZIP_MIN_INFLATE_BUDGET ? (uint64_t)size * 4 : ZIP_MIN_INFLATE_BUDGET;
    z->e = calloc(count ? count : 1, sizeof *z->e);
    z->by_name = calloc(count ? count : 1, sizeof *z->by_name);
    if (!z->e || !z->by_name) { lis_zip_close(z); return lis_err_set("out of memory"); }
    uint64_t p = cd_off, end = cd_off + cd_size;
    for (uint64_t i = 0; i < count; i++) {
        if (!inside(p, ZIP_CDH_SIZE, end) || memcmp(buf + p, "PK\1\2", 4)) {
            s = lis_err_set("%s: central directory entry %llu is corrupt", z->label, (unsigned long long)i);
            goto fail;
        }
        const unsigned char *h = buf + p;
        uint64_t nlen = rd(h + 28, 2), xlen = rd(h + 30, 2), clen = rd(h + 32, 2), disk = rd(h + 34, 2);
        if (!inside(p + ZIP_CDH_SIZE, nlen + xlen + clen, end)) {
            s = lis_err_set("%s: central directory entry %llu overruns the directory", z->label, (unsigned long long)i);
            goto fail;
        }
        lis_zip_entry *e = &z->e[z->n];
        e->name = malloc(nlen + 1);
        if (!e->name) { s = lis_err_set("out of memory"); goto fail; }
        memcpy(e->name, h + ZIP_CDH_SIZE, nlen);
        e->name[nlen] = 0;
        z->n++;
        if (memchr(h + ZIP_CDH_SIZE, 0, nlen) || nlen == 0) { s = lis_err_set("%s: an entry name is empty or holds a NUL byte", z->label); goto fail; }
        e->flags = (uint16_t)rd(h + 8, 2);
        e->method = (uint16_t)rd(h + 10, 2);
        e->crc = (uint32_t)rd(h + 16, 4);
        e->csize = rd(h + 20, 4);
        e->usize = rd(h + 24, 4);
        e->local_offset = rd(h + 42, 4);
        if ((s = zip64_extra(z, h + ZIP_CDH_SIZE + nlen, (size_t)xlen, e, disk)) != LIS_OK) goto fail;
        if (disk != 0 && disk != 0xFFFF) { s = lis_err_set("%s: entry '%s' is on another disk", z->label, e->name); goto fail; }
        if (e->flags & 0x41) { s = lis_err_set("%s: entry '%s' is encrypted: not supported", z->label, e->name); goto fail; }
        if (e->method != 0 && e->method != 8) {
            s = lis_err_set("%s: entry '%s' uses compression method %u (supported: stored, deflate)", z->label, e->name, e->method);
            goto fail;
        }
        if (e->method == 0 && e->csize != e->usize) {
            s = lis_err_set("%s: stored entry '%s' has different compressed (%llu) and plain (%llu) sizes", z->label, e->name,
                            (unsigned long long)e->csize, (unsigned long long)e->usize);
            goto fail;
        }
        /* the local header: its own name and extra lengths give the data start */
        if (!inside(e->local_offset, ZIP_LFH_SIZE, cd_off) || memcmp(buf + e->local_offset, "PK\3\4", 4)) {
            s = lis_err_set("%s: entry '%s': local header offset %llu is out of range or corrupt", z->label, e->name,
                            (unsigned long long)e->local_offset);
            goto fail;
        }
        const unsigned char *l = buf + e->local_offset;
        uint64_t lnlen = rd(l + 26, 2), lxlen = rd(l + 28, 2);
        e->data_offset = e->local_offset + ZIP_LFH_SIZE + lnlen + lxlen;
        if (lnlen != nlen || !inside(e->local_offset + ZIP_LFH_SIZE, lnlen, cd_off) ||
            memcmp(l + ZIP_LFH_SIZE, e->name, nlen)) {
            s = lis_err_set("%s: entry '%s': the local header names another file", z->label, e->name);
            goto fail;
        }
        if (!inside(e->data_offset, e->csize, cd_off)) {
            s = lis_err_set("%s: entry '%s': data (offset %llu, %llu bytes) run past the archive's data area", z->label,
                            e->name, (unsigned long long)e->data_offset, (unsigned long long)e->csize);
            goto fail;
        }
        p += ZIP_CDH_SIZE + nlen + xlen + clen;
    }
    zip_key *k = malloc((z->n ? z->n : 1) * sizeof *k);
    if (!k) { s = lis_err_set("out of memory"); goto fail; }
    for (size_t i = 0; i < z->n; i++) k[i] = (zip_key){z->e[i].name, z->e[i].local_offset, i};
    /* no two entries may share bytes */
    qsort(k, z->n, sizeof *k, cmp_offsets);
    for (size_t i = 0; i + 1 < z->n && s == LIS_OK; i++) {
        const lis_zip_entry *ea = &z->e[k[i].idx], *eb = &z->e[k[i + 1].idx];
        if (ea->data_offset + ea->csize > eb->local_offset)
            s = lis_err_set("%s: entries '%s' and '%s' overlap (a zip bomb or a corrupt archive)", z->label, ea->name, eb->name);
    }
    qsort(k, z->n, sizeof *k, cmp_names);
    for (size_t i = 0; i + 1 < z->n && s == LIS_OK; i++)
        if (!strcmp(k[i].name, k[i + 1].name)) s = lis_err_set("%s: the name '%s' appears twice", z->label, k[i].name);
    for (size_t i = 0; i < z->n; i++) z->by_name[i] = k[i].idx;
    free(k);
    if (s != LIS_OK) goto fail;
    return LIS_OK;
fail:
    lis_zip_close(z);
    return s;
}

const lis_zip_entry *lis_zip_find(const lis_zip *z, const char *name) {
    size_t lo = 0, hi = z->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(z->e[z->by_name[mid]].name, name);
        if (!c) return &z->e[z->by_name[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static uint32_t crc_of(const unsigned char *p, uint64_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

static lis_status inflate_entry(lis_zip *z, const lis_zip_entry *e, unsigned char **out) {
    *out = NULL;
    uint64_t ratio_cap = e->csize > (UINT64_MAX - 64) / ZIP_DEFLATE_MAX_RATIO ? UINT64_MAX : e->csize * ZIP_DEFLATE_MAX_RATIO + 64;
    if (e->usize > ratio_cap)
        return lis_err_set("%s: entry '%s' declares %llu bytes from %llu compressed: impossible for deflate (zip bomb)",
                           z->label, e->name, (unsigned long long)e->usize, (unsigned long long)e->csize);
    if (z->inflated > z->inflate_limit || e->usize > z->inflate_limit - z->inflated || e->usize > SIZE_MAX - 1)
        return lis_err_set("%s: entry '%s' would inflate to %llu bytes, over the archive's budget of %llu (zip bomb?)",
                           z->label, e->name, (unsigned long long)e->usize, (unsigned long long)z->inflate_limit);
    unsigned char *dst = malloc((size_t)e->usize + 1);
    if (!dst) return lis_err_set("out of memory inflating '%s' (%llu bytes)", e->name, (unsigned long long)e->usize);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) { free(dst); return lis_err_set("zlib: inflateInit failed"); }
    const unsigned char *src = z->buf + e->data_offset;
    uint64_t in_left = e->csize, out_left = e->usize;
    unsigned char sink; /* once the declared size is produced: any further byte is a lie */
    int in_sink = 0, ret;
    zs.next_out = dst;
    for (;;) {
        if (zs.avail_in == 0 && in_left) {
            zs.next_in = (Bytef *)src;
            zs.avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            src += zs.avail_in;
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0) {
            if (out_left) {
                zs.avail_out = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
                out_left -= zs.avail_out;
            } else {
                zs.next_out = &sink;
                zs.avail_out = 1;
                in_sink = 1;
            }
        }
        ret = inflate(&zs, Z_NO_FLUSH);
        if (in_sink && zs.avail_out == 0) { ret = Z_DATA_ERROR; zs.msg = (char *)"inflates beyond its declared size (zip bomb?)"; break; }
        if (ret != Z_OK) break;
    }
    uint64_t produced = zs.total_out;
    const char *msg = zs.msg;
    inflateEnd(&zs);
    if (ret != Z_STREAM_END || produced != e->usize) {
        free(dst);
        return lis_err_set("%s: entry '%s': deflate data are corrupt (%s; %llu of %llu bytes)", z->label, e->name,
                           msg ? msg : ret == Z_BUF_ERROR ? "truncated" : ret == Z_STREAM_END ? "size mismatch" : "bad stream",
                           (unsigned long long)(in_sink ? e->usize : produced),
                           (unsigned long long)e->usize);
    }
    z->inflated += e->usize;
    *out = dst;
    return LIS_OK;
}

lis_status lis_zip_read(lis_zip *z, const lis_zip_entry *e, const unsigned char **data, unsigned char **owned) {
    *data = NULL;
    *owned = NULL;
    if (e->method == 0) {
        const unsigned char *p = z->buf + e->data_offset;
        if (!e->checked && crc_of(p, e->usize) != e->crc)
            return lis_err_set("%s: entry '%s' fails its CRC-32 check: the file is corrupt", z->label, e->name);
        ((lis_zip_entry *)e)->checked = 1;
        *data = p;
        return LIS_OK;
    }
    unsigned char *d;
    LIS_TRY(inflate_entry(z, e, &d));
    if (crc_of(d, e->usize) != e->crc) {
        free(d);
        return lis_err_set("%s: entry '%s' fails its CRC-32 check: the file is corrupt", z->label, e->name);
    }
    *data = d;
    *owned = d;
    return LIS_OK;
}
