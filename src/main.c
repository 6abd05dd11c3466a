/* initsweep: the command table (cli.c) does everything. */
#include "initsweep/cli.h"

int main(int argc, char **argv)
{
    return isw_cli_main(argc, argv);
}
