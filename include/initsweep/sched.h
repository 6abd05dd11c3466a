/* The MPI layer: `initsweep run`.  The only module that includes mpi.h.
 *
 * Rank 0 coordinates: it hands out task indices in chunks sized to about
 * half a second of work, journals the fixed-size records that come back,
 * generates refinement probes as slices complete, prints progress, and
 * (on up to ISW_SCHED_TRAINING_COORDINATOR ranks) trains between those
 * duties, serving requests after every epoch of its own runs.  The dataset
 * is read once per node and shared read-only through an MPI-3 shared
 * window.  What to run, where and with which exit status is run.h's. */
#ifndef ISW_SCHED_H
#define ISW_SCHED_H

#include "initsweep/run.h"

/* Up to this many ranks, rank 0 trains too; above it only coordinates. */
#define ISW_SCHED_TRAINING_COORDINATOR 32

/* Runs the sweep (MPI_Init .. MPI_Finalize inside); returns the exit status. */
int isw_sched_run(const isw_run_opts_t *opts, int *argc, char ***argv);

/* Runs fn(i, results + i * size, user) for the n items i: under mpirun
 * with P ranks rank r does the items i = r (mod P), and rank 0 receives
 * every item's bytes; as a plain process all of them.  MPI is initialised
 * (if it is not) and finalised inside.  *root is 1 on rank 0, which alone
 * holds every result afterwards.  ISW_EMPI when MPI cannot start. */
typedef void (*isw_map_fn)(size_t i, void *result, void *user);
int isw_sched_map(size_t n, size_t size, isw_map_fn fn, void *user, void *results, int *root);

#endif
