/* fileio.c — mmap reading, atomic temp+rename writing, mkdir -p. */
#include "runtime/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

lis_status lis_map_file(lis_mapped_file *m, const char *path) {
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return lis_err_set("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return lis_err_set("%s: cannot stat: %s", path, strerror(errno)); }
    if (!S_ISREG(st.st_mode)) { close(fd); return lis_err_set("%s: not a regular file", path); }
    m->size = (size_t)st.st_size;
    if (m->size == 0) {
        close(fd);
        m->data = calloc(1, 1);
        return m->data ? LIS_OK : lis_err_set("out of memory");
    }
    void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return lis_err_set("%s: cannot map: %s", path, strerror(errno));
    m->data = p;
    m->mapped = 1;
    return LIS_OK;
}

void lis_unmap_file(lis_mapped_file *m) {
    if (!m || !m->data) return;
    if (m->mapped) munmap((void *)m->data, m->size);
    else free((void *)m->data);
    memset(m, 0, sizeof *m);
}

lis_status lis_atomic_open(lis_atomic_file *a, const char *path) {
    memset(a, 0, sizeof *a);
    size_t n = strlen(path) + 32;
    a->path = strdup(path);
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) { lis_atomic_abort(a); return lis_err_set("out of memory"); }
    snprintf(a->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        lis_status s = lis_err_set("%s: cannot create: %s", path, strerror(errno));
        free(a->path); free(a->tmp);
        memset(a, 0, sizeof *a);
        return s;
    }
    return LIS_OK;
}

void lis_atomic_write(lis_atomic_file *a, const void *p, size_t n) {
    if (a->failed || !a->f || n == 0) return;
    if (fwrite(p, 1, n, a->f) != n) a->failed = errno ? errno : EIO;
}

lis_status lis_atomic_commit(lis_atomic_file *a) {
    lis_status s = LIS_OK;
    if (!a->f) return lis_err_set("internal: commit of an unopened file");
    if (fflush(a->f) != 0 && !a->failed) a->failed = errno ? errno : EIO;
    if (!a->failed && fsync(fileno(a->f)) != 0 && errno != EINVAL) a->failed = errno;
    if (fclose(a->f) != 0 && !a->failed) a->failed = errno ? errno : EIO;
    a->f = NULL;
    if (a->failed) s = lis_err_set("%s: write failed: %s", a->path, strerror(a->failed));
    else if (rename(a->tmp, a->path) != 0) s = lis_err_set("%s: cannot rename into place: %s", a->path, strerror(errno));
    if (s != LIS_OK) remove(a->tmp);
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
    return s;
}

void lis_atomic_abort(lis_atomic_file *a) {
    if (!a) return;
    if (a->f) fclose(a->f);
    if (a->tmp) remove(a->tmp);
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

lis_status lis_write_file_atomic(const char *path, const void *data, size_t len) {
    lis_atomic_file a;
    LIS_TRY(lis_atomic_open(&a, path));
    lis_atomic_write(&a, data, len);
    return lis_atomic_commit(&a);
}

lis_status lis_mkdirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0) return LIS_OK;
    if (n >= sizeof buf) return lis_err_set("%s: path too long", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return lis_err_set("%s: cannot create directory: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return lis_err_set("%s: not a directory", path);
    return LIS_OK;
}

int lis_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

lis_status lis_read_file(const char *path, char **out, size_t *len) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return lis_err_set("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return lis_err_set("%s: out of memory", path);
    if (err) { free(buf); return lis_err_set("%s: read error", path); }
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return LIS_OK;
}

char *lis_path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) { lis_err_set("out of memory"); return NULL; }
    if (dir[0] && dir[strlen(dir) - 1] != '/') snprintf(p, n, "%s/%s", dir, name);
    else snprintf(p, n, "%s%s", dir, name);
    return p;
}
