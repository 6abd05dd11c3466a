/* initsweep: wires the subcommands together. */
#include <string.h>

#include "initsweep/cli.h"
#include "initsweep/sched.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        isw_cli_usage(stdout);
        return ISW_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("initsweep %s\n", ISW_VERSION);
        return ISW_EXIT_OK;
    }
    isw_cli_startup();
    isw_cli_args_t args;
    isw_error_t err;
    isw_error_clear(&err);
    if (isw_cli_parse(&args, argc, argv, &err) != ISW_OK) {
        fprintf(stderr, "initsweep: %s\n", err.text);
        return ISW_EXIT_INPUT;
    }
    if (strcmp(args.command, "train") == 0)
        return isw_cli_train(&args);
    if (strcmp(args.command, "plan") == 0)
        return isw_cli_plan(&args);
    if (strcmp(args.command, "summarize") == 0)
        return isw_cli_summarize(&args);
    return isw_sched_run(&args, &argc, &argv);
}
