/* The `run` command's policy, with no MPI in it: the spec and its --set
 * overrides, the grid and refinement, which shard this job runs, where
 * OUTDIR is, whether its journal is resumed or replaced, what spec.yaml
 * holds, when the summaries are written and the exit status.  The MPI
 * layer (sched.c) drives it: every rank calls isw_run_setup, rank 0 alone
 * the rest, in order: isw_run_identify_data, isw_run_open, (training),
 * isw_run_finish; every rank ends with isw_run_close. */
#ifndef ISW_RUN_H
#define ISW_RUN_H

#include "initsweep/data.h"
#include "initsweep/grid.h"
#include "initsweep/journal.h"
#include "initsweep/refine.h"
#include "initsweep/spec.h"

/* What the command line asked for. */
typedef struct {
    const char *spec_path;               /* SPEC.yaml */
    const char *outdir;                  /* -o; NULL: results/<spec name> */
    const char *const *sets;             /* --set KEY=VALUE, in order */
    int nsets;
    const char *shard;                   /* --shard K/N; NULL: the whole grid */
    int resume, fresh, quiet;
} isw_run_opts_t;

/* One job of `initsweep run`.  grid points into sweep: a job is not moved
 * after isw_run_setup. */
typedef struct {
    isw_run_opts_t opts;
    isw_spec_t spec;                     /* the base spec, overrides applied */
    isw_sweep_t sweep;
    isw_grid_t grid;
    isw_refine_t *refine;                /* NULL when the spec asks for none */
    int shard_k, shard_n;                /* this job runs shard k of n (n = 1: all) */
    char outdir[ISW_PATH_MAX];           /* where this job journals */
    isw_journal_data_t *data_ids;        /* rank 0: one per data group */
    uint64_t ndata_ids;
    isw_journal_t *journal;              /* rank 0, from isw_run_open */
} isw_run_job_t;

/* Loads the spec at path, applies the --set overrides in order and
 * validates: every command reads its spec this way. */
int isw_run_load_spec(isw_spec_t *spec, isw_sweep_t *sweep, const char *path,
                      const char *const *sets, int nsets, isw_error_t *err);

/* Everything that can be refused before any file is touched: the shard,
 * the spec, the grid and the refinement.  An error without a file names
 * the spec.  isw_run_close frees what it allocated, on error too. */
int isw_run_setup(isw_run_job_t *run, const isw_run_opts_t *opts, isw_error_t *err);

/* The content hash of every data group's dataset for the journal's
 * identity.  Group 0's is group0, already loaded; each other group's is
 * read, checked and hashed alone, so a bad file in any group is refused
 * before OUTDIR is touched and at most one extra copy is in memory.
 * stop (may be NULL) is asked between groups: ISW_EINTR when it says 1. */
int isw_run_identify_data(isw_run_job_t *run, const isw_data_t *group0, int (*stop)(void),
                          isw_error_t *err);

/* Opens OUTDIR: --resume insists on a journal, --fresh replaces it, a
 * plain run resumes one of the same spec and data; every resumed row must
 * be a task of this sweep and shard with its own axis values; spec.yaml is
 * the resolved spec.  platform: one line for journal.meta (may be NULL). */
int isw_run_open(isw_run_job_t *run, const char *platform, isw_error_t *err);

/* Whether this job's shard owns grid task t.  With refinement a slice's
 * runs stay together (its probes need all of them), so shards take whole
 * slices; otherwise tasks go round-robin, which spreads slow and fast
 * regions of the grid evenly. */
int isw_run_owns(const isw_run_job_t *run, uint64_t task);
/* How many grid tasks this job's shard owns, by arithmetic (a grid may hold
 * 10^12 tasks). */
uint64_t isw_run_owned_tasks(const isw_run_job_t *run);

/* The end of a run on rank 0: with every task done the summaries are
 * written (ISW_EXIT_OK, or ISW_EXIT_FAIL when they cannot be); an
 * interrupted run says how to resume (ISW_EXIT_INTERRUPTED).  status: the
 * exit status so far; anything but ISW_EXIT_OK is returned as it is and the
 * journal stays resumable. */
int isw_run_finish(isw_run_job_t *run, int status, int interrupted);

/* Closes the journal (a failure to sync it turns ISW_EXIT_OK into
 * ISW_EXIT_FAIL, and is printed) and frees the run.  Returns the status. */
int isw_run_close(isw_run_job_t *run, int status);

/* OUTDIR/spec.yaml := text, atomically. */
int isw_run_write_spec(const char *outdir, const char *text, size_t len, isw_error_t *err);

#endif
