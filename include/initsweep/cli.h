/* The `initsweep` command line: a table of subcommands, each with its
 * operand, its options, its usage text and its handler, and the commands
 * that need no MPI (plan, train, summarize; run is sched.h's).  Handlers
 * return the process exit status (ISW_EXIT_*, common.h). */
#ifndef ISW_CLI_H
#define ISW_CLI_H

#include "initsweep/common.h"
#include "initsweep/spec.h"

#define ISW_MAX_SETS 256

/* What a command line asked for.  Each option applies to the commands its
 * table row names; any other is refused by isw_cli_parse. */
typedef struct {
    const char *command;                 /* "run", "plan", "train", "summarize" */
    const char *path;                    /* the operand: SPEC.yaml, or OUTDIR for summarize */
    const char *outdir;                  /* -o */
    int nsets;
    const char *sets[ISW_MAX_SETS];      /* --set KEY=VALUE, in order */
    int resume, fresh, quiet;
    const char *shard;                   /* --shard K/N */
    int ranks;                           /* plan --ranks N */
    int has_task;                        /* train --task N given */
    uint64_t task;                       /* its grid task id */
    const char *trace;                   /* train --trace FILE, or NULL */
    int json;                            /* explain --format json */
} isw_cli_args_t;

/* The whole program: --help, --help-keys, --schema, --version, or a command. */
int isw_cli_main(int argc, char **argv);

/* Parses argv[1..] (argv[1] is the command).  On error fills err. */
int isw_cli_parse(isw_cli_args_t *args, int argc, char **argv, isw_error_t *err);
void isw_cli_usage(FILE *out);
/* The manual page initsweep(1) as roff, from the command, option and key
 * tables that --help and --help-keys print. */
void isw_cli_man(FILE *out);

int isw_cli_train(const isw_cli_args_t *args);
int isw_cli_plan(const isw_cli_args_t *args);
/* `report OUTDIR`: runs analysis/report.py (never returns on success). */
int isw_cli_report(const isw_cli_args_t *args);
/* `explain SPEC`: diagnosis and counterfactuals (explain.h). */
int isw_cli_explain(const isw_cli_args_t *args);
/* The spec of grid task `task` of a loaded spec and sweep (train and
 * explain --task); ISW_EINVAL past the grid. */
int isw_cli_task_spec(isw_spec_t *spec, const isw_sweep_t *sweep, uint64_t task, isw_error_t *err);
/* The spec of the run train and explain work on: args->path with its --set
 * overrides, grid task --task N when given. */
int isw_cli_run_spec(isw_spec_t *spec, const isw_cli_args_t *args, isw_error_t *err);
int isw_cli_summarize(const isw_cli_args_t *args);
/* --schema: the columns of OUTDIR's files as JSON (cli_schema.c). */
int isw_cli_schema(FILE *out);

#endif
