/* Bisection of the lr edges per slice, driven by arriving results. */
#include "initsweep/refine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "initsweep/stats.h"
#include "initsweep/train.h"

typedef struct {
    uint32_t remaining;                  /* grid runs not yet recorded */
    uint32_t pending;                    /* probe runs of the round not yet recorded */
    int round;                           /* round in progress, -1 before the first */
    int finished;
    int active[2];                       /* edge probed in this round */
    int point[2];                        /* index of each active probe's point */
    int npoints;
    isw_stats_point_t *points;           /* (n_lr + 2 rounds) in insertion order */
} slice_t;

struct isw_refine {
    const isw_grid_t *grid;
    isw_refine_spec_t spec;
    size_t nlr, nseeds;
    uint64_t nslices, nfinished;
    slice_t *slices;
    isw_refine_probe_t *queue;           /* FIFO of probes to hand out */
    size_t qhead, qlen, qcap;
    isw_stats_point_t *sorted;           /* scratch: (n_lr + 2 rounds) */
};

int isw_refine_alloc(isw_refine_t **out, const isw_grid_t *grid,
                     const isw_refine_spec_t *spec, isw_error_t *err)
{
    *out = NULL;
    if (grid->lr_axis < 0)
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "refine: needs a sweep axis train.lr to refine");
    if (spec->rounds < 1 || !(spec->tolerance > 0))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "refine: rounds must be >= 1 and tolerance > 0");
    isw_refine_t *r = calloc(1, sizeof *r);
    if (!r)
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
    r->grid = grid;
    r->spec = *spec;
    r->nlr = grid->dims[grid->lr_axis];
    r->nseeds = grid->seed_axis >= 0 ? grid->dims[grid->seed_axis] : 1;
    r->nslices = grid->ntasks / (r->nlr * r->nseeds);
    size_t cap = r->nlr + 2 * (size_t)spec->rounds;
    r->slices = calloc(r->nslices, sizeof *r->slices);
    r->sorted = malloc(cap * sizeof *r->sorted);
    if (!r->slices || !r->sorted) {
        isw_refine_free(r);
        return isw_error_set(err, ISW_ENOMEM, "", 0,
                             "out of memory for the refinement of %llu slices",
                             (unsigned long long)r->nslices);
    }
    for (uint64_t s = 0; s < r->nslices; s++) {
        r->slices[s].remaining = (uint32_t)(r->nlr * r->nseeds);
        r->slices[s].round = -1;
    }
    *out = r;
    return ISW_OK;
}

void isw_refine_free(isw_refine_t *r)
{
    if (!r)
        return;
    if (r->slices)
        for (uint64_t s = 0; s < r->nslices; s++)
            free(r->slices[s].points);
    free(r->slices);
    free(r->queue);
    free(r->sorted);
    free(r);
}

void isw_refine_format_lr(double lr, char *buf, size_t size)
{
    snprintf(buf, size, "%.12g", lr);
}

/* Slice of a grid task: its axis indices without lr and seed, row-major. */
static uint64_t slice_of_index(const isw_refine_t *r, const size_t *idx)
{
    uint64_t s = 0;
    for (int a = 0; a < r->grid->naxes; a++)
        if (a != r->grid->lr_axis && a != r->grid->seed_axis)
            s = s * r->grid->dims[a] + idx[a];
    return s;
}

static void index_of_slice(const isw_refine_t *r, uint64_t s, size_t *idx)
{
    for (int a = r->grid->naxes - 1; a >= 0; a--) {
        if (a == r->grid->lr_axis || a == r->grid->seed_axis) {
            idx[a] = 0;
            continue;
        }
        idx[a] = (size_t)(s % r->grid->dims[a]);
        s /= r->grid->dims[a];
    }
}

typedef struct {
    uint64_t slice;
    int round, edge;
    size_t seed;
} probe_id_t;

static int decode(const isw_refine_t *r, uint64_t task, probe_id_t *p)
{
    if (task < r->grid->ntasks)
        return ISW_EINVAL;
    uint64_t k = task - r->grid->ntasks;
    p->seed = (size_t)(k % r->nseeds);
    k /= r->nseeds;
    p->edge = (int)(k % 2);
    k /= 2;
    p->round = (int)(k % (uint64_t)r->spec.rounds);
    p->slice = k / (uint64_t)r->spec.rounds;
    return p->slice < r->nslices ? ISW_OK : ISW_EINVAL;
}

static uint64_t encode(const isw_refine_t *r, uint64_t slice, int round, int edge, size_t seed)
{
    return r->grid->ntasks +
           ((slice * (uint64_t)r->spec.rounds + (uint64_t)round) * 2 + (uint64_t)edge) *
               r->nseeds + seed;
}

int isw_refine_probe_index(const isw_refine_t *r, uint64_t task, size_t *idx)
{
    probe_id_t p;
    if (decode(r, task, &p) != ISW_OK)
        return ISW_EINVAL;
    index_of_slice(r, p.slice, idx);
    if (r->grid->seed_axis >= 0)
        idx[r->grid->seed_axis] = p.seed;
    return ISW_OK;
}

int isw_refine_probe_lr(const isw_refine_t *r, uint64_t task, double *lr)
{
    probe_id_t p;
    if (decode(r, task, &p) != ISW_OK)
        return ISW_EINVAL;
    const slice_t *s = &r->slices[p.slice];
    if (s->round != p.round || !s->active[p.edge])
        return ISW_EINVAL;
    *lr = s->points[s->point[p.edge]].lr;
    return ISW_OK;
}

uint64_t isw_refine_slice_of_task(const isw_refine_t *r, uint64_t task)
{
    size_t idx[ISW_MAX_AXES];
    isw_grid_task_index(r->grid, task, idx);
    return slice_of_index(r, idx);
}

void isw_refine_progress(const isw_refine_t *r, uint64_t *done, uint64_t *total)
{
    *done = r->nfinished;
    *total = r->nslices;
}

static int queue_push(isw_refine_t *r, uint64_t task, double lr)
{
    if (r->qhead + r->qlen == r->qcap) {
        if (r->qhead > 0) {
            memmove(r->queue, r->queue + r->qhead, r->qlen * sizeof *r->queue);
            r->qhead = 0;
        } else {
            isw_refine_probe_t *q = isw_grow(r->queue, &r->qcap, r->qlen + 1, sizeof *q, 64);
            if (!q)
                return ISW_ENOMEM;
            r->queue = q;
        }
    }
    r->queue[r->qhead + r->qlen++] = (isw_refine_probe_t){task, lr};
    return ISW_OK;
}

size_t isw_refine_queued(const isw_refine_t *r)
{
    return r->qlen;
}

int isw_refine_next(isw_refine_t *r, isw_refine_probe_t *probe)
{
    if (r->qlen == 0)
        return 0;
    *probe = r->queue[r->qhead++];
    if (--r->qlen == 0)
        r->qhead = 0;
    return 1;
}

static int cmp_point(const void *a, const void *b)
{
    double x = ((const isw_stats_point_t *)a)->lr, y = ((const isw_stats_point_t *)b)->lr;
    return (x > y) - (x < y);
}

/* The slice's points sorted by lr, equal lrs merged, into r->sorted. */
static size_t sorted_points(isw_refine_t *r, const slice_t *s)
{
    memcpy(r->sorted, s->points, (size_t)s->npoints * sizeof *r->sorted);
    qsort(r->sorted, (size_t)s->npoints, sizeof *r->sorted, cmp_point);
    size_t m = 0;
    for (int i = 0; i < s->npoints; i++) {
        if (m > 0 && r->sorted[m - 1].lr == r->sorted[i].lr) {
            r->sorted[m - 1].n += r->sorted[i].n;
            r->sorted[m - 1].n_converged += r->sorted[i].n_converged;
            r->sorted[m - 1].n_diverged += r->sorted[i].n_diverged;
        } else {
            r->sorted[m++] = r->sorted[i];
        }
    }
    return m;
}

static void finish(isw_refine_t *r, slice_t *s)
{
    s->finished = 1;
    s->active[0] = s->active[1] = 0;
    r->nfinished++;
}

/* All results of the slice so far are in: start the next round or finish. */
static void step(isw_refine_t *r, uint64_t sid)
{
    slice_t *s = &r->slices[sid];
    int round = s->round + 1;
    if (round >= r->spec.rounds) {
        finish(r, s);
        return;
    }
    size_t m = sorted_points(r, s);
    isw_stats_edges_t edges;
    if (isw_stats_slice_edges(&edges, r->sorted, m) != ISW_OK) {
        finish(r, s);
        return;
    }
    const isw_stats_edge_t *e2[2] = {&edges.boundary, &edges.diverge};
    double lrs[2] = {NAN, NAN};
    for (int e = 0; e < 2; e++) {
        const isw_stats_edge_t *ed = e2[e];
        if (!ed->found || !(ed->lo > 0) || ed->hi / ed->lo - 1.0 <= r->spec.tolerance)
            continue;
        char text[64];
        isw_refine_format_lr(sqrt(ed->lo) * sqrt(ed->hi), text, sizeof text);
        double lr = strtod(text, NULL);
        if (!(lr > ed->lo && lr < ed->hi))
            continue;                    /* 12 digits cannot split it further */
        if (e == 1 && lr == lrs[0])
            continue;                    /* the boundary probe serves both */
        lrs[e] = lr;
    }
    s->active[0] = s->active[1] = 0;
    if (isnan(lrs[0]) && isnan(lrs[1])) {
        finish(r, s);
        return;
    }
    s->round = round;
    s->pending = 0;
    for (int e = 0; e < 2; e++) {
        if (isnan(lrs[e]))
            continue;
        s->active[e] = 1;
        s->point[e] = s->npoints;
        s->points[s->npoints++] = (isw_stats_point_t){.lr = lrs[e]};
        for (size_t k = 0; k < r->nseeds; k++) {
            queue_push(r, encode(r, sid, round, e, k), lrs[e]);
            s->pending++;
        }
    }
}

static void add(isw_stats_point_t *p, int outcome)
{
    p->n++;
    p->n_converged += outcome == ISW_OUTCOME_CONVERGED;
    p->n_diverged += outcome == ISW_OUTCOME_DIVERGED;
}

void isw_refine_record(isw_refine_t *r, uint64_t task, int outcome)
{
    const isw_grid_t *g = r->grid;
    if (task < g->ntasks) {
        size_t idx[ISW_MAX_AXES];
        isw_grid_task_index(g, task, idx);
        uint64_t sid = slice_of_index(r, idx);
        slice_t *s = &r->slices[sid];
        if (!s->points) {
            s->points = calloc(r->nlr + 2 * (size_t)r->spec.rounds, sizeof *s->points);
            if (!s->points) {
                finish(r, s);
                return;
            }
            for (size_t i = 0; i < r->nlr; i++) {
                isw_value_t v;   /* train.lr is a real key */
                isw_axis_value(&g->sweep->axes[g->lr_axis], i, &v);
                s->points[i].lr = v.r;
            }
            s->npoints = (int)r->nlr;
        }
        add(&s->points[idx[g->lr_axis]], outcome);
        if (--s->remaining == 0)
            step(r, sid);
        return;
    }
    probe_id_t p;
    if (decode(r, task, &p) != ISW_OK)
        return;
    slice_t *s = &r->slices[p.slice];
    if (s->round != p.round || !s->active[p.edge] || s->pending == 0)
        return;
    add(&s->points[s->point[p.edge]], outcome);
    if (--s->pending == 0)
        step(r, p.slice);
}
