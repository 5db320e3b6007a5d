/* commands.h — the subcommands of lis-run, one file each (cli/cmd_<name>.c).
 *
 * Each command gets argv after its name and returns an exit code: 0 OK, 1 runtime
 * error, 2 usage error. Commands print their own --help.
 */
#ifndef LIS_CLI_COMMANDS_H
#define LIS_CLI_COMMANDS_H

typedef int (*lis_cmd_fn)(int argc, char **argv);

int lis_cmd_generate(int argc, char **argv);
int lis_cmd_convert(int argc, char **argv);
int lis_cmd_preprocess(int argc, char **argv);
int lis_cmd_classify(int argc, char **argv);
int lis_cmd_fit_link(int argc, char **argv);
int lis_cmd_apply_link(int argc, char **argv);
int lis_cmd_pipeline(int argc, char **argv);
int lis_cmd_merge(int argc, char **argv);
int lis_cmd_toyworld(int argc, char **argv);
int lis_cmd_match(int argc, char **argv);
int lis_cmd_counterfactual(int argc, char **argv);
int lis_cmd_feasibility(int argc, char **argv);

/* Turns a status into the exit code and prints "lis-run <cmd>: error: <msg>". */
int lis_cli_fail(const char *cmd, int status);

#endif
