/* The journal: the append-only runs.csv of an OUTDIR, resume, and atomic
 * writes of the final files.  Only rank 0 uses it; no MPI here.
 *
 * runs.csv's format is runs.h's (the record columns are record.h's schema).
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
#include "initsweep/runs.h"
#include "initsweep/train.h"     /* the outcomes of its records */

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
 * - platform (may be NULL) is facts about the program and the machines
 *   the runs trained on, one per line, each kept in journal.meta as a
 *   "platform" line for the reader and not part of the identity (e.g.
 *   "blas_core Haswell x 64").
 * axes: naxes axis keys in sweep file order.  *journal is NULL on error. */
int isw_journal_open(isw_journal_t **journal, const char *outdir, uint64_t spec_hash,
                     const isw_journal_data_t *data, int ndata, const char *const *axes,
                     int naxes, int fresh, const char *input, const char *platform,
                     isw_error_t *err);
/* A resumed journal's journal.meta is rewritten (new platform facts) only
 * by this call, once the caller has checked the resumed rows; a new or
 * fresh journal's was written by isw_journal_open.  ISW_OK when there is
 * nothing to write. */
int isw_journal_write_meta(isw_journal_t *journal, isw_error_t *err);
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

#endif
