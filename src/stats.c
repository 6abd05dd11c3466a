/* Cells, edges and fits of a sweep (stats.h). */
#include "initsweep/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

/* ---- proportions and quantiles ------------------------------------------- */

int isw_stats_clopper_pearson(isw_stats_prop_t *out, long k, long n, double confidence)
{
    out->p = out->lo = out->hi = NAN;
    if (n < 0 || k < 0 || k > n || !(confidence > 0 && confidence < 1))
        return ISW_EINVAL;
    if (n == 0)
        return ISW_OK;
    double tail = 0.5 * (1 - confidence);
    double lo = k == 0 ? 0.0 : gsl_cdf_beta_Pinv(tail, (double)k, (double)(n - k + 1));
    double hi = k == n ? 1.0 : gsl_cdf_beta_Pinv(1 - tail, (double)(k + 1), (double)(n - k));
    /* gsl_cdf_beta_Pinv reports failure (handler off) by returning NaN */
    if (!(lo >= 0 && lo <= 1) || !(hi >= 0 && hi <= 1))
        return ISW_EGSL;
    out->p = (double)k / (double)n;
    out->lo = lo;
    out->hi = hi;
    return ISW_OK;
}

double isw_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double h = q * (double)(n - 1);
    size_t i = (size_t)floor(h);
    if (i >= n - 1)
        return sorted[n - 1];
    double d = h - (double)i, a = sorted[i], b = sorted[i + 1];
    /* without the shortcuts an inf neighbour gives 0 * inf = NaN */
    if (d == 0 || a == b)
        return a;
    return a + d * (b - a);
}

/* ---- edges of one slice ------------------------------------------------------ */

/* p = k/n >= 0.5, exactly, in integers. */
static int at_least_half(long k, long n)
{
    return 2 * k >= n;
}

static void edge_clear(isw_stats_edge_t *e)
{
    e->found = 0;
    e->where = ISW_EDGE_NONE;
    e->value = e->lo = e->hi = NAN;
    e->ilo = e->ihi = -1;
    e->crossings = 0;
}

/* Brackets points [i], [i+1] and interpolates where p = k/n passes 0.5. */
static void edge_set(isw_stats_edge_t *e, const isw_stats_point_t *pts, size_t i,
                     double p_lo, double p_hi)
{
    double lo = pts[i].lr, hi = pts[i + 1].lr;
    double t = (p_lo - 0.5) / (p_lo - p_hi);  /* in [0, 1): one side >= 0.5, one < 0.5 */
    e->found = 1;
    e->where = ISW_EDGE_IN_RANGE;
    e->lo = lo;
    e->hi = hi;
    e->ilo = (long)i;
    e->ihi = (long)i + 1;
    if (t == 0)
        e->value = lo;
    else if (t == 1)   /* p_hi is exactly 0.5: the edge is that lr, not exp(log(hi)) */
        e->value = hi;
    else if (lo > 0)
        e->value = exp(log(lo) + t * (log(hi) - log(lo)));
    else
        e->value = lo + t * (hi - lo);
    /* exp(log(x)) may round past x: keep the edge inside its bracket */
    if (e->value > hi)
        e->value = hi;
    if (e->value < lo)
        e->value = lo;
}

/* The first rise of p = k[i]/m[i] through 0.5 over the points with m > 0
 * (k, m: point fields at offsets ko, mo), bracketed by adjacent such
 * points; crossings between them. */
static long pfield(const isw_stats_point_t *p, size_t off)
{
    return *(const long *)((const char *)p + off);
}

static void rise_edge(isw_stats_edge_t *e, const isw_stats_point_t *pts, size_t n, size_t ko,
                      size_t mo)
{
    edge_clear(e);
    long prev = -1;
    for (size_t i = 0; i < n; i++) {
        long m = pfield(&pts[i], mo), k = pfield(&pts[i], ko);
        if (m <= 0)
            continue;
        int up = at_least_half(k, m);
        if (prev < 0) {
            e->where = up ? ISW_EDGE_BELOW : ISW_EDGE_ABOVE;
        } else {
            const isw_stats_point_t *a = &pts[prev];
            int was = at_least_half(pfield(a, ko), pfield(a, mo));
            e->crossings += was != up;
            if (e->where == ISW_EDGE_ABOVE && !was && up) {
                /* bracket the two known points (they need not be adjacent) */
                isw_stats_point_t br[2] = {*a, pts[i]};
                edge_set(e, br, 0, (double)pfield(a, ko) / (double)pfield(a, mo),
                         (double)k / (double)m);
                e->ilo = prev;
                e->ihi = (long)i;
            }
        }
        prev = (long)i;
    }
}

int isw_stats_slice_edges(isw_stats_edges_t *out, const isw_stats_point_t *pts, size_t n)
{
    edge_clear(&out->boundary);
    edge_clear(&out->diverge);
    edge_clear(&out->loss);
    edge_clear(&out->sharp);
    out->stable_found = 0;
    out->stable_min = out->stable_max = NAN;
    out->istable_min = out->istable_max = -1;
    for (size_t i = 0; i < n; i++) {
        if (pts[i].n <= 0 || pts[i].n_converged < 0 || pts[i].n_diverged < 0 ||
            pts[i].n_converged + pts[i].n_diverged > pts[i].n || pts[i].n_loss_up < 0 ||
            pts[i].n_loss_up > pts[i].n_loss_known || pts[i].n_loss_known > pts[i].n ||
            pts[i].n_sharp_up < 0 || pts[i].n_sharp_up > pts[i].n_sharp_known ||
            pts[i].n_sharp_known > pts[i].n)
            return ISW_EINVAL;
        if (i > 0 && !(pts[i].lr > pts[i - 1].lr))
            return ISW_EINVAL;
    }
    if (n == 0)
        return ISW_OK;

    /* p_converged: the first converged range and where it ends */
    size_t first = n;
    for (size_t i = 0; i < n && first == n; i++)
        if (at_least_half(pts[i].n_converged, pts[i].n))
            first = i;
    for (size_t i = 0; i + 1 < n; i++)
        out->boundary.crossings += at_least_half(pts[i].n_converged, pts[i].n) !=
                                   at_least_half(pts[i + 1].n_converged, pts[i + 1].n);
    if (first == n) {
        out->boundary.where = ISW_EDGE_BELOW;
    } else {
        size_t last = first;
        while (last + 1 < n && at_least_half(pts[last + 1].n_converged, pts[last + 1].n))
            last++;
        out->stable_found = 1;
        out->stable_min = pts[first].lr;
        out->stable_max = pts[last].lr;
        out->istable_min = (long)first;
        out->istable_max = (long)last;
        if (last + 1 == n)
            out->boundary.where = ISW_EDGE_ABOVE;
        else
            edge_set(&out->boundary, pts, last,
                     (double)pts[last].n_converged / (double)pts[last].n,
                     (double)pts[last + 1].n_converged / (double)pts[last + 1].n);
    }

    /* p_diverged: the first rise through 0.5 */
    for (size_t i = 0; i + 1 < n; i++)
        out->diverge.crossings += at_least_half(pts[i].n_diverged, pts[i].n) !=
                                  at_least_half(pts[i + 1].n_diverged, pts[i + 1].n);
    if (at_least_half(pts[0].n_diverged, pts[0].n)) {
        out->diverge.where = ISW_EDGE_BELOW;
    } else {
        out->diverge.where = ISW_EDGE_ABOVE;
        for (size_t i = 0; i + 1 < n; i++)
            if (at_least_half(pts[i + 1].n_diverged, pts[i + 1].n)) {
                edge_set(&out->diverge, pts, i,
                         (double)pts[i].n_diverged / (double)pts[i].n,
                         (double)pts[i + 1].n_diverged / (double)pts[i + 1].n);
                break;
            }
    }
    rise_edge(&out->loss, pts, n, offsetof(isw_stats_point_t, n_loss_up),
              offsetof(isw_stats_point_t, n_loss_known));
    rise_edge(&out->sharp, pts, n, offsetof(isw_stats_point_t, n_sharp_up),
              offsetof(isw_stats_point_t, n_sharp_known));
    return ISW_OK;
}

/* ---- power-law fits -------------------------------------------------------------- */

const char *isw_fit_model_name(isw_fit_model_t m)
{
    static const char *const names[] = {"none", "line", "flat_power", "power_flat"};
    return m >= ISW_FIT_NONE && m <= ISW_FIT_POWER_FLAT ? names[m] : "none";
}

static void fit_clear(isw_stats_fit_t *f, size_t n)
{
    *f = (isw_stats_fit_t){.n = n, .model = ISW_FIT_NONE};
    f->slope = f->slope_se = f->intercept = f->r2 = NAN;
    f->knee = f->knee_lo = f->knee_hi = f->x_min = f->x_max = f->rmse = NAN;
}

/* One usable pair in logs; res2 = ln(bracket ratio)^2, NaN when unknown. */
typedef struct {
    double x, lx, ly, res2;
} fit_pt_t;

static int pt_cmp(const void *a, const void *b)
{
    double x = ((const fit_pt_t *)a)->lx, y = ((const fit_pt_t *)b)->lx;
    return (x > y) - (x < y);
}

/* Least squares of ly on u (m points, stride 1): ly = c0 + c1 u.  0 when
 * undefined (no spread in u); se NaN below 3 points. */
static int ols(const double *u, const double *ly, size_t m, double *c0, double *c1,
               double *se, double *ss)
{
    double v00, v01, v11;
    if (m < 2 || gsl_fit_linear(u, 1, ly, 1, m, c0, c1, &v00, &v01, &v11, ss) != GSL_SUCCESS ||
        !isfinite(*c0) || !isfinite(*c1))
        return 0;
    *se = m >= 3 && isfinite(v11) && v11 >= 0 ? sqrt(v11) : NAN;
    return 1;
}

/* The hinge's basis: flat_power ly = a + s max(0, lx - k), power_flat
 * ly = a + s min(0, lx - k). */
static double hinge(isw_fit_model_t m, double lx, double k)
{
    double d = lx - k;
    return m == ISW_FIT_FLAT_POWER ? (d > 0 ? d : 0) : (d < 0 ? d : 0);
}

#define KNEE_STEPS 48    /* scanned knees per gap between distinct x */

typedef struct {
    size_t nk;
    double *k, *ss;      /* (nk) knees in ln x and their SSres */
    size_t best;
} knee_scan_t;

/* SSres of each scanned knee for one orientation over pts (sorted, m
 * points, ux[0..nu) their distinct lx); u and ly scratch of m. */
static void scan_knees(knee_scan_t *sc, isw_fit_model_t model, const fit_pt_t *pts, size_t m,
                       const double *ux, size_t nu, double *u, double *ly)
{
    sc->nk = 0;
    sc->best = 0;
    for (size_t j = 1; j + 1 < nu; j++)
        /* the gaps up to the second-last x, then that x itself */
        for (int t = 0; t < (j + 2 < nu ? KNEE_STEPS : 1); t++) {
            double k = ux[j] + (ux[j + 1] - ux[j]) * t / KNEE_STEPS;
            for (size_t i = 0; i < m; i++) {
                u[i] = hinge(model, pts[i].lx, k);
                ly[i] = pts[i].ly;
            }
            double c0, c1, se, ss;
            if (!ols(u, ly, m, &c0, &c1, &se, &ss))
                ss = INFINITY;
            sc->k[sc->nk] = k;
            sc->ss[sc->nk] = ss;
            if (sc->nk == 0 || ss < sc->ss[sc->best])
                sc->best = sc->nk;
            sc->nk++;
        }
}

/* Fills r2 and rmse of a model with SSres ss over pts. */
static void fit_quality(isw_stats_fit_t *f, const fit_pt_t *pts, size_t m, double ss)
{
    double mean = 0, tss = 0;
    for (size_t i = 0; i < m; i++)
        mean += pts[i].ly / (double)m;
    for (size_t i = 0; i < m; i++)
        tss += (pts[i].ly - mean) * (pts[i].ly - mean);
    f->r2 = tss > 0 ? 1 - ss / tss : NAN;
    f->rmse = sqrt(ss / (double)m);
}

/* The line over pts[0..m) (sorted), into f; its SSres in *ss. */
static void fit_line(isw_stats_fit_t *f, const fit_pt_t *pts, size_t m, double *u, double *ly,
                     double *ss)
{
    fit_clear(f, m);
    *ss = NAN;
    for (size_t i = 0; i < m; i++) {
        u[i] = pts[i].lx;
        ly[i] = pts[i].ly;
    }
    double c0, c1, se;
    if (!ols(u, ly, m, &c0, &c1, &se, ss))
        return;
    f->model = ISW_FIT_LINE;
    f->slope = c1;
    f->intercept = c0;
    f->slope_se = se;
    f->x_min = pts[0].x;
    f->x_max = pts[m - 1].x;
    fit_quality(f, pts, m, *ss);
}

/* Collects the usable pairs of x, y (and res) in [lo, hi], sorted by x. */
static size_t fit_points(fit_pt_t *pts, const double *x, const double *y, const double *res,
                         size_t n, double lo, double hi)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(isfinite(x[i]) && isfinite(y[i]) && x[i] > 0 && y[i] > 0))
            continue;
        if (lo < hi && !(x[i] >= lo && x[i] <= hi))
            continue;
        double r = res && isfinite(res[i]) && res[i] > 0 ? log(res[i]) : NAN;
        pts[m++] = (fit_pt_t){x[i], log(x[i]), log(y[i]), r * r};
    }
    qsort(pts, m, sizeof *pts, pt_cmp);
    return m;
}

int isw_stats_fit_loglog(isw_stats_fit_t *fit, const double *x, const double *y, size_t n)
{
    fit_clear(fit, 0);
    fit_pt_t *pts = malloc((n + 1) * sizeof *pts);
    double *u = malloc((2 * n + 1) * sizeof *u);
    if (!pts || !u) {
        free(pts);
        free(u);
        return ISW_ENOMEM;
    }
    size_t m = fit_points(pts, x, y, NULL, n, NAN, NAN);
    double ss;
    fit_line(fit, pts, m, u, u + n, &ss);
    free(pts);
    free(u);
    return ISW_OK;
}

int isw_stats_fit_edges(isw_stats_fit_t *fit, const double *x, const double *y,
                        const double *res, size_t n, double lo, double hi)
{
    fit_clear(fit, 0);
    size_t nscan = n * KNEE_STEPS + 1;
    fit_pt_t *pts = malloc((n + 1) * sizeof *pts);
    double *buf = malloc((3 * n + 4 * nscan + 1) * sizeof *buf);
    if (!pts || !buf) {
        free(pts);
        free(buf);
        return ISW_ENOMEM;
    }
    double *u = buf, *ly = buf + n, *ux = buf + 2 * n;
    knee_scan_t scan[2] = {{0, ux + n, ux + n + nscan, 0},
                           {0, ux + n + 2 * nscan, ux + n + 3 * nscan, 0}};
    int ranged = lo < hi;
    size_t m = fit_points(pts, x, y, res, n, lo, hi);
    double ss_line;
    fit_line(fit, pts, m, u, ly, &ss_line);
    size_t nu = 0;
    for (size_t i = 0; i < m; i++)
        if (nu == 0 || pts[i].lx > ux[nu - 1])
            ux[nu++] = pts[i].lx;
    if (ranged || fit->model != ISW_FIT_LINE || m < 5 || nu < 4)
        goto judge;

    /* the floor of the residual variance: a point is known only to its
     * bracket, uniform on a width ln(res) in ln y */
    double floor2 = 0;
    size_t nres = 0;
    for (size_t i = 0; i < m; i++)
        if (isfinite(pts[i].res2)) {
            floor2 += pts[i].res2 / 12;
            nres++;
        }
    floor2 = nres ? floor2 / (double)nres : 0;
    const isw_fit_model_t models[2] = {ISW_FIT_FLAT_POWER, ISW_FIT_POWER_FLAT};
    for (int o = 0; o < 2; o++)
        scan_knees(&scan[o], models[o], pts, m, ux, nu, u, ly);
    int o = scan[1].ss[scan[1].best] < scan[0].ss[scan[0].best];
    knee_scan_t *sc = &scan[o];
    double ss_h = sc->ss[sc->best], dof = (double)m - 3;
    if (!isfinite(ss_h))
        goto judge;
    double s2 = fmax(ss_h / dof, floor2);
    double gain = ss_line - ss_h;
    int take = gain > 0 && (s2 > 0 ? gain / s2 > gsl_cdf_fdist_Qinv(0.01, 1, dof) : 1);
    if (!take)
        goto judge;
    double k = sc->k[sc->best];
    for (size_t i = 0; i < m; i++) {
        u[i] = hinge(models[o], pts[i].lx, k);
        ly[i] = pts[i].ly;
    }
    double c0, c1, se, ss;
    if (!ols(u, ly, m, &c0, &c1, &se, &ss))
        goto judge;
    fit->model = models[o];
    fit->slope = c1;
    fit->slope_se = se;
    fit->intercept = c0 - c1 * k;
    fit->knee = exp(k);
    /* profile interval: the scanned knees around the best whose SSres stays
     * within s2 F_0.95(1, n - 3) of the minimum */
    double cut = ss_h + s2 * gsl_cdf_fdist_Qinv(0.05, 1, dof);
    size_t a = sc->best, b = sc->best;
    while (a > 0 && sc->ss[a - 1] <= cut)
        a--;
    while (b + 1 < sc->nk && sc->ss[b + 1] <= cut)
        b++;
    fit->knee_lo = exp(sc->k[a]);
    fit->knee_hi = exp(sc->k[b]);
    if (models[o] == ISW_FIT_FLAT_POWER) {
        fit->x_min = fit->knee;
        fit->x_max = pts[m - 1].x;
    } else {
        fit->x_min = pts[0].x;
        fit->x_max = fit->knee;
    }
    fit_quality(fit, pts, m, ss);

judge:
    if (fit->model != ISW_FIT_NONE && fit->rmse > log(1.25) && !(fit->r2 >= 0.9)) {
        double r2 = fit->r2, rmse = fit->rmse;
        fit_clear(fit, m);
        fit->r2 = r2;
        fit->rmse = rmse;
    }
    free(pts);
    free(buf);
    return ISW_OK;
}

/* ---- grouping ----------------------------------------------------------------------- */

typedef int (*cmp_fn)(size_t a, size_t b, const void *ctx);

/* Stable bottom-up merge sort of idx[0..n) (qsort has no context pointer). */
static int merge_sort(size_t *idx, size_t n, cmp_fn cmp, const void *ctx)
{
    size_t *tmp = malloc((n + 1) * sizeof *tmp);
    if (!tmp)
        return ISW_ENOMEM;
    size_t *src = idx, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = cmp(src[j], src[i], ctx) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        size_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx)
        memcpy(idx, src, n * sizeof *idx);
    free(tmp);
    return ISW_OK;
}

typedef struct {
    const isw_stats_t *s;
    int skip[4];         /* axis columns left out of the key, -1 = unused */
} key_ctx_t;

static int skipped(const key_ctx_t *k, int axis)
{
    for (int i = 0; i < 4; i++)
        if (k->skip[i] == axis)
            return 1;
    return 0;
}

/* Compares the axis values of two runs over the key axes. */
static int key_cmp(const key_ctx_t *k, size_t ra, size_t rb)
{
    const isw_runs_t *runs = k->s->runs;
    for (int i = 0; i < runs->naxes; i++) {
        if (skipped(k, i))
            continue;
        int c = strcmp(runs->runs[ra].values[i], runs->runs[rb].values[i]);
        if (c)
            return c;
    }
    return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_runs(size_t a, size_t b, const void *ctx)
{
    const key_ctx_t *k = ctx;
    int c = key_cmp(k, a, b);
    return c ? c : cmp_u64(k->s->runs->runs[a].rec.task, k->s->runs->runs[b].rec.task);
}

static int cmp_cells(size_t a, size_t b, const void *ctx)
{
    const key_ctx_t *k = ctx;
    const isw_stats_cell_t *ca = &k->s->cells[a], *cb = &k->s->cells[b];
    int c = key_cmp(k, ca->run, cb->run);
    if (c)
        return c;
    if (ca->lr != cb->lr)
        return ca->lr < cb->lr ? -1 : 1;
    return cmp_u64(ca->first_task, cb->first_task);
}

static int cmp_slices(size_t a, size_t b, const void *ctx)
{
    const key_ctx_t *k = ctx;
    const isw_stats_slice_t *sa = &k->s->slices[a], *sb = &k->s->slices[b];
    int c = key_cmp(k, sa->run, sb->run);
    return c ? c : cmp_u64(sa->first_task, sb->first_task);
}

static size_t *index_alloc(size_t n)
{
    size_t *idx = malloc((n + 1) * sizeof *idx);
    if (idx)
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
    return idx;
}

/* Permutes arr (n elements of `size` bytes) into the order of idx. */
static int permute(void *arr, size_t n, size_t size, const size_t *idx)
{
    char *tmp = malloc(n * size + 1);
    if (!tmp)
        return ISW_ENOMEM;
    for (size_t i = 0; i < n; i++)
        memcpy(tmp + i * size, (char *)arr + idx[i] * size, size);
    memcpy(arr, tmp, n * size);
    free(tmp);
    return ISW_OK;
}

/* An array of summary rows, each with a uint64_t first_task at offset `at`. */
typedef struct {
    const char *base;
    size_t size, at;
} rows_ctx_t;

static int cmp_first_task(size_t a, size_t b, const void *ctx)
{
    const rows_ctx_t *r = ctx;
    uint64_t ta, tb;
    memcpy(&ta, r->base + a * r->size + r->at, sizeof ta);
    memcpy(&tb, r->base + b * r->size + r->at, sizeof tb);
    return cmp_u64(ta, tb);
}

/* Puts n rows of `size` bytes in the summaries' order, by first task: the
 * order a file's rows keep whatever the order of runs.csv.  Stable, so
 * fit.csv's boundary row stays before its diverge row. */
static int order_by_first_task(void *rows, size_t n, size_t size, size_t at)
{
    size_t *idx = index_alloc(n);
    rows_ctx_t r = {rows, size, at};
    int st = idx ? merge_sort(idx, n, cmp_first_task, &r) : ISW_ENOMEM;
    if (st == ISW_OK)
        st = permute(rows, n, size, idx);
    free(idx);
    return st;
}

/* Numeric value of axis `axis` of run r, or ISW_EINVAL naming its line. */
static int axis_number(double *v, const isw_runs_t *runs, size_t r, int axis,
                       isw_error_t *err)
{
    const isw_run_t *run = &runs->runs[r];
    const char *s = run->values[axis];
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end || !isfinite(*v))
        return isw_error_set(err, ISW_EINVAL,
                             run->source >= 0 ? runs->sources[run->source] : "", run->line,
                             "%s value '%s' is not a finite number", runs->axes[axis], s);
    return ISW_OK;
}

/* ---- cells ------------------------------------------------------------------------- */

static int cell_fill(isw_stats_cell_t *cell, const isw_runs_t *runs, const size_t *idx,
                     size_t n, double *scratch, isw_error_t *err)
{
    memset(cell, 0, sizeof *cell);
    cell->run = idx[0];
    cell->first_task = runs->runs[idx[0]].rec.task;
    cell->n = (long)n;
    cell->lr = NAN;
    for (size_t i = 0; i < n; i++) {
        const isw_record_t *rec = &runs->runs[idx[i]].rec;
        cell->count[rec->outcome]++;
        /* the phase edges' counts: a diverged run rose */
        int div = rec->outcome == ISW_OUTCOME_DIVERGED;
        if (div || !isnan(rec->loss_early_ratio)) {
            cell->n_loss_known++;
            cell->n_loss_up += div || rec->loss_early_ratio > 1;
        }
        if (div || !isnan(rec->sharpness_early_ratio)) {
            cell->n_sharp_known++;
            cell->n_sharp_up += div || rec->sharpness_early_ratio > 1;
        }
        scratch[i] = isfinite(rec->loss_final) ? rec->loss_final : INFINITY;
    }
    if (isw_stats_clopper_pearson(&cell->converged, cell->count[ISW_OUTCOME_CONVERGED],
                                  cell->n, ISW_STATS_CONFIDENCE) != ISW_OK ||
        isw_stats_clopper_pearson(&cell->diverged, cell->count[ISW_OUTCOME_DIVERGED],
                                  cell->n, ISW_STATS_CONFIDENCE) != ISW_OK)
        return isw_error_set(err, ISW_EGSL, "", 0,
                             "Clopper-Pearson interval failed (n = %ld)", cell->n);
    gsl_sort(scratch, 1, n);
    cell->loss_q25 = isw_stats_quantile_sorted(scratch, n, 0.25);
    cell->loss_median = isw_stats_quantile_sorted(scratch, n, 0.5);
    cell->loss_q75 = isw_stats_quantile_sorted(scratch, n, 0.75);
    for (size_t i = 0; i < n; i++)
        scratch[i] = (double)runs->runs[idx[i]].rec.epochs;
    gsl_sort(scratch, 1, n);
    cell->epochs_median = isw_stats_quantile_sorted(scratch, n, 0.5);
    return ISW_OK;
}

static int compute_cells(isw_stats_t *s, isw_error_t *err)
{
    const isw_runs_t *runs = s->runs;
    size_t n = runs->nruns;
    key_ctx_t k = {s, {s->seed_axis, -1, -1, -1}};
    size_t *idx = index_alloc(n);
    double *scratch = malloc((n + 1) * sizeof *scratch);
    s->cells = malloc((n + 1) * sizeof *s->cells);
    int st = ISW_OK;
    if (!idx || !scratch || !s->cells || merge_sort(idx, n, cmp_runs, &k) != ISW_OK) {
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
        goto out;
    }
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && key_cmp(&k, idx[a], idx[b]) == 0)
            b++;
        isw_stats_cell_t *cell = &s->cells[s->ncells++];
        if ((st = cell_fill(cell, runs, idx + a, b - a, scratch, err)) != ISW_OK)
            goto out;
        if (s->lr_axis >= 0 &&
            (st = axis_number(&cell->lr, runs, cell->run, s->lr_axis, err)) != ISW_OK)
            goto out;
        a = b;
    }
    if (order_by_first_task(s->cells, s->ncells, sizeof *s->cells,
                            offsetof(isw_stats_cell_t, first_task)) != ISW_OK)
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
out:
    free(idx);
    free(scratch);
    return st;
}

/* ---- slices ------------------------------------------------------------------------- */

/* The end of the group of cells idx[a..) sorted by k: the first index past
 * a whose cell's key differs from idx[a]'s. */
static size_t cells_group_end(const key_ctx_t *k, const size_t *idx, size_t a, size_t n)
{
    size_t b = a + 1;
    while (b < n && key_cmp(k, k->s->cells[idx[a]].run, k->s->cells[idx[b]].run) == 0)
        b++;
    return b;
}

static int compute_slices(isw_stats_t *s, isw_error_t *err)
{
    size_t n = s->ncells;
    key_ctx_t k = {s, {s->seed_axis, s->lr_axis, -1, -1}};
    size_t *idx = index_alloc(n);
    s->slices = calloc(n + 1, sizeof *s->slices);
    int st = ISW_OK;
    if (!idx || !s->slices || merge_sort(idx, n, cmp_cells, &k) != ISW_OK) {
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
        goto out;
    }
    for (size_t a = 0; a < n;) {
        size_t b = cells_group_end(&k, idx, a, n);
        isw_stats_slice_t *sl = &s->slices[s->nslices++];
        sl->scale = NAN;
        if (!(sl->points = malloc((b - a) * sizeof *sl->points))) {
            st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
            goto out;
        }
        sl->first_task = UINT64_MAX;
        for (size_t i = a; i < b; i++) {
            const isw_stats_cell_t *c = &s->cells[idx[i]];
            if (c->first_task < sl->first_task) {
                sl->first_task = c->first_task;
                sl->run = c->run;
            }
            /* cells sorted by lr: equal lrs are adjacent and merge */
            if (sl->npoints == 0 || sl->points[sl->npoints - 1].lr != c->lr)
                sl->points[sl->npoints++] = (isw_stats_point_t){.lr = c->lr};
            isw_stats_point_t *p = &sl->points[sl->npoints - 1];
            p->n += c->n;
            p->n_loss_up += c->n_loss_up;
            p->n_loss_known += c->n_loss_known;
            p->n_sharp_up += c->n_sharp_up;
            p->n_sharp_known += c->n_sharp_known;
            p->n_converged += c->count[ISW_OUTCOME_CONVERGED];
            p->n_diverged += c->count[ISW_OUTCOME_DIVERGED];
        }
        if (isw_stats_slice_edges(&sl->edges, sl->points, sl->npoints) != ISW_OK) {
            st = isw_error_set(err, ISW_EINVAL, "", 0, "inconsistent slice points");
            goto out;
        }
        if (s->scale_axis >= 0 &&
            (st = axis_number(&sl->scale, s->runs, sl->run, s->scale_axis, err)) != ISW_OK)
            goto out;
        a = b;
    }
    if (order_by_first_task(s->slices, s->nslices, sizeof *s->slices,
                            offsetof(isw_stats_slice_t, first_task)) != ISW_OK)
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
out:
    free(idx);
    return st;
}

/* ---- fits ----------------------------------------------------------------------------- */

static int compute_fits(isw_stats_t *s, isw_error_t *err)
{
    size_t n = s->nslices;
    key_ctx_t k = {s, {s->seed_axis, s->lr_axis, s->scale_axis, -1}};
    size_t *idx = index_alloc(n);
    double *buf = malloc((5 * n + 1) * sizeof *buf);
    s->fits = calloc(2 * n + 1, sizeof *s->fits);
    int st = ISW_OK;
    if (!idx || !buf || !s->fits || merge_sort(idx, n, cmp_slices, &k) != ISW_OK) {
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
        goto out;
    }
    double *x = buf, *yb = buf + n, *yd = buf + 2 * n, *rb = buf + 3 * n, *rd = buf + 4 * n;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && key_cmp(&k, s->slices[idx[a]].run, s->slices[idx[b]].run) == 0)
            b++;
        /* first slice of the group in sorted order has the lowest task */
        const isw_stats_slice_t *first = &s->slices[idx[a]];
        for (size_t i = a; i < b; i++) {
            const isw_stats_slice_t *sl = &s->slices[idx[i]];
            x[i - a] = sl->scale;
            yb[i - a] = sl->edges.boundary.found ? sl->edges.boundary.value : NAN;
            yd[i - a] = sl->edges.diverge.found ? sl->edges.diverge.value : NAN;
            rb[i - a] = sl->edges.boundary.hi / sl->edges.boundary.lo;
            rd[i - a] = sl->edges.diverge.hi / sl->edges.diverge.lo;
        }
        for (int e = 0; e < 2; e++) {
            isw_stats_fitrow_t *row = &s->fits[s->nfits++];
            row->run = first->run;
            row->first_task = first->first_task;
            row->edge = e;
            st = isw_stats_fit_edges(&row->fit, x, e == 0 ? yb : yd, e == 0 ? rb : rd, b - a,
                                     s->fit_lo, s->fit_hi);
            if (st != ISW_OK) {
                isw_error_set(err, st, "", 0, "out of memory");
                goto out;
            }
        }
        a = b;
    }
    if (order_by_first_task(s->fits, s->nfits, sizeof *s->fits,
                            offsetof(isw_stats_fitrow_t, first_task)) != ISW_OK)
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
out:
    free(idx);
    free(buf);
    return st;
}

const char *const isw_stats_fit_axes[ISW_STATS_NFIT_AXES] = {"init.scale", "model.width",
                                                               "model.depth"};

/* ---- geometry planes ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorted distinct values of vals[0..n), in place; their count. */
static size_t unique_sorted(double *vals, size_t n)
{
    qsort(vals, n, sizeof *vals, cmp_double);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || vals[i] != vals[m - 1])
            vals[m++] = vals[i];
    return m;
}

static long index_of(const double *vals, size_t n, double v)
{
    const double *p = bsearch(&v, vals, n, sizeof *vals, cmp_double);
    return p ? (long)(p - vals) : -1;
}

static int cmp_cells_key(size_t a, size_t b, const void *ctx)
{
    const key_ctx_t *k = ctx;
    const isw_stats_cell_t *ca = &k->s->cells[a], *cb = &k->s->cells[b];
    int c = key_cmp(k, ca->run, cb->run);
    return c ? c : cmp_u64(ca->first_task, cb->first_task);
}

/* The mask and geometry of one plane: cells idx[0..n) of axes ax, ay. */
static int plane_geometry(isw_stats_georow_t *row, const isw_stats_t *s, const size_t *idx,
                          size_t n, int ax, int ay, const double *vx, const double *vy)
{
    double *xs = malloc((2 * n + 1) * sizeof *xs), *ys = xs ? xs + n : NULL;
    if (!xs)
        return ISW_ENOMEM;
    row->first_task = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        const isw_stats_cell_t *c = &s->cells[idx[i]];
        xs[i] = vx[idx[i]];
        ys[i] = vy[idx[i]];
        if (c->first_task < row->first_task) {
            row->first_task = c->first_task;
            row->run = c->run;
        }
    }
    size_t nx = unique_sorted(xs, n), ny = unique_sorted(ys, n);
    int st = ISW_OK;
    signed char *mask = NULL;
    if (nx < 2 || ny < 2 || nx > INT32_MAX / ny) {
        st = ISW_EINVAL;                 /* not a plane: left out */
        goto out;
    }
    if (!(mask = malloc(nx * ny))) {
        st = ISW_ENOMEM;
        goto out;
    }
    memset(mask, -1, nx * ny);
    for (size_t i = 0; i < n; i++) {
        const isw_stats_cell_t *c = &s->cells[idx[i]];
        long ix = index_of(xs, nx, vx[idx[i]]), iy = index_of(ys, ny, vy[idx[i]]);
        mask[(size_t)ix * ny + (size_t)iy] = c->converged.p >= 0.5;
    }
    row->axis_x = ax;
    row->axis_y = ay;
    st = isw_geo_compute(&row->geo, mask, (int)nx, (int)ny);
out:
    free(mask);
    free(xs);
    return st;
}

/* Every pair of axes with ISW_STATS_GEO_MIN_VALUES or more distinct numeric
 * values (seed aside), every plane of the other axes' values. */
static int compute_geometry(isw_stats_t *s, isw_error_t *err)
{
    const isw_runs_t *runs = s->runs;
    size_t n = s->ncells;
    int cand[ISW_MAX_AXES], nc = 0;
    double *vals[ISW_MAX_AXES] = {NULL};    /* per candidate: each cell's value */
    double *v = malloc((n + 1) * sizeof *v), *tmp = malloc((n + 1) * sizeof *tmp);
    size_t *idx = index_alloc(n);
    int st = ISW_OK;
    if (!v || !tmp || !idx) {
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
        goto out;
    }
    for (int a = 0; a < runs->naxes && a < ISW_MAX_AXES; a++) {
        if (a == s->seed_axis)
            continue;
        int numeric = 1;
        for (size_t i = 0; i < n && numeric; i++)
            numeric = isw_parse_finite(runs->runs[s->cells[i].run].values[a], &v[i]);
        if (!numeric)
            continue;
        memcpy(tmp, v, n * sizeof *tmp);
        if (unique_sorted(tmp, n) < ISW_STATS_GEO_MIN_VALUES)
            continue;
        vals[nc] = v;
        cand[nc++] = a;
        if (!(v = malloc((n + 1) * sizeof *v))) {
            st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
            goto out;
        }
    }
    size_t cap = 0;
    for (int p = 0; p < nc; p++)
        for (int q = p + 1; q < nc; q++) {
            key_ctx_t k = {s, {s->seed_axis, cand[p], cand[q], -1}};
            for (size_t i = 0; i < n; i++)
                idx[i] = i;
            if (merge_sort(idx, n, cmp_cells_key, &k) != ISW_OK) {
                st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
                goto out;
            }
            for (size_t a = 0; a < n;) {
                size_t b = cells_group_end(&k, idx, a, n);
                if (s->ngeo == cap) {
                    size_t nc2 = cap ? 2 * cap : 8;
                    isw_stats_georow_t *g = realloc(s->geo, nc2 * sizeof *g);
                    if (!g) {
                        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
                        goto out;
                    }
                    s->geo = g;
                    cap = nc2;
                }
                int gs = plane_geometry(&s->geo[s->ngeo], s, idx + a, b - a, cand[p], cand[q],
                                        vals[p], vals[q]);
                if (gs == ISW_OK)
                    s->ngeo++;
                else if (gs != ISW_EINVAL) {
                    st = isw_error_set(err, gs, "", 0, "geometry of %s x %s: %s",
                                       runs->axes[cand[p]], runs->axes[cand[q]],
                                       isw_strerror(gs));
                    goto out;
                }
                a = b;
            }
            /* this pair's planes in task order */
            size_t first = 0;
            while (first < s->ngeo && (s->geo[first].axis_x != cand[p] ||
                                       s->geo[first].axis_y != cand[q]))
                first++;
            if (order_by_first_task(s->geo + first, s->ngeo - first, sizeof *s->geo,
                                    offsetof(isw_stats_georow_t, first_task)) != ISW_OK) {
                st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
                goto out;
            }
        }
out:
    for (int p = 0; p < nc; p++)
        free(vals[p]);
    free(v);
    free(tmp);
    free(idx);
    return st;
}

int isw_stats_compute(isw_stats_t *s, const isw_runs_t *runs, const isw_stats_opts_t *opts,
                      isw_error_t *err)
{
    memset(s, 0, sizeof *s);
    s->runs = runs;
    s->seed_axis = s->lr_axis = s->scale_axis = -1;
    s->fit_lo = s->fit_hi = NAN;
    const char *axis = opts && opts->axis && opts->axis[0] ? opts->axis : NULL;
    if (opts) {
        s->fit_lo = opts->lo;
        s->fit_hi = opts->hi;
    }
    int fit_rank = ISW_STATS_NFIT_AXES;
    for (int i = 0; i < runs->naxes; i++) {
        if (strcmp(runs->axes[i], "seed") == 0)
            s->seed_axis = i;
        else if (strcmp(runs->axes[i], "train.lr") == 0)
            s->lr_axis = i;
        if (axis) {
            if (strcmp(runs->axes[i], axis) == 0)
                s->scale_axis = i;
            continue;
        }
        for (int f = 0; f < fit_rank; f++)
            if (strcmp(runs->axes[i], isw_stats_fit_axes[f]) == 0) {
                s->scale_axis = i;
                fit_rank = f;
            }
    }
    if (axis && (s->scale_axis < 0 || s->scale_axis == s->seed_axis ||
                 s->scale_axis == s->lr_axis))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "fit.axis: %s is not an axis of these runs other than train.lr "
                             "and seed", axis);
    int st = compute_cells(s, err);
    if (st == ISW_OK && s->lr_axis >= 0)
        st = compute_slices(s, err);
    if (st == ISW_OK && s->lr_axis >= 0 && s->scale_axis >= 0)
        st = compute_fits(s, err);
    if (st == ISW_OK)
        st = compute_geometry(s, err);
    if (st != ISW_OK)
        isw_stats_free(s);
    return st;
}

void isw_stats_free(isw_stats_t *s)
{
    if (!s)
        return;
    free(s->cells);
    if (s->slices)
        for (size_t i = 0; i < s->nslices; i++)
            free(s->slices[i].points);
    free(s->slices);
    free(s->fits);
    free(s->geo);
    memset(s, 0, sizeof *s);
}
