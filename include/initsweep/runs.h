/* The runs of a sweep as a table, and runs.csv's line format.  No MPI, no
 * locking here (the journal, journal.h, adds those).
 *
 * runs.csv columns, in this order: `task`, one column per sweep axis named by
 * its key (file order), then the record columns of record.h's schema, each
 * in its column type's form.  Axis values are written as the caller
 * formatted them, in CSV double quotes when they hold a comma, a quote or
 * surrounding blanks ("[16, 16]"). */
#ifndef ISW_RUNS_H
#define ISW_RUNS_H

#include <stdio.h>

#include "initsweep/common.h"
#include "initsweep/record.h"

/* One run of a runs table. */
typedef struct {
    isw_record_t rec;
    char **values;       /* naxes axis values as text (then NULL); the pointers and the
                          * strings belong to the table (strings interned: a value
                          * repeated over many runs is stored once) */
    int source;          /* index into isw_runs_t.sources, -1 = appended in memory */
    int line;            /* 1-based line in that file, 0 = appended in memory */
} isw_run_t;

/* The runs of one sweep, from runs.csv file(s) or a journal.  Zero it
 * (`isw_runs_t t = {0};`) before first use; isw_runs_free empties it.
 * Tasks are unique within a table. */
typedef struct {
    int naxes;
    char **axes;         /* naxes axis keys, in column order */
    size_t nruns, cap;
    isw_run_t *runs;     /* in file order, then in order of addition */
    int nsources;
    char **sources;      /* paths the runs were read from (for messages) */
    /* private: open-addressing task -> run index set (slot = index + 1, 0 empty) */
    size_t nslots;
    size_t *slots;
    /* private: the interned value strings (open addressing, NULL empty) */
    size_t nstrings, nstring_slots;
    char **strings;
    /* private: the runs' value pointer arrays, (naxes + 1) per run, in
     * blocks of ISW_RUNS_VBLOCK runs that never move */
    size_t nvblocks;
    char ***vblocks;
} isw_runs_t;

/* Reads one runs.csv into an empty table.  A torn last line (no trailing
 * newline, or a last line that does not parse) is skipped; any other bad
 * line is an error naming file:line.  On error the table is left empty. */
int isw_runs_read(isw_runs_t *runs, const char *path, isw_error_t *err);
/* Reads and merges several runs files (shards of one sweep) into an empty
 * table: their axis columns must agree and a task may occur only once. */
int isw_runs_read_files(isw_runs_t *runs, const char *const *paths, int npaths,
                        isw_error_t *err);
/* Index of the run of `task`, or -1. */
long isw_runs_find(const isw_runs_t *runs, uint64_t task);
/* Frees the contents (the struct itself is the caller's) and zeroes it;
 * accepts NULL. */
void isw_runs_free(isw_runs_t *runs);

/* Formats one runs.csv row (the task, the axis values, rec's columns) as a
 * line ending in '\n' into buf; returns its length, or -1 when it does not
 * fit or rec->outcome is not an outcome.  isw_runs_line_bound gives a size
 * that always fits. */
size_t isw_runs_line_bound(const char *const *values, int naxes);
/* The header line ("task", the axis keys, the record columns, '\n'). */
void isw_runs_format_header(isw_sb_t *b, const char *const *axes, int naxes);
long isw_runs_format_line(char *buf, size_t size, const char *const *values, int naxes,
                          const isw_record_t *rec);

/* Writes s as one CSV field (quoted when it holds ',', '"', a newline or
 * surrounding blanks).  Returns 0, or EOF on a stream error. */
int isw_csv_write_field(FILE *out, const char *s);
/* The same, appended to a string builder. */
void isw_csv_put_field(isw_sb_t *b, const char *s);

#endif
