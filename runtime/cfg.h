/* cfg.h — the INI configuration reader behind `lis-run pipeline.cfg` (DESIGN, STYLE §9).
 *
 * Syntax (example):
 *
 *     # a comment line; ';' also starts one
 *     [sample]
 *     seeds      = 0-99, 150, 200-209   # int list: ranges a-b, commas, or the word `all`
 *     truncation = 0.7                  ; trailing comments need whitespace before # or ;
 *     classes    = 232, 254, 151
 *     [link]
 *     model = ols                       # enum: one word of a fixed list
 *     alpha = 1.0
 *     out   = runs/dogs#1/link          # '#' not preceded by whitespace is part of the value
 *
 * - A line is blank, a comment (first non-blank char '#' or ';'), a section header `[name]`,
 *   or `key = value`. Leading/trailing blanks around names and values are dropped; a value
 *   ends at the first '#' or ';' that follows a blank (or starts the value). CRLF line ends
 *   and a UTF-8 BOM are accepted; NUL bytes are not.
 * - Section names: [A-Za-z0-9_-]+ (no dots, so `--set section.key=value` is unambiguous).
 *   Keys: [A-Za-z0-9_.-]+. Names are case-sensitive. Every key belongs to a section.
 * - A duplicate key within a section, or a section header given twice, is an error.
 * - Every key is read through a typed getter with an explicit default. Getters mark what
 *   they read; lis_cfg_check_unused() then turns any key nobody asked for into
 *   "FILE:LINE: unknown key 'x' in section [s]" (a misspelt key never passes silently).
 *   A program must therefore read the keys of every section it knows, even for stages
 *   that are switched off.
 * - Every bad value is an error "FILE:LINE: key 'x': <why>" (LIS_ERR_USAGE). Numbers are
 *   parsed strictly: the whole value, base 10 for integers, finite for reals, in range.
 * - Overrides `--set section.key=value` (lis_cfg_set_override) share the file's key space:
 *   they replace a file value or add a key; errors then name "--set section.key".
 * - lis_cfg_write() gives the resolved configuration back as INI text: every key that was
 *   read, with its value, defaults included (marked "# default", overrides "# --set"),
 *   and re-parses to the same values. Save it in the run directory (lis_cfg_save).
 *
 * Strings and lists returned by getters point into the lis_cfg and live until
 * lis_cfg_free(). Lookups are linear: configs are tens of keys.
 */
#ifndef LIS_CFG_H
#define LIS_CFG_H

#include <stddef.h>

#include "runtime/json.h"
#include "runtime/status.h"

typedef struct lis_cfg lis_cfg;

/* Reads and parses a file. On error *out is NULL and the message names FILE:LINE. */
lis_status lis_cfg_load(lis_cfg **out, const char *path);
/* Parses text[0..len) (need not be NUL-terminated; fuzz entry point). `label` names the
 * source in messages (usually the file name). */
lis_status lis_cfg_parse(lis_cfg **out, const char *text, size_t len, const char *label);
/* An empty configuration (every key at its default), e.g. for a run driven by --set only. */
lis_status lis_cfg_new(lis_cfg **out, const char *label);
void lis_cfg_free(lis_cfg *c);

/* "section.key=value": replaces or adds a key. Later overrides of the same key win. */
lis_status lis_cfg_set_override(lis_cfg *c, const char *spec);

/* ---- typed getters: absent key -> the default (recorded for lis_cfg_write) ---- */
lis_status lis_cfg_get_str(lis_cfg *c, const char *sec, const char *key, const char *def, const char **out);
/* Integer in [lo, hi]. */
lis_status lis_cfg_get_int(lis_cfg *c, const char *sec, const char *key, long def, long lo, long hi, long *out);
/* Finite real in [lo, hi]. */
lis_status lis_cfg_get_double(lis_cfg *c, const char *sec, const char *key, double def, double lo, double hi,
                              double *out);
/* true/false, yes/no, on/off, 1/0 (case-insensitive). */
lis_status lis_cfg_get_bool(lis_cfg *c, const char *sec, const char *key, int def, int *out);
/* One of words[0..nwords); *out = its index. def is an index into words. */
lis_status lis_cfg_get_enum(lis_cfg *c, const char *sec, const char *key, const char *const *words, int nwords,
                            int def, int *out);
/* Integer list: comma-separated integers and ranges `a-b` (a <= b, both inclusive;
 * negative numbers allowed, e.g. `-3--1`), or the single word `all` = lo..hi. Every element
 * must lie in [lo, hi]; duplicates are errors; order is kept. `def` is list text ("" = empty
 * list). *vals points into the cfg (valid until lis_cfg_free); *n is the count. */
lis_status lis_cfg_get_int_list(lis_cfg *c, const char *sec, const char *key, const char *def, long lo, long hi,
                                const long **vals, size_t *n);
/* Real list: comma-separated finite reals in [lo, hi]. `def` is list text. */
lis_status lis_cfg_get_double_list(lis_cfg *c, const char *sec, const char *key, const char *def, double lo,
                                   double hi, const double **vals, size_t *n);

/* Whether the file or an override sets this key (does not mark it read). */
int lis_cfg_has(const lis_cfg *c, const char *sec, const char *key);

/* Error for the first key (in file order, then overrides) that no getter read, or for a
 * section no getter asked about: "FILE:LINE: unknown key 'x' in section [s]". */
lis_status lis_cfg_check_unused(const lis_cfg *c);

/* Resolved configuration as INI text (appended to *out). */
lis_status lis_cfg_write(const lis_cfg *c, lis_sbuf *out);
/* Same, written atomically to `path`. */
lis_status lis_cfg_save(const lis_cfg *c, const char *path);

#endif
