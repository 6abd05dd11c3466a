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
    /* Pack units (DESIGN.md).  Lane axes (isw_grid_lane_key) vary within a
     * pack family: the tasks equal on every other axis.  A family's tasks,
     * in mixed radix over its lane axes (first slowest), are cut into
     * units of at most unit_size consecutive members; a unit is trained
     * as one call of isw_train_pack.  Unit u of group g has id
     * g * group_units + f * family_units + c (family f of the group, in
     * mixed radix over the other non-data axes, chunk c). */
    int lane_axis[ISW_MAX_AXES];         /* 1 for a lane axis */
    uint64_t family_size;                /* product of the lane axes' dims */
    uint64_t unit_size;                  /* ISW_MAX_LANES */
    uint64_t family_units;               /* ceil(family_size / unit_size) */
    uint64_t group_units;                /* families per group * family_units */
    uint64_t nunits;                     /* ngroups * group_units */
} isw_grid_t;

/* Fails (ISW_EINVAL) when the product overflows 2^63. */
int isw_grid_init(isw_grid_t *grid, const isw_sweep_t *sweep, isw_error_t *err);

/* 1 when an axis of this key may vary between the lanes of a pack: train.lr
 * always; unless the sweep refines (whose slices must stay whole units),
 * also init.*, train.lr_layer*, train.momentum and criteria.* but
 * criteria.saturation_derivative (isw_train_pack_compatible). */
int isw_grid_lane_key(const char *key, int refining);
/* The tasks of unit u into tasks[unit_size], in member order; returns how
 * many.  isw_grid_unit_of gives the unit of a task. */
size_t isw_grid_unit_tasks(const isw_grid_t *grid, uint64_t unit, uint64_t *tasks);
uint64_t isw_grid_unit_of(const isw_grid_t *grid, uint64_t task);

/* Axis value indices of a task: idx[naxes]. */
void isw_grid_task_index(const isw_grid_t *grid, uint64_t task, size_t *idx);

/* Task id of value indices idx[naxes]. */
uint64_t isw_grid_task_of(const isw_grid_t *grid, const size_t *idx);

/* The data group of a task, or of value indices idx[naxes]. */
uint64_t isw_grid_group_of(const isw_grid_t *grid, uint64_t task);
uint64_t isw_grid_index_group(const isw_grid_t *grid, const size_t *idx);
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
