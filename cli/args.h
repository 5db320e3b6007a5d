/* args.h — long-option parsing shared by the commands: `--name value`, `--name=value`,
 * `--flag`, and positional arguments. Unknown options are usage errors that name them.
 *
 *   lis_args a; lis_args_init(&a, argc, argv);
 *   const char *w = lis_args_str(&a, "--weights", NULL);
 *   ... then lis_args_done(&a) reports anything not consumed.
 */
#ifndef LIS_CLI_ARGS_H
#define LIS_CLI_ARGS_H

#include "runtime/status.h"

typedef struct {
    int argc;
    char **argv;
    unsigned char used[512];
    int npos;
    char *pos[64];
} lis_args;

void lis_args_init(lis_args *a, int argc, char **argv);
int lis_args_help(const lis_args *a); /* --help or -h present */
int lis_args_flag(lis_args *a, const char *name);
const char *lis_args_str(lis_args *a, const char *name, const char *def);
lis_status lis_args_long(lis_args *a, const char *name, long def, long *out);
lis_status lis_args_double(lis_args *a, const char *name, double def, double *out);
/* Strings that appear after `name` until the next option (e.g. --png a.png b.png). */
int lis_args_list(lis_args *a, const char *name, const char **out, int cap);
/* Every value of a repeatable option (--set a=1 --set b=2); returns the count. */
int lis_args_multi(lis_args *a, const char *name, const char **out, int cap);
/* Collects positionals; errors on unknown options. Call after all getters. */
lis_status lis_args_done(lis_args *a);

/* Strict number parsing: the whole string, in range. */
lis_status lis_parse_long(const char *s, long *out, const char *what);
lis_status lis_parse_double(const char *s, double *out, const char *what);

#endif
