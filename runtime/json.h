/* json.h — a small, strict JSON reader (RFC 8259) and a string builder for writing.
 *
 * Used for safetensors headers (untrusted: every length is checked, nesting is
 * bounded, numbers are parsed with strtod on a bounded copy) and for the network
 * configurations stored in weight-file metadata.
 */
#ifndef LIS_JSON_H
#define LIS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/status.h"

typedef enum { LIS_JSON_NULL, LIS_JSON_BOOL, LIS_JSON_NUM, LIS_JSON_STR, LIS_JSON_ARR, LIS_JSON_OBJ } lis_json_type;

typedef struct lis_json lis_json;
struct lis_json {
    lis_json_type type;
    double num;          /* NUM (also BOOL: 0/1) */
    char *str;           /* STR: NUL-terminated, decoded UTF-8; may contain no NUL */
    size_t len;          /* STR: byte length; ARR/OBJ: number of children */
    char **keys;         /* OBJ: keys[i] names items[i] */
    lis_json **items;    /* ARR/OBJ children */
};

/* Parses text[0..n). On error sets a message with the byte offset and returns NULL. */
lis_json *lis_json_parse(const char *text, size_t n);
void lis_json_free(lis_json *j);

const lis_json *lis_json_get(const lis_json *obj, const char *key); /* NULL if absent / not an object */
/* Dotted path lookup: "synthesis.layers". */
const lis_json *lis_json_path(const lis_json *obj, const char *path);
int lis_json_is_int(const lis_json *j); /* a NUM holding an exact integer in int64 range */

/* Typed getters: return LIS_OK and store the value, or set an error naming `ctx` and key. */
lis_status lis_json_int(const lis_json *obj, const char *key, int64_t *out, const char *ctx);
lis_status lis_json_double(const lis_json *obj, const char *key, double *out, const char *ctx);
lis_status lis_json_bool(const lis_json *obj, const char *key, int *out, const char *ctx);
/* Optional variants: keep *out (the default) when the key is absent. */
lis_status lis_json_int_opt(const lis_json *obj, const char *key, int64_t *out, const char *ctx);
lis_status lis_json_double_opt(const lis_json *obj, const char *key, double *out, const char *ctx);

/* Growable string for writing JSON (and other text). */
typedef struct { char *s; size_t len, cap; int oom; } lis_sbuf;
void lis_sbuf_printf(lis_sbuf *b, const char *fmt, ...) LIS_PRINTF(2, 3);
void lis_sbuf_json_str(lis_sbuf *b, const char *s); /* appends a quoted, escaped string */
void lis_sbuf_free(lis_sbuf *b);
/* Writes the value `j` back as compact JSON. */
void lis_json_write(lis_sbuf *b, const lis_json *j);

#endif
