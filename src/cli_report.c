/* `initsweep report OUTDIR`: analysis/report.py writes OUTDIR/report.html.
 * The page is Python (matplotlib draws its figures), so this command only
 * finds the script and hands over to it: in the installation next to this
 * binary (ISW_BIN_TO_DATA/analysis, as cmake --install and the .deb lay it
 * out), else in the source tree the binary was built from, and runs it
 * under /usr/bin/python3 (Debian's python3-matplotlib). */
#include "initsweep/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ISW_PYTHON "/usr/bin/python3"

static int is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* report.py's path into buf: $INITSWEEP_ANALYSIS_DIR, the installation's
 * share directory beside /proc/self/exe, or the source tree.  0 if none. */
static int find_script(char *buf, size_t size)
{
    const char *env = getenv("INITSWEEP_ANALYSIS_DIR");
    if (env && env[0]) {
        snprintf(buf, size, "%s/report.py", env);
        return is_file(buf);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, size, "%s/%s/analysis/report.py", exe, ISW_BIN_TO_DATA);
            if (is_file(buf))
                return 1;
        }
    }
    snprintf(buf, size, "%s/analysis/report.py", ISW_SOURCE_DIR);
    return is_file(buf);
}

int isw_cli_report(const isw_cli_args_t *args)
{
    char script[PATH_MAX + 64];
    if (!find_script(script, sizeof script)) {
        fprintf(stderr, "initsweep: report: cannot find analysis/report.py (looked beside the "
                        "binary, in %s, and in $INITSWEEP_ANALYSIS_DIR)\n", ISW_SOURCE_DIR);
        return ISW_EXIT_FAIL;
    }
    fflush(stdout);
    char *argv[] = {(char *)ISW_PYTHON, script, (char *)args->path, NULL};
    execv(ISW_PYTHON, argv);
    fprintf(stderr, "initsweep: report: cannot run %s: %s (it needs Debian's python3 with "
                    "python3-matplotlib)\n", ISW_PYTHON, strerror(errno));
    return ISW_EXIT_FAIL;
}
