/* The MPI layer's pieces shared by its two files (not part of the API):
 * sched.c (signals, workers, set-up, the phases) and sched_coord.c (rank
 * 0's coordinator).
 *
 * Protocol (all on a duplicate of MPI_COMM_WORLD, tags are tag_t):
 *   worker -> 0   TAG_REQUEST  int: how many items it can take
 *   0 -> worker   TAG_WORK     work_item_t[1..CHUNK_MAX]
 *   worker -> 0   TAG_RESULT   isw_record_t[1..RESULTS_MAX] (MPI_BYTE)
 *   0 -> worker   TAG_STOP     empty: finish (or abandon) and leave
 *   worker -> 0   TAG_BYE      empty: last message of this worker
 * A request that cannot be served yet (refinement probes wait on results)
 * is parked until work appears.  Messages between a pair do not overtake
 * each other, so every result of a worker reaches rank 0 before its BYE.
 * Waiting ranks poll (MPI_Test / MPI_Iprobe and a short sleep): a blocked
 * MPI_Recv spins a core that another rank could train on. */
#ifndef ISW_SCHED_INTERNAL_H
#define ISW_SCHED_INTERNAL_H

#include <sys/types.h>

#include <mpi.h>

#include "initsweep/sched.h"
#include "initsweep/train.h"

typedef enum { TAG_REQUEST = 11, TAG_WORK, TAG_RESULT, TAG_STOP, TAG_BYE } tag_t;

/* One item of work: a pack unit of grid tasks (isw_grid_unit_tasks), or a
 * refinement probe with its lr.  A unit is trained whole even when some of
 * its tasks are in the journal already (a resumed unit): a pack's records
 * depend on all its runs.  Rank 0 keeps the first record of each task. */
typedef struct {
    uint64_t id;                         /* unit id, or the probe's task */
    double lr;                           /* the probe's lr; NaN for units */
    uint32_t runs;                       /* records the item returns */
    int32_t probe;                       /* 1: a probe */
} work_item_t;

#define CHUNK_MAX 64
#define RESULTS_MAX 64                   /* records per TAG_RESULT message */
#define FLUSH_SECONDS 0.5                /* longest a finished record waits */
#define POLL_NS 100000L                  /* 0.1 ms between polls when idle */
#define CHUNK_SECONDS 0.5                /* aim: a chunk is this much work */

typedef struct {
    MPI_Comm comm;
    int rank, size;
    char host[MPI_MAX_PROCESSOR_NAME];
    const isw_run_job_t *job;            /* spec, grid, refine, shard, OUTDIR */
    const isw_data_t *data;              /* the dataset of the current data group */
    pid_t parent;                        /* launcher's pid (0: not launched by one) */
} ctx_t;

/* 1 once a signal arrived or the launcher died (the rank must stop as if
 * signalled, with the journal flushed, rather than keep the lock). */
int isw_sched_interrupted(const ctx_t *c);
/* Sleeps POLL_NS: how a waiting rank leaves its core to others. */
void isw_sched_nap(void);
/* Aborts the job after work has begun: the message names this rank and
 * host.  The journal on rank 0 stays valid (every line is written whole). */
void isw_sched_die(const ctx_t *c, const isw_error_t *err, const char *what);
/* Trains one work item: its runs as one pack (isw_train_pack), done hearing
 * of each record.  Dies (isw_sched_die) on errors. */
void isw_sched_train_item(const ctx_t *c, const work_item_t *w, isw_epoch_fn fn, void *fn_user,
                          isw_record_fn done, void *done_user);

/* Rank 0's coordinator (sched_coord.c). */
typedef struct coord coord_t;
/* With what the journal already holds counted as done (and fed to the
 * refinement); NULL when out of memory. */
coord_t *isw_sched_coord_new(ctx_t *c, isw_run_job_t *job);
/* The next data group with work left, from *next on; -1 when none is left
 * or the run is interrupted. */
long long isw_sched_coord_next_group(coord_t *co, uint64_t *next);
/* Hands out the current group's work until it is done or the run stops. */
void isw_sched_coord_phase(coord_t *co);
/* The last progress line; frees co.  Returns 1 when the run was interrupted. */
int isw_sched_coord_end(coord_t *co);

#endif
