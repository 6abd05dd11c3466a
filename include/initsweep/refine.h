/* Refinement of the learning-rate edges (the spec's `refine:` section).
 *
 * After all grid runs of a slice (axis point without train.lr and seed) are
 * in, the slice's edges are computed with isw_stats_slice_edges; each edge
 * found inside the range with a bracket wider than the tolerance gets a
 * probe at the bracket's geometric mean, run for every seed.  When a round's
 * probes are all in, the edges are recomputed over grid and probe points
 * together and the next round starts, until every bracket is within
 * tolerance (hi/lo - 1 <= tolerance) or `rounds` probes per edge are spent.
 * When both edges share a bracket, one probe serves both.
 *
 * Probe ids continue after the grid: ntasks + ((slice * rounds + round) * 2
 * + edge) * nseeds + seed_index, so a probe's id names its slice, round and
 * seed and is the same on every rank and after any resume.  Probe lrs are
 * rounded to 12 significant digits (the text runs.csv holds). */
#ifndef ISW_REFINE_H
#define ISW_REFINE_H

#include "initsweep/grid.h"
#include "initsweep/spec.h"

typedef struct isw_refine isw_refine_t;

typedef struct {
    uint64_t task;
    double lr;
} isw_refine_probe_t;

/* Needs a train.lr axis (ISW_EINVAL otherwise).  *refine NULL on error. */
int isw_refine_alloc(isw_refine_t **refine, const isw_grid_t *grid,
                     const isw_refine_spec_t *spec, isw_error_t *err);
void isw_refine_free(isw_refine_t *refine);

/* Feeds one finished run (grid task or probe).  May queue new probes. */
void isw_refine_record(isw_refine_t *refine, uint64_t task, int outcome);
/* Probes queued and not yet popped. */
size_t isw_refine_queued(const isw_refine_t *refine);
/* Pops the next queued probe; 0 when none is queued. */
int isw_refine_next(isw_refine_t *refine, isw_refine_probe_t *probe);

/* Axis value indices of a probe (its lr index is 0: the lr is the probe's). */
int isw_refine_probe_index(const isw_refine_t *refine, uint64_t task, size_t *idx);
/* The lr of a probe of a round still in progress. */
int isw_refine_probe_lr(const isw_refine_t *refine, uint64_t task, double *lr);
/* Text of a probe lr as runs.csv holds it ("%.12g"). */
void isw_refine_format_lr(double lr, char *buf, size_t size);

/* The slice of a grid task (its axis point without train.lr and seed). */
uint64_t isw_refine_slice_of_task(const isw_refine_t *refine, uint64_t task);

/* Slices finished refining / total (for progress). */
void isw_refine_progress(const isw_refine_t *refine, uint64_t *done, uint64_t *total);

#endif
