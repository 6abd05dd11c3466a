/* The sweep grid: the product of the spec's axes, expanded lazily.
 *
 * Task t has one value per axis; the first axis varies slowest (row-major
 * mixed radix), so task ids are stable for a given spec.  Nothing per task is
 * stored: a 16-million-point grid costs a few hundred bytes.  Refinement
 * probes (sched) get ids from ntasks upward. */
#ifndef ISW_GRID_H
#define ISW_GRID_H

#include "initsweep/common.h"
#include "initsweep/spec.h"

typedef struct {
    const isw_sweep_t *sweep;
    int naxes;
    size_t dims[ISW_MAX_AXES];           /* values per axis */
    uint64_t ntasks;                     /* product of dims (1 with no axes) */
    int lr_axis;                         /* index of "train.lr", -1 none */
    int seed_axis;                       /* index of "seed", -1 none */
    /* Data groups: tasks that share their data.* axis values train on the
     * same dataset.  Group g's data-axis digits are g in mixed radix over
     * the data axes (first slowest); 1 group when there is no data axis. */
    int ndata_axes;
    int data_axes[ISW_MAX_AXES];         /* indices of the data.* axes */
    uint64_t ngroups;                    /* product of their dims */
    uint64_t group_size;                 /* ntasks / ngroups */
} isw_grid_t;

/* Fails (ISW_EINVAL) when the product overflows 2^63. */
int isw_grid_init(isw_grid_t *grid, const isw_sweep_t *sweep, isw_error_t *err);

/* Axis value indices of a task: idx[naxes]. */
void isw_grid_task_index(const isw_grid_t *grid, uint64_t task, size_t *idx);

/* Task id of value indices idx[naxes]. */
uint64_t isw_grid_task_of(const isw_grid_t *grid, const size_t *idx);

/* The data group of a task, and the j-th task (0 <= j < group_size) of
 * group g in id order: iterating j visits the group's tasks ascending. */
uint64_t isw_grid_group_of(const isw_grid_t *grid, uint64_t task);
uint64_t isw_grid_index_group(const isw_grid_t *grid, const size_t *idx);
uint64_t isw_grid_group_task(const isw_grid_t *grid, uint64_t group, uint64_t j);
/* Value indices of group g's first task (the data digits set, others 0):
 * with isw_grid_point_spec, the spec whose data the group trains on. */
void isw_grid_group_index(const isw_grid_t *grid, uint64_t group, size_t *idx);
/* The spec whose data group g trains on: base with the group's data-axis
 * values (the other axes at their first value), validated. */
int isw_grid_group_spec(isw_spec_t *out, const isw_grid_t *grid, const isw_spec_t *base,
                        uint64_t group, isw_error_t *err);

/* base with the task's axis values applied (in axis order), validated.
 * The values were all checked when the spec was loaded, so an error here
 * means an inconsistent combination (e.g. lr_layer length vs depth). */
int isw_grid_task_spec(isw_spec_t *out, const isw_grid_t *grid, const isw_spec_t *base,
                       uint64_t task, isw_error_t *err);

/* Same with explicit value indices and, when lr is not NaN, train.lr
 * replaced by it (refinement probes: a number, never through text). */
int isw_grid_point_spec(isw_spec_t *out, const isw_grid_t *grid, const isw_spec_t *base,
                        const size_t *idx, double lr, isw_error_t *err);

/* Checks every task's combination would validate, without enumerating a
 * huge grid: each axis value alone was checked at load; this checks the
 * combinations of the axes that interact (model.hidden with
 * train.lr_layer.*, output/loss/activation), over their sub-product. */
int isw_grid_validate(const isw_grid_t *grid, const isw_spec_t *base, isw_error_t *err);

/* Refuses (isw_train_check_memory) a run too big for this machine: the
 * first task and every value of each size-changing axis (model.hidden,
 * train.epochs, train.batch, train.precision), one at a time; data is the
 * first data group's dataset. */
#include "initsweep/data.h"
int isw_grid_check_memory(const isw_grid_t *grid, const isw_spec_t *base,
                          const isw_data_t *data, isw_error_t *err);

#endif
