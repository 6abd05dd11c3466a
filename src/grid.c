/* Lazy grid expansion: task index <-> axis values. */
#include "initsweep/grid.h"

#include <math.h>

#include <string.h>

#include "initsweep/train.h"

int isw_grid_init(isw_grid_t *grid, const isw_sweep_t *sweep, isw_error_t *err)
{
    memset(grid, 0, sizeof *grid);
    grid->sweep = sweep;
    grid->naxes = sweep ? sweep->naxes : 0;
    grid->ntasks = 1;
    grid->lr_axis = grid->seed_axis = -1;
    for (int a = 0; a < grid->naxes; a++) {
        const isw_axis_t *ax = &sweep->axes[a];
        grid->dims[a] = ax->n;
        if (ax->n == 0)
            return isw_error_set(err, ISW_EINVAL, "", ax->line, "sweep.%s: the axis is empty",
                                 ax->key);
        if (grid->ntasks > (UINT64_C(1) << 62) / ax->n)
            return isw_error_set(err, ISW_EINVAL, "", ax->line,
                                 "sweep: the grid has more than 2^62 runs at axis %s", ax->key);
        grid->ntasks *= ax->n;
        if (strcmp(ax->key, "train.lr") == 0)
            grid->lr_axis = a;
        else if (strcmp(ax->key, "seed") == 0)
            grid->seed_axis = a;
        if (strncmp(ax->key, "data.", 5) == 0)
            grid->data_axes[grid->ndata_axes++] = a;
    }
    grid->ngroups = 1;
    for (int k = 0; k < grid->ndata_axes; k++)
        grid->ngroups *= grid->dims[grid->data_axes[k]];
    grid->group_size = grid->ntasks / grid->ngroups;
    int refining = sweep && sweep->refine.enabled;
    grid->family_size = 1;
    for (int a = 0; a < grid->naxes; a++) {
        grid->lane_axis[a] = isw_grid_lane_key(sweep->axes[a].key, refining);
        if (grid->lane_axis[a])
            grid->family_size *= grid->dims[a];
    }
    grid->unit_size = ISW_MAX_LANES;
    grid->family_units = (grid->family_size + grid->unit_size - 1) / grid->unit_size;
    grid->group_units = grid->group_size / grid->family_size * grid->family_units;
    grid->nunits = grid->ngroups * grid->group_units;
    return ISW_OK;
}

int isw_grid_lane_key(const char *key, int refining)
{
    if (strcmp(key, "train.lr") == 0)
        return 1;
    if (refining)
        return 0;
    if (strncmp(key, "criteria.", 9) == 0)
        return strcmp(key, "criteria.saturation_derivative") != 0;
    return strncmp(key, "init.", 5) == 0 || strncmp(key, "train.lr_layer", 14) == 0 ||
           strcmp(key, "train.momentum") == 0;
}

/* Family axes: neither data nor lane axes. */
static int is_family_axis(const isw_grid_t *grid, int a);

size_t isw_grid_unit_tasks(const isw_grid_t *grid, uint64_t unit, uint64_t *tasks)
{
    uint64_t group = unit / grid->group_units, r = unit % grid->group_units;
    uint64_t fam = r / grid->family_units, first = r % grid->family_units * grid->unit_size;
    uint64_t n = grid->family_size - first < grid->unit_size ? grid->family_size - first
                                                              : grid->unit_size;
    size_t idx[ISW_MAX_AXES];
    isw_grid_group_index(grid, group, idx);
    for (int a = grid->naxes - 1; a >= 0; a--)
        if (is_family_axis(grid, a)) {
            idx[a] = (size_t)(fam % grid->dims[a]);
            fam /= grid->dims[a];
        }
    for (uint64_t j = 0; j < n; j++) {
        uint64_t m = first + j;
        for (int a = grid->naxes - 1; a >= 0; a--)
            if (grid->lane_axis[a]) {
                idx[a] = (size_t)(m % grid->dims[a]);
                m /= grid->dims[a];
            }
        tasks[j] = isw_grid_task_of(grid, idx);
    }
    return (size_t)n;
}

uint64_t isw_grid_unit_of(const isw_grid_t *grid, uint64_t task)
{
    size_t idx[ISW_MAX_AXES];
    isw_grid_task_index(grid, task, idx);
    uint64_t fam = 0, m = 0;
    for (int a = 0; a < grid->naxes; a++) {
        if (grid->lane_axis[a])
            m = m * grid->dims[a] + idx[a];
        else if (is_family_axis(grid, a))
            fam = fam * grid->dims[a] + idx[a];
    }
    return isw_grid_index_group(grid, idx) * grid->group_units + fam * grid->family_units +
           m / grid->unit_size;
}

static int is_data_axis(const isw_grid_t *grid, int a)
{
    for (int k = 0; k < grid->ndata_axes; k++)
        if (grid->data_axes[k] == a)
            return 1;
    return 0;
}

static int is_family_axis(const isw_grid_t *grid, int a)
{
    return !grid->lane_axis[a] && !is_data_axis(grid, a);
}

uint64_t isw_grid_task_of(const isw_grid_t *grid, const size_t *idx)
{
    uint64_t task = 0;
    for (int a = 0; a < grid->naxes; a++)
        task = task * grid->dims[a] + idx[a];
    return task;
}

uint64_t isw_grid_group_of(const isw_grid_t *grid, uint64_t task)
{
    size_t idx[ISW_MAX_AXES];
    isw_grid_task_index(grid, task, idx);
    return isw_grid_index_group(grid, idx);
}

uint64_t isw_grid_index_group(const isw_grid_t *grid, const size_t *idx)
{
    uint64_t g = 0;
    for (int k = 0; k < grid->ndata_axes; k++)
        g = g * grid->dims[grid->data_axes[k]] + idx[grid->data_axes[k]];
    return g;
}

void isw_grid_group_index(const isw_grid_t *grid, uint64_t group, size_t *idx)
{
    for (int a = 0; a < grid->naxes; a++)
        idx[a] = 0;
    for (int k = grid->ndata_axes - 1; k >= 0; k--) {
        int a = grid->data_axes[k];
        idx[a] = (size_t)(group % grid->dims[a]);
        group /= grid->dims[a];
    }
}

void isw_grid_task_index(const isw_grid_t *grid, uint64_t task, size_t *idx)
{
    for (int a = grid->naxes - 1; a >= 0; a--) {
        idx[a] = (size_t)(task % grid->dims[a]);
        task /= grid->dims[a];
    }
}

int isw_grid_point_spec(isw_spec_t *out, const isw_grid_t *grid, const isw_spec_t *base,
                        const size_t *idx, double lr, isw_error_t *err)
{
    *out = *base;
    for (int a = 0; a < grid->naxes; a++) {
        const isw_axis_t *ax = &grid->sweep->axes[a];
        if (a == grid->lr_axis && !isnan(lr))
            continue;                    /* a probe's own lr, set below */
        isw_value_t v;
        isw_axis_value(ax, idx[a], &v);
        int st = isw_spec_set_value(out, ax->key, &v, err);
        if (st != ISW_OK) {
            if (err && err->line == 0)
                err->line = ax->line;
            return st;
        }
    }
    if (!isnan(lr)) {
        /* refinement probes lie strictly between two grid lrs: a number,
         * set as it is (validation below checks it like any lr) */
        out->train.lr = lr;
    }
    return isw_spec_validate(out, "", err);
}

int isw_grid_task_spec(isw_spec_t *out, const isw_grid_t *grid, const isw_spec_t *base,
                       uint64_t task, isw_error_t *err)
{
    size_t idx[ISW_MAX_AXES];
    isw_grid_task_index(grid, task, idx);
    return isw_grid_point_spec(out, grid, base, idx, NAN, err);
}

/* Axes whose values can conflict with others' at validation: everything
 * except the purely numeric hyperparameters that validate alone. */
static int interacts(const char *key)
{
    /* a multiplier's value validates alone; whether layer K exists depends
     * on model.hidden, which is enumerated, with this axis at its first value */
    if (strncmp(key, "train.lr_layer.", 15) == 0)
        return 0;
    static const char *const alone[] = {"train.lr", "seed", "init.scale", "init.mean",
                                        "train.momentum", "train.epochs", "criteria.patience",
                                        "criteria.min_improvement", NULL};
    for (int i = 0; alone[i]; i++)
        if (strcmp(key, alone[i]) == 0)
            return 0;
    return 1;
}

int isw_grid_validate(const isw_grid_t *grid, const isw_spec_t *base, isw_error_t *err)
{
    /* Enumerate the sub-product of interacting axes, the others at index 0.
     * Bounded: past a million combinations, check the first million. */
    size_t idx[ISW_MAX_AXES] = {0};
    int inter[ISW_MAX_AXES], ni = 0;
    for (int a = 0; a < grid->naxes; a++)
        if (interacts(grid->sweep->axes[a].key))
            inter[ni++] = a;
    isw_spec_t s;
    for (long count = 0; count < 1000000; count++) {
        int st = isw_grid_point_spec(&s, grid, base, idx, NAN, err);
        if (st != ISW_OK) {
            char where[1024] = "";
            size_t off = 0;
            for (int k = 0; k < ni && off < sizeof where; k++) {
                isw_axis_buf_t num;
                const char *v = isw_axis_text(&grid->sweep->axes[inter[k]], idx[inter[k]], &num);
                off += (size_t)snprintf(where + off, sizeof where - off, "%s%s=%.200s",
                                        k ? ", " : "", grid->sweep->axes[inter[k]].key, v);
            }
            /* a cross-field message starts with its key: point at that axis */
            for (int a = 0; err && err->line == 0 && a < grid->naxes; a++) {
                size_t kl = strlen(grid->sweep->axes[a].key);
                if (strncmp(err->text, grid->sweep->axes[a].key, kl) == 0 && err->text[kl] == ':')
                    err->line = grid->sweep->axes[a].line;
            }
            if (err && ni > 0) {
                char text[sizeof err->text];
                snprintf(text, sizeof text, "%s", err->text);
                snprintf(err->text, sizeof err->text, "%.600s (in the sweep combination %.380s)",
                         text, where);
            }
            return st;
        }
        int k = ni - 1;
        while (k >= 0 && ++idx[inter[k]] == grid->dims[inter[k]]) {
            idx[inter[k]] = 0;
            k--;
        }
        if (k < 0)
            break;
    }
    return ISW_OK;
}

/* The memory of a run, for the base spec and for
 * every value of each axis that changes a run's size (one at a time, the
 * others at their first value), so an untrainable size is refused before
 * anything is written rather than when the first worker allocates. */
int isw_grid_check_memory(const isw_grid_t *grid, const isw_spec_t *base,
                          const isw_data_t *data, isw_error_t *err)
{
    static const char *const sized[] = {"model.hidden", "train.epochs", "train.batch",
                                        "train.precision", NULL};
    size_t idx[ISW_MAX_AXES];
    isw_grid_group_index(grid, 0, idx);
    isw_spec_t s;
    int st = isw_grid_point_spec(&s, grid, base, idx, NAN, err);
    if (st == ISW_OK)
        st = isw_train_check_memory(&s, data, err);
    for (int a = 0; st == ISW_OK && a < grid->naxes; a++) {
        int hit = 0;
        for (int k = 0; sized[k]; k++)
            hit |= strcmp(grid->sweep->axes[a].key, sized[k]) == 0;
        for (size_t i = 1; hit && st == ISW_OK && i < grid->dims[a]; i++) {
            idx[a] = i;
            st = isw_grid_point_spec(&s, grid, base, idx, NAN, err);
            if (st == ISW_OK)
                st = isw_train_check_memory(&s, data, err);
            if (st != ISW_OK && err->line == 0)
                err->line = grid->sweep->axes[a].line;
        }
        idx[a] = 0;
    }
    return st;
}

int isw_grid_group_spec(isw_spec_t *out, const isw_grid_t *grid, const isw_spec_t *base,
                        uint64_t group, isw_error_t *err)
{
    size_t idx[ISW_MAX_AXES];
    isw_grid_group_index(grid, group, idx);
    return isw_grid_point_spec(out, grid, base, idx, NAN, err);
}
