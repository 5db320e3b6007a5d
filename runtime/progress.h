/* progress.h — a progress line with rate and ETA on stderr for long work.
 * On a terminal the line is redrawn in place (at most every 0.2 s); otherwise a plain
 * line is printed at most every 10 s, and once at the end.
 */
#ifndef LIS_PROGRESS_H
#define LIS_PROGRESS_H

#include <stdint.h>

typedef struct {
    char label[64];
    const char *unit;
    int64_t total, last_done;
    double t0, last;
    int tty, quiet;
} lis_progress;

void lis_progress_init(lis_progress *p, const char *label, const char *unit, int64_t total);
void lis_progress_update(lis_progress *p, int64_t done);
void lis_progress_done(lis_progress *p, int64_t done);

#endif
