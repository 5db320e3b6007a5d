/* progress.c — see progress.h. */
#include "runtime/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/threads.h"

void lis_progress_init(lis_progress *p, const char *label, const char *unit, int64_t total) {
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->unit = unit;
    p->total = total;
    p->last_done = -1;
    p->t0 = p->last = lis_now();
    p->tty = isatty(2);
    const char *q = getenv("LIS_QUIET");
    p->quiet = q && *q && strcmp(q, "0") != 0;
}

static void print_line(lis_progress *p, int64_t done, int final) {
    double el = lis_now() - p->t0, rate = el > 0 ? (double)done / el : 0;
    char eta[32] = "";
    if (!final && rate > 0 && p->total > done) snprintf(eta, sizeof eta, ", ETA %.0f s", (double)(p->total - done) / rate);
    fprintf(stderr, "%s%s: %lld/%lld %s, %.3g %s/s, %.1f s%s%s", p->tty ? "\r" : "", p->label, (long long)done,
            (long long)p->total, p->unit, rate, p->unit, el, eta, p->tty && !final ? "   " : "\n");
    fflush(stderr);
}

void lis_progress_update(lis_progress *p, int64_t done) {
    if (p->quiet) return;
    double now = lis_now();
    if (now - p->last < (p->tty ? 0.2 : 10.0)) return;
    p->last = now;
    p->last_done = done;
    print_line(p, done, 0);
}

void lis_progress_done(lis_progress *p, int64_t done) {
    if (p->quiet || (done == p->last_done && !p->tty)) return; /* already printed */
    print_line(p, done, 1);
}
