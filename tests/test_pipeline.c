/* test_pipeline.c — `lis-run pipeline.cfg` end to end on the bundled toy world
 * (cli/demo), as a user runs it: a small configuration through every stage, then
 *  - kill -9 at several moments and resume: identical files to an uninterrupted run;
 *  - two shards in their own directories + `lis-run merge`: identical to a single run;
 *  - bad configurations rejected with FILE:LINE and exit code 2.
 * Compared: every file of the run directory except run.log and report/index.html (which
 * hold times) and config.cfg (which names the run directory), byte for byte.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/fileio.h"
#include "tests/harness.h"

static char tmp[512];
static const char *lisrun = "./lis-run"; /* LIS_RUN overrides (the sanitizer build has its own) */
static const char *base_set = "--set sample.samples_per_class=12 --set tune.units=0-23 --set tune.chunk=4 "
                              "--set run.batch=8 --set report.units_shown=6";

static int sh(const char *fmt, ...) LIS_PRINTF(1, 2);
static int sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- directory comparison */
static const char *cmp_root_a, *cmp_root_b;
static int cmp_files, cmp_diff;

static int skip_rel(const char *rel) {
    /* run.log and the report hold times; config.cfg holds the (different) run directory */
    return !strcmp(rel, "run.log") || !strcmp(rel, "report/index.html") || !strcmp(rel, "config.cfg") ||
           strstr(rel, ".tmp.") != NULL;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *f) {
    (void)st; (void)f;
    if (type != FTW_F) return 0;
    const char *rel = path + strlen(cmp_root_a) + 1;
    if (skip_rel(rel)) return 0;
    char other[4096];
    snprintf(other, sizeof other, "%s/%s", cmp_root_b, rel);
    char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    cmp_files++;
    if (lis_read_file(path, &a, &la) != LIS_OK || lis_read_file(other, &b, &lb) != LIS_OK || la != lb || memcmp(a, b, la)) {
        if (cmp_diff < 5) printf("    differs or missing: %s\n", rel);
        cmp_diff++;
    }
    free(a);
    free(b);
    return 0;
}

static int same_tree(const char *a, const char *b, const char *what) {
    cmp_root_a = a; cmp_root_b = b; cmp_files = cmp_diff = 0;
    nftw(a, visit, 16, FTW_PHYS);
    int n1 = cmp_files, d1 = cmp_diff;
    cmp_root_a = b; cmp_root_b = a; cmp_files = cmp_diff = 0; /* and the other way: nothing extra */
    nftw(b, visit, 16, FTW_PHYS);
    lis_check(d1 == 0 && cmp_diff == 0 && n1 == cmp_files && n1 > 20, "%s: %d files identical (%d + %d differ)", what, n1, d1,
              cmp_diff);
    return d1 == 0 && cmp_diff == 0;
}

static void test_full_run(void) {
    int rc = sh("%s cli/demo/demo.cfg --out %s/a %s > %s/a.log 2>&1", lisrun, tmp, base_set, tmp);
    lis_check(rc == 0, "pipeline on the demo config exits 0 (rc %d; log %s/a.log)", rc, tmp);
    const char *must[] = {"sample/w.npy", "pairs/w.npy", "pairs/r.npy", "pairs/logits.npy", "pairs/classes.npy",
                          "pairs/acceptance.csv", "link/link.safetensors", "link/link_report.csv", "link/cycle_examples.png",
                          "tune/activation_ranges.csv", "tune/units.csv", "tune/strips/unit_00005/class_3_sample_0.png",
                          "tune/chunks/chunk_00005/w.npy", "report/index.html", "config.cfg", "run.log",
                          "stages/report.done"};
    for (size_t i = 0; i < sizeof must / sizeof *must; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/a/%s", tmp, must[i]);
        lis_check(lis_file_exists(p), "run directory has %s", must[i]);
    }
    /* a rerun does nothing and changes nothing */
    rc = sh("%s cli/demo/demo.cfg --out %s/a %s > %s/a2.log 2>&1 && grep -q 'done earlier, skipped' %s/a2.log", lisrun, tmp,
            base_set, tmp, tmp);
    lis_check(rc == 0, "a finished run is not redone");
    /* another configuration in the same directory is refused */
    rc = sh("%s cli/demo/demo.cfg --out %s/a %s --set sample.seed=5 > %s/a3.log 2>&1", lisrun, tmp, base_set, tmp);
    lis_check(rc == 2 && sh("grep -q 'different configuration' %s/a3.log", tmp) == 0,
              "a changed configuration in a finished run directory is refused (rc %d)", rc);
}

static void test_kill_resume(void) {
    /* kill -9 at growing delays, resume each time, then finish */
    srand(12345);
    for (int k = 0; k < 4; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            char out[600];
            snprintf(out, sizeof out, "%s/b", tmp);
            int fd = open("/dev/null", 1);
            dup2(fd, 1);
            dup2(fd, 2);
            execl(lisrun, lisrun, "cli/demo/demo.cfg", "--out", out, "--set", "sample.samples_per_class=12", "--set",
                  "tune.units=0-23", "--set", "tune.chunk=4", "--set", "run.batch=8", "--set", "report.units_shown=6", (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {0, (long)(300 + 700 * k + rand() % 300) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    int rc = sh("%s cli/demo/demo.cfg --out %s/b %s > %s/b.log 2>&1", lisrun, tmp, base_set, tmp);
    lis_check(rc == 0, "resumed run finishes (rc %d)", rc);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/a", tmp);
    snprintf(b, sizeof b, "%s/b", tmp);
    same_tree(a, b, "killed 4 times + resumed vs uninterrupted");
}

static void test_shards(void) {
    int r0 = sh("%s cli/demo/demo.cfg --out %s/s0 %s --shard 0/2 > %s/s0.log 2>&1", lisrun, tmp, base_set, tmp);
    int r1 = sh("%s cli/demo/demo.cfg --out %s/s1 %s --shard 1/2 > %s/s1.log 2>&1", lisrun, tmp, base_set, tmp);
    lis_check(r0 == 0 && r1 == 0, "two shards run (rc %d, %d)", r0, r1);
    int rm = sh("%s merge cli/demo/demo.cfg --out %s/s0 %s/s1 %s > %s/m.log 2>&1", lisrun, tmp, tmp, base_set, tmp);
    lis_check(rm == 0, "merge (rc %d)", rm);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/a", tmp);
    snprintf(b, sizeof b, "%s/s0", tmp);
    same_tree(a, b, "2 shards + merge vs single run");
}

static void bad_config(const char *name, const char *text, const char *expect) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s.cfg", tmp, name);
    FILE *f = fopen(path, "w");
    fprintf(f, "[models]\ngenerator = %s/cli/demo/generator.safetensors\nclassifier = %s/cli/demo/classifier.safetensors\n%s",
            getcwd((char[1024]){0}, 1024), getcwd((char[1024]){0}, 1024), text);
    fclose(f);
    int rc = sh("%s %s --out %s/bad > %s/%s.log 2>&1", lisrun, path, tmp, tmp, name);
    int found = sh("grep -q -- \"%s\" %s/%s.log", expect, tmp, name) == 0;
    lis_check(rc == 2 && found, "bad config '%s' rejected with exit 2 and a message containing \"%s\" (rc %d)", name, expect, rc);
}

int main(void) {
    if (getenv("LIS_RUN") && *getenv("LIS_RUN")) lisrun = getenv("LIS_RUN");
    if (!lis_file_exists(lisrun)) { lis_test_skip("lis-run not built"); return lis_test_finish(); }
    snprintf(tmp, sizeof tmp, "%s/lis-test-pipeline-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    lis_mkdirs(tmp);
    test_full_run();
    if (!lis_test_quick()) {
        test_kill_resume();
        test_shards();
    }
    bad_config("unknown_key", "[tune]\nunitz = 3\n", "unknown_key.cfg:5: unknown key 'unitz'");
    bad_config("bad_number", "[sample]\nsamples_per_class = 12x\n", "bad_number.cfg:5");
    bad_config("bad_enum", "[link]\nmodel = lasso\n", "bad_enum.cfg:5");
    bad_config("bad_class", "[sample]\nclasses = 0, 9\n", "class 9 is out of range");
    bad_config("bad_unit", "[tune]\nunits = 0-5000\n", "bad_unit.cfg:5");
    bad_config("bad_section_key", "[run]\nbatch = 0\n", "bad_section_key.cfg:5");
    bad_config("bad_device", "[run]\ndevice = gpu\n", "\\[run\\] device = gpu: expected cpu, cuda, cuda:N or auto");
    bad_config("cpu_precision", "[run]\ndevice = cpu\nprecision = bf16\n", "precision = bf16 needs device = cuda");
    sh("rm -rf %s", tmp);
    return lis_test_finish();
}
