/* Statistics of a sweep (GSL): per-cell outcome rates with confidence
 * intervals and loss quantiles, learning-rate edges per slice, power-law
 * fits of the edges against init.scale; written as cells.csv, boundary.csv
 * and fit.csv (INTERFACE.md, "Files in OUTDIR").
 *
 * Definitions (DESIGN.md, "Edges are not always single"):
 * - cell: the runs that share every axis value except `seed`.
 * - slice: the cells that share every axis value except `train.lr` (and
 *   `seed`); its points are the distinct learning rates (numeric value of
 *   the train.lr column; refinement probes are simply more points), sorted
 *   ascending.  Cells whose lr parses to the same number are merged.
 * - p_converged and p_diverged are fractions of a point's runs.  A point is
 *   "converged" when p_converged >= 0.5, "diverged" when p_diverged >= 0.5.
 * - boundary edge: the end of the first converged range, i.e. the first
 *   crossing going up in lr where p_converged falls from >= 0.5 to < 0.5.
 * - diverge edge: the first crossing where p_diverged rises from < 0.5 to
 *   >= 0.5; when the lowest lr is already diverged the edge is below the
 *   range and not reported.
 * - An edge lies between its bracketing points lo < hi and is interpolated
 *   linearly in log lr where p passes 0.5: with p_lo, p_hi the fractions at
 *   the bracket, t = (p_lo - 0.5) / (p_lo - p_hi) and
 *   lr = exp(log lo + t (log hi - log lo)).  (Linear in lr when lo <= 0.)
 * - crossings: how many times p passes 0.5 between adjacent points, in both
 *   directions; more than one means a single edge hides structure.
 * - phase edges (the early-training phases, in units of train.lr: c with
 *   train.lr_unit: sharpness): c_loss, the first rise through 0.5 of the
 *   fraction of runs whose loss rose above loss_0 in the first
 *   train.early_steps evaluations (loss_early_ratio > 1, a loss catapult);
 *   c_sharp, likewise for the sharpness (sharpness_early_ratio > 1); a
 *   diverged run counts as rising for both.  Points where no run knows
 *   (no probes) are left out of that edge.  c_max: the last point below the
 *   divergence edge (its bracket's lo), the largest c that trains.
 *
 * Choices:
 * - 95 % intervals for proportions are Clopper-Pearson ("exact") intervals,
 *   from the beta quantile gsl_cdf_beta_Pinv: conservative (coverage at
 *   least 95 %) and well defined at k = 0 and k = n, where sweeps with few
 *   seeds often are.
 * - Loss quantiles use every run of the cell: a non-finite loss_final (a
 *   diverged run) counts as +infinity, so divergence pushes the median up
 *   instead of silently dropping out; a quantile that lands on such a run is
 *   written "inf".  Quantiles are R's type 7 (gsl_stats_quantile_from_sorted_data),
 *   with inf handled: h = (n-1) q, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
 * - Fits: against fit.axis, or else the first of isw_stats_fit_axes that
 *   the sweep has (init.scale, model.width, model.depth: fit.csv's `axis`),
 *   of ln(edge lr) on ln(that axis) over the slices where the edge is
 *   defined (axis value > 0).  A power law is fitted only where one holds
 *   (isw_stats_fit_edges): a straight line (`line`), or a hinge -- flat,
 *   then a power law (`flat_power`), or a power law, then flat
 *   (`power_flat`) -- with its knee and the knee's interval, or `none`.
 *   The line is ordinary least squares by gsl_fit_linear; slope_se =
 *   sqrt(cov11), gsl's cov11 already scaled by the residual variance
 *   sumsq/(n-2), i.e. the usual OLS standard error (for a hinge:
 *   conditional on its knee).  n < 2: no fit; n < 3: no slope_se; r2 =
 *   1 - SSres/SStot, empty when SStot = 0.  With fit.range only the points
 *   inside it are fitted, by the line. */
#ifndef ISW_STATS_H
#define ISW_STATS_H

#include "initsweep/common.h"
#include "initsweep/geometry.h"
#include "initsweep/journal.h"

/* Confidence of every interval written (two-sided). */
#define ISW_STATS_CONFIDENCE 0.95

/* A proportion k/n with its Clopper-Pearson interval; NaN when n = 0. */
typedef struct {
    double p, lo, hi;
} isw_stats_prop_t;

/* Clopper-Pearson interval of k successes in n trials at `confidence`
 * (0.95): lo = B^-1((1-c)/2; k, n-k+1) (0 when k = 0), hi = B^-1((1+c)/2;
 * k+1, n-k) (1 when k = n).  ISW_EINVAL for k > n or n < 0; ISW_EGSL when
 * the beta quantile fails. */
int isw_stats_clopper_pearson(isw_stats_prop_t *out, long k, long n, double confidence);

/* Quantile q in [0,1] of sorted[0..n) (ascending, +inf allowed), type 7.
 * NaN when n = 0. */
double isw_stats_quantile_sorted(const double *sorted, size_t n, double q);

/* One learning-rate point of a slice. */
typedef struct {
    double lr;
    long n;              /* runs at this lr */
    long n_converged;
    long n_diverged;
    long n_loss_up, n_loss_known;   /* loss rose early / runs that say (phase edges) */
    long n_sharp_up, n_sharp_known; /* sharpness rose early / runs with probes */
} isw_stats_point_t;

/* Where an edge lies relative to the points of its slice. */
typedef enum {
    ISW_EDGE_NONE = 0,   /* no points */
    ISW_EDGE_IN_RANGE,   /* found: bracketed by two adjacent points */
    ISW_EDGE_BELOW,      /* below the lowest lr (boundary: no converged point;
                          * diverge: the lowest point already diverged) */
    ISW_EDGE_ABOVE       /* above the highest lr (boundary: converged up to the
                          * last point; diverge: no point diverged) */
} isw_edge_where_t;

/* One edge of a slice. */
typedef struct {
    int found;           /* 1 when where == ISW_EDGE_IN_RANGE */
    isw_edge_where_t where;
    double value;        /* interpolated lr; NaN unless found */
    double lo, hi;       /* bracketing lrs: points[ilo].lr < points[ihi].lr; NaN unless found */
    long ilo, ihi;       /* indices of the bracketing points (ihi = ilo + 1), -1 unless found */
    int crossings;       /* 0.5-crossings of the slice's p, both directions */
} isw_stats_edge_t;

/* Both edges and the first stable range of a slice. */
typedef struct {
    isw_stats_edge_t boundary;   /* p_converged falls through 0.5 */
    isw_stats_edge_t diverge;    /* p_diverged rises through 0.5 */
    isw_stats_edge_t loss;       /* c_loss: p(loss rose early) rises through 0.5 */
    isw_stats_edge_t sharp;      /* c_sharp: p(sharpness rose early) likewise */
    int stable_found;            /* some point has p_converged >= 0.5 */
    double stable_min, stable_max; /* lrs of the first converged range; NaN unless found */
    long istable_min, istable_max; /* their point indices, -1 unless found */
} isw_stats_edges_t;

/* Edges of one slice: points[0..n) sorted by strictly increasing lr, every
 * n > 0 (ISW_EINVAL otherwise).  n = 0 points gives where = NONE. */
int isw_stats_slice_edges(isw_stats_edges_t *out, const isw_stats_point_t *points,
                          size_t npoints);

/* What a fit found: where ln y is linear in ln x. */
typedef enum {
    ISW_FIT_NONE = 0,    /* no power law fits (or fewer than 2 points) */
    ISW_FIT_LINE,        /* one power law over every point */
    ISW_FIT_FLAT_POWER,  /* flat up to the knee, a power law above it */
    ISW_FIT_POWER_FLAT   /* a power law up to the knee, flat above it */
} isw_fit_model_t;

/* fit.csv's names of the models: "none", "line", "flat_power", "power_flat". */
const char *isw_fit_model_name(isw_fit_model_t m);

/* A fit of ln(y) on ln(x) over the pairs with finite x, y > 0.  The power
 * law ln y = intercept + slope ln x holds on [x_min, x_max]; a hinge is
 * flat (at the law's value at the knee) on the rest of the points. */
typedef struct {
    size_t n;            /* pairs used */
    isw_fit_model_t model;
    double slope, slope_se, intercept, r2; /* NaN when not defined (see above) */
    double knee, knee_lo, knee_hi; /* x of a hinge's knee and its 95 % interval; NaN otherwise */
    double x_min, x_max; /* where the power law holds; NaN without one */
    double rmse;         /* sqrt(SSres / n) of the model, in ln y; NaN when n = 0 */
} isw_stats_fit_t;

/* The line alone (model LINE, or NONE when n < 2 or every x is equal). */
int isw_stats_fit_loglog(isw_stats_fit_t *fit, const double *x, const double *y, size_t n);

/* The fit of an edge: y[i] is known to a bracket of relative width res[i]
 * (hi/lo of the bracketing points; NaN when unknown), the resolution below
 * which residuals mean nothing.  With lo < hi (not NaN) only points with
 * lo <= x <= hi are used, by the line.  Otherwise:
 * - the line, and for n >= 5 points over >= 4 distinct x the best hinge of
 *   either orientation (knee anywhere between the second and the
 *   second-last distinct x, so two x on each side; scanned on 48 steps per
 *   gap, each knee an exact two-parameter least squares);
 * - the hinge is taken when F = (SS_line - SS_hinge) / s2 exceeds the 99 %
 *   quantile of F(1, n - 3), s2 = max(SS_hinge / (n - 3), mean(ln(res)^2) /
 *   12): the residual variance, but never below the bracket's own
 *   (uniform) quantisation variance, so an exact law stays a line.  99 %,
 *   not 95 %: the knee is chosen from the data, which makes the nominal
 *   test liberal;
 * - the knee's interval is the connected set of scanned knees with SS(k) <=
 *   SS_min + s2 F_0.95(1, n - 3) (profile likelihood);
 * - `none` when the model chosen leaves rmse > ln 1.25 (a typical point
 *   more than 25 % off) and r2 < 0.9: no power law describes the points. */
int isw_stats_fit_edges(isw_stats_fit_t *fit, const double *x, const double *y,
                        const double *res, size_t n, double lo, double hi);

/* ---- the summary of a runs table ---------------------------------------- */

/* One cell (axis point without seed). */
typedef struct {
    size_t run;          /* index of its first run (lowest task) in the runs table:
                          * its axis values are the cell's (ignore seed) */
    uint64_t first_task; /* lowest task id of its runs: the cells' order */
    long n;
    long count[ISW_NOUTCOMES];
    long n_loss_up, n_loss_known, n_sharp_up, n_sharp_known; /* as the points' */
    isw_stats_prop_t converged, diverged;
    double loss_median, loss_q25, loss_q75; /* of loss_final, non-finite = +inf */
    double epochs_median;
    double lr;           /* numeric train.lr, NaN without that axis */
} isw_stats_cell_t;

/* One slice (axis point without train.lr and seed). */
typedef struct {
    size_t run;          /* a run of the slice (of its lowest task): its axis
                          * values other than lr and seed are the slice's */
    uint64_t first_task;
    size_t npoints;
    isw_stats_point_t *points; /* sorted by lr */
    isw_stats_edges_t edges;
    double scale;        /* numeric value of the fit axis, NaN without one */
} isw_stats_slice_t;

/* One fit row: a group of slices that differ only in the fit axis, one edge. */
typedef struct {
    size_t run;          /* a run of the group: its other axis values are the group's */
    uint64_t first_task;
    int edge;            /* 0 boundary, 1 diverge */
    isw_stats_fit_t fit;
} isw_stats_fitrow_t;

/* One geometry plane: the cells that share every axis value except seed
 * and the two numeric axes axis_x, axis_y (geometry.h), their mask a point
 * per pair of values: 1 when p_converged >= 0.5, 0 otherwise, -1 where no
 * cell is. */
typedef struct {
    size_t run;          /* a run of the plane (its lowest task) */
    uint64_t first_task;
    int axis_x, axis_y;  /* column indices, axis_x < axis_y */
    isw_geo_t geo;
} isw_stats_georow_t;

/* Axes with at least this many distinct numeric values (seed aside) span
 * geometry planes, every pair of them. */
#define ISW_STATS_GEO_MIN_VALUES 8

typedef struct {
    const isw_runs_t *runs;      /* borrowed: must outlive the summary */
    int seed_axis, lr_axis;      /* column indices, -1 when absent */
    int scale_axis;              /* the fit axis (fit.axis or isw_stats_fit_axes), -1 when none */
    double fit_lo, fit_hi;       /* fit.range, NaN when not given */
    size_t ncells;
    isw_stats_cell_t *cells;     /* ordered by first_task */
    size_t nslices;
    isw_stats_slice_t *slices;   /* ordered by first_task; 0 without train.lr */
    size_t nfits;
    isw_stats_fitrow_t *fits;    /* ordered by first_task, boundary then diverge;
                                  * 0 without train.lr or init.scale */
    size_t ngeo;
    isw_stats_georow_t *geo;     /* ordered by (axis_x, axis_y), then first_task */
} isw_stats_t;

/* The axes fits are made against by default, in order of preference: the
 * first one a sweep has is its fit axis. */
#define ISW_STATS_NFIT_AXES 3
extern const char *const isw_stats_fit_axes[ISW_STATS_NFIT_AXES];

/* The spec's fit section (spec.h's isw_fit_spec_t, as plain values). */
typedef struct {
    const char *axis;    /* NULL or "": the first of isw_stats_fit_axes */
    double lo, hi;       /* fit.range; NaN: every point */
} isw_stats_opts_t;

/* Computes cells, slices and fits of a runs table (opts NULL: defaults).
 * ISW_EINVAL (naming file:line of the run) when a train.lr or fit axis
 * value is not a number, or when opts->axis is not a column of the table;
 * ISW_EGSL when a GSL routine fails.  The summary borrows runs. */
int isw_stats_compute(isw_stats_t *stats, const isw_runs_t *runs, const isw_stats_opts_t *opts,
                      isw_error_t *err);
/* Frees the contents and zeroes it; accepts NULL. */
void isw_stats_free(isw_stats_t *stats);

/* The statistics columns of a summary file ("cells.csv", "boundary.csv",
 * "fit.csv" or "geometry.csv") after its axis columns, in order, into names (room for
 * ISW_STATS_MAX_COLUMNS).  Returns their number, -1 for another file. */
#define ISW_STATS_MAX_COLUMNS 32
int isw_stats_columns(const char *file, const char **names);

/* The type of a statistics column of a summary file: "int" (a count),
 * "name" (fit.csv's axis, edge, model) or "real" (empty when not defined,
 * "inf" for an infinite loss quantile). */
const char *isw_stats_column_type(const char *file, const char *name);

/* Writes OUTDIR/cells.csv, boundary.csv, fit.csv and geometry.csv
 * atomically. */
int isw_stats_write(const isw_stats_t *stats, const char *outdir, isw_error_t *err);

/* `initsweep summarize`: reads OUTDIR/runs.csv, computes, writes the three
 * files.  Outputs depend only on the set of runs, not on line order. */
int isw_stats_summarize(const char *outdir, const isw_stats_opts_t *opts, isw_error_t *err);
/* The same from a table already in memory (the end of `run`: the journal's
 * own table, which holds exactly what runs.csv holds, so the file is not
 * read again and there is one copy of the runs, not two). */
int isw_stats_summarize_runs(const isw_runs_t *runs, const char *outdir,
                             const isw_stats_opts_t *opts, isw_error_t *err);

#endif
