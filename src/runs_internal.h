/* What the journal needs of the runs table beyond runs.h: building a table
 * run by run and parsing an open runs file with its torn-tail bookkeeping. */
#ifndef ISW_RUNS_INTERNAL_H
#define ISW_RUNS_INTERNAL_H

#include <sys/types.h>

#include "initsweep/runs.h"

/* Outcome of parsing one file. */
typedef struct {
    off_t good_end;      /* bytes up to the end of the last accepted line */
    int have_header;     /* a complete header line was found */
    int dropped;         /* a torn or unparsable last line was skipped */
} parse_info_t;

/* Sets the table's axis keys (a copy of axes[0..naxes)). */
int isw_runs_set_axes(isw_runs_t *runs, char *const *axes, int naxes);
/* Records path as a source of runs (for messages): its index is nsources - 1. */
int isw_runs_add_source(isw_runs_t *runs, const char *path);
/* Adds a run without the duplicate check; source/line say where it came from. */
int isw_runs_push(isw_runs_t *runs, const char *const *values, const isw_record_t *rec,
                  int source, int line);
/* Removes the run added last (an append whose write failed). */
void isw_runs_pop(isw_runs_t *runs);
/* Parses an open runs file into runs (source index `source`): the header
 * is checked against runs->axes when they are set (mismatch_status when it
 * does not match), else sets them.  A torn last line is skipped
 * (info->dropped); any other bad line is ISW_EINVAL naming path:line. */
int isw_runs_parse_stream(isw_runs_t *runs, FILE *in, const char *path, int source,
                          int mismatch_status, parse_info_t *info, isw_error_t *err);

#endif
