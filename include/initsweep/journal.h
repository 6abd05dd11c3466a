/* The journal: the append-only runs.csv of an OUTDIR, resume, and atomic
 * writes of the final files.  Only rank 0 uses it; no MPI here.
 *
 * runs.csv columns, in this order: `task`, one column per sweep axis named by
 * its key (file order), then the record columns of ISW_RUNS_RECORD_COLUMNS.
 * Doubles are written with "%.17g" (they read back bit for bit), NaN as an
 * empty field, +-infinity as "inf"/"-inf"; epoch_converged -1 (never) is
 * written empty.  Axis values are written as the caller formatted them, in
 * CSV double quotes when they hold a comma, a quote or surrounding blanks
 * ("[16, 16]").
 *
 * Crash safety: every record is one write(2) of its whole line, so a job
 * killed at any instant leaves at most a torn last line, which the next open
 * discards (and truncates away).  OUTDIR/journal.meta holds the spec hash and
 * the axis names; OUTDIR/.lock carries an fcntl write lock for as long as the
 * journal is open (summarize takes it too).  fcntl locks belong to a
 * process: open one journal per OUTDIR per process (a second open in the
 * same process is not detected, and closing it would drop the first one's
 * lock).
 *
 * Shared OUTDIRs: no file of OUTDIR is ever opened through a symbolic link
 * (O_NOFOLLOW), and a link, FIFO or directory under one of initsweep's file
 * names (.lock, runs.csv, journal.meta, spec.yaml, cells.csv, boundary.csv,
 * fit.csv) is refused with ISW_ESTATE naming it; temp files have unique
 * names (mkstemp, O_EXCL). */
#ifndef ISW_JOURNAL_H
#define ISW_JOURNAL_H

#include "initsweep/common.h"
#include "initsweep/train.h"

/* The record columns of runs.csv after the axis columns. */
#define ISW_RUNS_NRECORD_COLUMNS 15
extern const char *const ISW_RUNS_RECORD_COLUMNS[ISW_RUNS_NRECORD_COLUMNS];

/* One run of a runs table. */
typedef struct {
    isw_record_t rec;
    char **values;       /* naxes axis values as text; one allocation with the strings */
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
long isw_runs_format_line(char *buf, size_t size, const char *const *values, int naxes,
                          const isw_record_t *rec);

typedef struct isw_journal isw_journal_t;

/* One dataset a journal's records were trained on: where it came from (a
 * file name, or the generator) and isw_data_hash of what was read. */
typedef struct {
    const char *source;
    uint64_t hash;
} isw_journal_data_t;

/* Takes OUTDIR's lock (OUTDIR must exist): the fcntl write lock on
 * OUTDIR/.lock, which holds our pid.  ISW_ESTATE "OUTDIR is in use by
 * another initsweep job (pid N)" when another process holds it, or when
 * .lock or one of OUTDIR's result files is a link or not a regular file.
 * Then removes the temp files a killed writer left.  *lock_fd is -1 on
 * error; isw_journal_unlock releases it (accepts -1). */
int isw_journal_lock(const char *outdir, int *lock_fd, isw_error_t *err);
void isw_journal_unlock(int lock_fd);

/* Opens (creating it with mkdir -p) OUTDIR's journal for appending.
 * - OUTDIR is locked (isw_journal_lock).
 * - input: the path of the spec being run (NULL: none).  It is never
 *   removed or replaced, whatever its name (compared by device and inode):
 *   when it is one of OUTDIR's result files, ISW_EINVAL naming both, unless
 *   it is OUTDIR/spec.yaml of the journal being resumed (isw_journal_keeps).
 * - fresh: runs.csv, journal.meta, spec.yaml, cells.csv, boundary.csv and
 *   fit.csv are removed first (other files in OUTDIR are left alone).
 * - Otherwise, when journal.meta names another spec hash (or runs.csv exists
 *   without journal.meta): ISW_ESTATE, the message says to use --fresh or
 *   another -o.  Without any journal, an existing result file (spec.yaml,
 *   cells.csv, ...) is ISW_ESTATE naming it.  Same spec but a dataset whose
 *   content hash differs from the one journaled (ndata entries, in order):
 *   ISW_ESTATE naming its source, as resuming would mix records of two
 *   datasets.  Otherwise resume: the runs already in runs.csv are loaded
 *   (a torn last line is dropped and the file truncated to the last complete
 *   line; a corrupt line elsewhere is ISW_EINVAL naming file:line; columns
 *   that do not match `axes` are ISW_ESTATE).
 * - platform (may be NULL) is one line of facts about the machines the runs
 *   trained on, kept in journal.meta for the reader and not part of the
 *   identity (e.g. "blas_core Haswell x 64").
 * axes: naxes axis keys in sweep file order.  *journal is NULL on error. */
int isw_journal_open(isw_journal_t **journal, const char *outdir, uint64_t spec_hash,
                     const isw_journal_data_t *data, int ndata, const char *const *axes,
                     int naxes, int fresh, const char *input, const char *platform,
                     isw_error_t *err);
/* 1 when OUTDIR/name must be left as it is: it is the input spec, resumed. */
int isw_journal_keeps(const isw_journal_t *journal, const char *name);
/* The spec hash in OUTDIR/journal.meta; ISW_EINVAL naming the file when it
 * is missing or holds none. */
int isw_journal_meta_hash(const char *outdir, uint64_t *hash, isw_error_t *err);

/* Appends one record: one write(2) of the whole line, so it reaches the
 * kernel at once.  axis_values: naxes strings as they should appear.
 * ISW_EINVAL when the task is already in the journal or a value holds a
 * newline; ISW_EIO when the write fails (the partial line is cut off again). */
int isw_journal_append(isw_journal_t *journal, const char *const *axis_values,
                       const isw_record_t *rec, isw_error_t *err);
/* fsync of runs.csv: call every few seconds and before exiting. */
int isw_journal_sync(isw_journal_t *journal, isw_error_t *err);
/* Syncs, releases the lock and frees; accepts NULL. */
int isw_journal_close(isw_journal_t *journal, isw_error_t *err);

/* 1 when the task has a record in the journal (resumed or appended). */
int isw_journal_done(const isw_journal_t *journal, uint64_t task);
/* Number of finished runs. */
size_t isw_journal_count(const isw_journal_t *journal);
/* Every finished run (resumed, then appended), for refinement and stats.
 * The table stays valid until close and run indices never change, but
 * pointers into runs->runs move when an append grows it. */
const isw_runs_t *isw_journal_runs(const isw_journal_t *journal);
/* The directory, as given to open. */
const char *isw_journal_outdir(const isw_journal_t *journal);

/* FNV-1a 64-bit hash of bytes: a stable spec hash from the resolved spec
 * text (isw_spec_write output). */
uint64_t isw_journal_hash(const void *bytes, size_t len);

/* Writes OUTDIR/name atomically: fn writes the content to a FILE* open on
 * a new temp file OUTDIR/.name.XXXXXX (mkstemp), which is then flushed,
 * fsync'ed and renamed over name.  fn returns ISW_OK or a status (then
 * nothing replaces name and the temp file is removed).  A name that is a
 * symbolic link or not a regular file is refused (ISW_ESTATE); a failed
 * write (ENOSPC, EFBIG, ...) is ISW_EIO. */
typedef int (*isw_file_writer_fn)(FILE *out, void *user, isw_error_t *err);
int isw_file_write_atomic(const char *outdir, const char *name, isw_file_writer_fn fn,
                          void *user, isw_error_t *err);

/* Writes s as one CSV field (quoted when it holds ',', '"', a newline or
 * surrounding blanks).  Returns 0, or EOF on a stream error. */
int isw_csv_write_field(FILE *out, const char *s);

#endif
