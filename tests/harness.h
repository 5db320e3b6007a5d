/* harness.h — tiny test harness shared by every tests/test_*.c.
 *
 * A test binary calls lis_check_close() / LIS_CHECK() for each check and returns
 * lis_test_finish() from main(): 0 when every check passed, 1 otherwise, 77 when
 * everything was skipped. Each close-check prints one line with the case name, the
 * tolerance and the max errors (so drift shows before it fails); on failure it also
 * prints the count of bad elements and the first few (index, ref, got) triples.
 *
 * Reference data lives in tests/data/ (copied from ../shared/refs); LIS_DATA overrides.
 */
#ifndef LIS_TEST_HARNESS_H
#define LIS_TEST_HARNESS_H

#include <stdint.h>

#include "runtime/json.h"
#include "runtime/safetensors.h"

/* |got - ref| <= atol + rtol*|ref| per element; NaN positions must match. */
int lis_check_close(const char *name, const float *got, const float *ref, int64_t n, double atol, double rtol);
/* Exact equality of bytes with a count of differing elements allowed (uint8 images). */
int lis_check_u8(const char *name, const uint8_t *got, const uint8_t *ref, int64_t n, int max_diff, int64_t max_count);
void lis_check(int ok, const char *fmt, ...) LIS_PRINTF(2, 3);
#define LIS_CHECK(cond) lis_check((cond), "%s (%s:%d)", #cond, __FILE__, __LINE__)
/* Status must be OK; prints the error message otherwise. */
int lis_check_ok(lis_status s, const char *what);
void lis_test_skip(const char *why);
int lis_test_finish(void);

/* Path of a test data file: $LIS_DATA/name or tests/data/name. Static buffer. */
const char *lis_test_data(const char *name);
/* Opens a safetensors from the test data directory or aborts the test with a message. */
lis_status lis_test_open(lis_safetensors *st, const char *name);
/* Fetches an F32 tensor from a reference file (any shape); NULL + failed check if absent. */
const float *lis_test_ref(const lis_safetensors *st, const char *name, int64_t *numel);
/* Element i of an integer (I64) reference tensor; reference files do not align their data,
 * so this copies instead of dereferencing. Fails the check and returns -1 when absent. */
int64_t lis_test_ref_i64(const lis_safetensors *st, const char *name, int64_t i);
/* The bundles' op cases: the element of the JSON array `cases` whose "case" is name, or NULL. */
const lis_json *lis_test_case(const lis_json *cases, const char *name);
/* F32 tensor "<prefix>.<tensor>" of a reference file; aborts the test if absent or not F32.
 * *e (if e) gets its entry (for the shape). */
const float *lis_test_f32(const lis_safetensors *st, const char *prefix, const char *tensor, const lis_st_entry **e);
/* One generator layer's output x [B, C, S, S] vs the full-size bundle: mean, std, max |x| and
 * sum of squares vs stats[4*index ..] within 1e-4 of the reference max |x|, and its first
 * channels vs io's "synthesis.<name>.first_channels" when present. `what` starts each check's
 * name ("full-size layer", "full-size cuda layer"). */
void lis_test_layer_stats(const char *what, const lis_safetensors *io, const double *stats, int index,
                          const char *name, const float *x, int B, int C, int S);
/* Runs the lis-run binary ($LIS_RUN, default ./lis-run) with argv (NULL-terminated, argv[0]
 * the command name, e.g. "counterfactual") as a user would, output to stderr; returns its
 * exit code (-1 if it did not exit normally). */
int lis_test_lisrun(char *const argv[]);
/* Path of the lis-run binary the tests use: $LIS_RUN or ./lis-run. */
const char *lis_test_lisrun_path(void);
/* Max |x| over n floats. */
double lis_max_abs(const float *x, int64_t n);
int lis_test_quick(void); /* LIS_QUICK=1: skip the slowest cases (sanitizer runs) */


/* Converts a test-data input (state dict or manifest, with optional config / shipped
 * files, all relative to the data directory) into a temporary lis weight file whose
 * path is written to out (cap bytes). The caller removes it. */
lis_status lis_test_convert(const char *input, const char *config, const char *shipped, char *out, size_t cap);

#endif
