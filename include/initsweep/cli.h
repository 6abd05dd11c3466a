/* The `initsweep` subcommands that need no MPI, and the option parser that
 * every subcommand shares.  Functions return the process exit status:
 * 0 done, 2 bad input, 3 interrupted, 1 anything else (INTERFACE.md). */
#ifndef ISW_CLI_H
#define ISW_CLI_H

#include "initsweep/common.h"
#include "initsweep/spec.h"

enum { ISW_EXIT_OK = 0, ISW_EXIT_FAIL = 1, ISW_EXIT_INPUT = 2, ISW_EXIT_INTERRUPTED = 3 };

#define ISW_MAX_SETS 256

typedef struct {
    const char *command;                 /* "run", "plan", "train", "summarize" */
    const char *path;                    /* SPEC.yaml, or OUTDIR for summarize */
    const char *outdir;                  /* -o */
    int nsets;
    const char *sets[ISW_MAX_SETS];      /* --set KEY=VALUE, in order */
    int resume, fresh, quiet;
    const char *shard;                   /* --shard K/N */
    int ranks;                           /* plan --ranks N */
} isw_cli_args_t;

/* Parses argv[1..] (argv[1] is the command).  On error fills err. */
int isw_cli_parse(isw_cli_args_t *args, int argc, char **argv, isw_error_t *err);

/* Loads the spec, applies the --set overrides in order and validates. */
int isw_cli_load_spec(isw_spec_t *spec, isw_sweep_t *sweep, const isw_cli_args_t *args,
                      isw_error_t *err);

/* Exit status for a library status: ISW_EINVAL -> 2 and so on. */
int isw_cli_exit_status(int status);

int isw_cli_train(const isw_cli_args_t *args);
int isw_cli_plan(const isw_cli_args_t *args);
int isw_cli_summarize(const isw_cli_args_t *args);
void isw_cli_usage(FILE *out);

/* Start-up common to every command: GSL's abort-on-error handler off, one
 * BLAS thread. */
void isw_cli_startup(void);

#endif
