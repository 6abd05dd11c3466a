/* The summary files: cells.csv, boundary.csv and fit.csv from a computed
 * isw_stats_t, and `summarize` (stats.h). */
#include "initsweep/stats.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the summaries' columns ------------------------------------------------------------ */

/* Each summary's statistics columns after its axis columns, in order; the
 * writers below fill them in this order.  cells.csv has `n` and one count
 * per outcome (train.h's names) before these. */
static const char *const cells_rates[] = {
    "p_converged", "p_converged_lo", "p_converged_hi", "p_diverged", "p_diverged_lo",
    "p_diverged_hi", "loss_median", "loss_q25", "loss_q75", "epochs_median", NULL};
static const char *const boundary_columns[] = {
    "lr_stable_min", "lr_stable_max", "lr_boundary", "lr_boundary_lo", "lr_boundary_hi",
    "lr_diverge", "lr_diverge_lo", "lr_diverge_hi", "crossings_boundary", "crossings_diverge",
    "n_lr", "c_loss", "c_loss_lo", "c_loss_hi", "c_sharp", "c_sharp_lo", "c_sharp_hi", "c_max",
    NULL};
static const char *const geometry_columns[] = {
    "axis_x", "axis_y", "nx", "ny", "n_converged", "n_other", "scale", "boxes", "boxes_known",
    "local_dimension", "switches_x", "switches_y", "in_fit", "dimension", "dimension_se",
    "dimension_1d_x", "dimension_1d_y", NULL};
static const char *const fit_columns[] = {
    "axis", "edge", "slope", "slope_se", "intercept", "r2", "n", "model", "knee", "knee_lo",
    "knee_hi", "x_min", "x_max", "rmse", NULL};

/* The summaries' columns that are not real numbers: counts, and fit.csv's
 * names.  Every other statistics column is a real (empty: not defined). */
static const char *const int_columns[] = {"n",     "crossings_boundary", "crossings_diverge",
                                          "n_lr",  "nx",  "ny",   "n_converged", "n_other",
                                          "scale", "boxes", "boxes_known", "in_fit", NULL};
static const char *const name_columns[] = {"axis", "edge", "model", "axis_x", "axis_y", NULL};

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

const char *isw_stats_column_type(const char *file, const char *name)
{
    if (in_list(name, int_columns))
        return "int";
    if (strcmp(file, "cells.csv") == 0)
        for (int o = 0; o < ISW_NOUTCOMES; o++)
            if (strcmp(name, isw_outcome_name(o)) == 0)
                return "int";
    return in_list(name, name_columns) ? "name" : "real";
}

static int put_names(const char **names, int n, const char *const *list)
{
    for (; *list; list++)
        names[n++] = *list;
    return n;
}

int isw_stats_columns(const char *file, const char **names)
{
    if (strcmp(file, "cells.csv") == 0) {
        int n = 0;
        names[n++] = "n";
        for (int o = 0; o < ISW_NOUTCOMES; o++)
            names[n++] = isw_outcome_name(o);
        return put_names(names, n, cells_rates);
    }
    if (strcmp(file, "boundary.csv") == 0)
        return put_names(names, 0, boundary_columns);
    if (strcmp(file, "fit.csv") == 0)
        return put_names(names, 0, fit_columns);
    if (strcmp(file, "geometry.csv") == 0)
        return put_names(names, 0, geometry_columns);
    return -1;
}

/* ---- output ------------------------------------------------------------------------------ */

/* ",%.17g", or "," for NaN (not defined). */
static void put_double(FILE *out, double x)
{
    fputc(',', out);
    if (!isnan(x))
        fprintf(out, "%.17g", x);
}

/* ",%.17g" per value, "," alone for NaN. */
static void put_doubles(FILE *out, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_double(out, x[i]);
}

/* The key axes' names (header) or one run's values, comma separated, with a
 * trailing comma when any were written. */
static void put_axes(FILE *out, const isw_stats_t *s, const int *skip, long run)
{
    const isw_runs_t *runs = s->runs;
    for (int i = 0; i < runs->naxes; i++) {
        if (i == skip[0] || i == skip[1] || i == skip[2])
            continue;
        isw_csv_write_field(out, run < 0 ? runs->axes[i] : runs->runs[run].values[i]);
        fputc(',', out);
    }
}

/* The header line: the key axes, then the file's statistics columns. */
static void put_header(FILE *out, const isw_stats_t *s, const int *skip, const char *file)
{
    const char *names[ISW_STATS_MAX_COLUMNS];
    int n = isw_stats_columns(file, names);
    put_axes(out, s, skip, -1);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? "," : "", names[i]);
    fputc('\n', out);
}

static int write_cells(FILE *out, void *user, isw_error_t *err)
{
    (void)err;
    const isw_stats_t *s = user;
    int skip[3] = {s->seed_axis, -1, -1};
    put_header(out, s, skip, "cells.csv");
    for (size_t i = 0; i < s->ncells; i++) {
        const isw_stats_cell_t *c = &s->cells[i];
        put_axes(out, s, skip, (long)c->run);
        fprintf(out, "%ld", c->n);
        for (int o = 0; o < ISW_NOUTCOMES; o++)
            fprintf(out, ",%ld", c->count[o]);
        const double v[] = {c->converged.p, c->converged.lo, c->converged.hi,
                            c->diverged.p,  c->diverged.lo,  c->diverged.hi,
                            c->loss_median, c->loss_q25,     c->loss_q75,
                            c->epochs_median};
        put_doubles(out, v, sizeof v / sizeof v[0]);
        fputc('\n', out);
    }
    return ISW_OK;
}

static int write_boundary(FILE *out, void *user, isw_error_t *err)
{
    (void)err;
    const isw_stats_t *s = user;
    int skip[3] = {s->seed_axis, s->lr_axis, -1};
    put_header(out, s, skip, "boundary.csv");
    for (size_t i = 0; i < s->nslices; i++) {
        const isw_stats_slice_t *sl = &s->slices[i];
        const isw_stats_edges_t *e = &sl->edges;
        put_axes(out, s, skip, (long)sl->run);
        if (!isnan(e->stable_min))
            fprintf(out, "%.17g", e->stable_min);
        const double v[] = {e->stable_max,    e->boundary.value, e->boundary.lo,
                            e->boundary.hi,   e->diverge.value,  e->diverge.lo,
                            e->diverge.hi};
        put_doubles(out, v, sizeof v / sizeof v[0]);
        fprintf(out, ",%d,%d,%zu", e->boundary.crossings, e->diverge.crossings, sl->npoints);
        const double ph[] = {e->loss.value,  e->loss.lo, e->loss.hi, e->sharp.value,
                             e->sharp.lo,    e->sharp.hi, e->diverge.lo};
        put_doubles(out, ph, sizeof ph / sizeof ph[0]);
        fputc('\n', out);
    }
    return ISW_OK;
}

static int write_fit(FILE *out, void *user, isw_error_t *err)
{
    (void)err;
    const isw_stats_t *s = user;
    int skip[3] = {s->seed_axis, s->lr_axis, s->scale_axis};
    put_header(out, s, skip, "fit.csv");
    for (size_t i = 0; i < s->nfits; i++) {
        const isw_stats_fitrow_t *r = &s->fits[i];
        put_axes(out, s, skip, (long)r->run);
        fprintf(out, "%s,", s->runs->axes[s->scale_axis]);
        fputs(r->edge == 0 ? "boundary" : "diverge", out);
        const double v[] = {r->fit.slope, r->fit.slope_se, r->fit.intercept, r->fit.r2};
        put_doubles(out, v, sizeof v / sizeof v[0]);
        fprintf(out, ",%zu,%s", r->fit.n, isw_fit_model_name(r->fit.model));
        const double k[] = {r->fit.knee,  r->fit.knee_lo, r->fit.knee_hi,
                            r->fit.x_min, r->fit.x_max,   r->fit.rmse};
        put_doubles(out, k, sizeof k / sizeof k[0]);
        fputc('\n', out);
    }
    return ISW_OK;
}

/* geometry.csv: one row per plane and scale.  Its axis columns are every
 * axis but seed, so planes of different pairs share one header; a plane's
 * own two axes vary across it and are left empty (axis_x, axis_y name
 * them). */
static void put_geo_axes(FILE *out, const isw_stats_t *s, const isw_stats_georow_t *g)
{
    const isw_runs_t *runs = s->runs;
    for (int i = 0; i < runs->naxes; i++) {
        if (i == s->seed_axis)
            continue;
        if (i != g->axis_x && i != g->axis_y)
            isw_csv_write_field(out, runs->runs[g->run].values[i]);
        fputc(',', out);
    }
}

static int write_geometry(FILE *out, void *user, isw_error_t *err)
{
    (void)err;
    const isw_stats_t *s = user;
    int skip[3] = {s->seed_axis, -1, -1};
    put_header(out, s, skip, "geometry.csv");
    for (size_t r = 0; r < s->ngeo; r++) {
        const isw_stats_georow_t *g = &s->geo[r];
        const isw_geo_t *e = &g->geo;
        for (int k = 0; k < e->nscales; k++) {
            put_geo_axes(out, s, g);
            isw_csv_write_field(out, s->runs->axes[g->axis_x]);
            fputc(',', out);
            isw_csv_write_field(out, s->runs->axes[g->axis_y]);
            fprintf(out, ",%d,%d,%ld,%ld,%ld,%ld,%ld", e->nx, e->ny, e->n_true, e->n_false,
                    e->scale[k], e->boxes[k], e->boxes_known[k]);
            /* the slope of ln N between this scale and the next */
            double local = k + 1 < e->nscales && e->boxes[k] > 0 && e->boxes[k + 1] > 0
                               ? -log((double)e->boxes[k + 1] / (double)e->boxes[k]) /
                                     log((double)e->scale[k + 1] / (double)e->scale[k])
                               : NAN;
            put_double(out, local);
            put_double(out, e->switches_x[k]);
            put_double(out, e->switches_y[k]);
            fprintf(out, ",%d", e->in_fit[k]);
            const double d[] = {e->dimension, e->dimension_se, e->dimension_1d_x,
                                e->dimension_1d_y};
            put_doubles(out, d, sizeof d / sizeof d[0]);
            fputc('\n', out);
        }
    }
    return ISW_OK;
}

int isw_stats_write(const isw_stats_t *s, const char *outdir, isw_error_t *err)
{
    int st = isw_file_write_atomic(outdir, "cells.csv", write_cells, (void *)s, err);
    if (st == ISW_OK)
        st = isw_file_write_atomic(outdir, "boundary.csv", write_boundary, (void *)s, err);
    if (st == ISW_OK)
        st = isw_file_write_atomic(outdir, "fit.csv", write_fit, (void *)s, err);
    if (st == ISW_OK)
        st = isw_file_write_atomic(outdir, "geometry.csv", write_geometry, (void *)s, err);
    return st;
}

int isw_stats_summarize(const char *outdir, const isw_stats_opts_t *opts, isw_error_t *err)
{
    char path[ISW_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/runs.csv", outdir);
    if (n < 0 || n >= (int)sizeof path)
        return isw_error_set(err, ISW_EINVAL, outdir, 0, "path too long");
    /* a job array's shards are merged into runs.csv first (cli_summarize.c) */
    const char *files[1] = {path};
    isw_runs_t runs = {0};
    int st = isw_runs_read_files(&runs, files, 1, err);
    if (st == ISW_OK)
        st = isw_stats_summarize_runs(&runs, outdir, opts, err);
    isw_runs_free(&runs);
    return st;
}

int isw_stats_summarize_runs(const isw_runs_t *runs, const char *outdir,
                             const isw_stats_opts_t *opts, isw_error_t *err)
{
    isw_stats_t s;
    int st = isw_stats_compute(&s, runs, opts, err);
    if (st == ISW_OK)
        st = isw_stats_write(&s, outdir, err);
    isw_stats_free(&s);
    return st;
}
