/* Stats: Clopper-Pearson intervals, quantiles, slice edges, power-law fits
 * and an end-to-end summarize of a small runs.csv. */
#include "check.h"
#include "initsweep/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

/* ---- Clopper-Pearson --------------------------------------------------- */

/* The interval's definition, solved by bisection on the binomial CDF:
 * lo: P(X >= k | lo) = tail, hi: P(X <= k | hi) = tail. */
static double bisect_cp(long k, long n, double tail, int upper)
{
    double a = 0, b = 1;
    for (int it = 0; it < 200; it++) {
        double m = 0.5 * (a + b);
        double f = upper ? gsl_cdf_binomial_P((unsigned)k, m, (unsigned)n)
                         : 1 - gsl_cdf_binomial_P((unsigned)(k - 1), m, (unsigned)n);
        /* upper: f falls with m; lower: f rises with m */
        if ((f > tail) == (upper != 0))
            a = m;
        else
            b = m;
    }
    return 0.5 * (a + b);
}

static void test_clopper_pearson(void)
{
    isw_stats_prop_t ci;
    CHECK_INT(isw_stats_clopper_pearson(&ci, 0, 10, 0.95), ISW_OK);
    CHECK_NEAR(ci.p, 0.0, 0);
    CHECK_NEAR(ci.lo, 0.0, 0);
    CHECK_NEAR(ci.hi, 1 - pow(0.025, 0.1), 1e-12);
    CHECK_NEAR(ci.hi, 0.30849710781876083, 1e-12);
    CHECK_INT(isw_stats_clopper_pearson(&ci, 10, 10, 0.95), ISW_OK);
    CHECK_NEAR(ci.p, 1.0, 0);
    CHECK_NEAR(ci.lo, pow(0.025, 0.1), 1e-12);
    CHECK_NEAR(ci.hi, 1.0, 0);
    /* n = 20, k = 7: R's binom.test(7, 20) gives [0.1539092, 0.5921885] */
    CHECK_INT(isw_stats_clopper_pearson(&ci, 7, 20, 0.95), ISW_OK);
    CHECK_NEAR(ci.p, 0.35, 1e-15);
    CHECK_NEAR(ci.lo, 0.1539092, 5e-7);
    CHECK_NEAR(ci.hi, 0.5921885, 5e-7);
    CHECK_NEAR(ci.lo, gsl_cdf_beta_Pinv(0.025, 7, 14), 1e-15);

    long cases[][2] = {{1, 2}, {7, 20}, {13, 20}, {1, 10}, {5, 8}, {3, 1000}, {500, 1000},
                       {1, 1}, {0, 1}, {49, 50}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        long k = cases[c][0], n = cases[c][1];
        CHECK_INT(isw_stats_clopper_pearson(&ci, k, n, 0.95), ISW_OK);
        if (k > 0)
            CHECK_NEAR(ci.lo, bisect_cp(k, n, 0.025, 0), 1e-9);
        if (k < n)
            CHECK_NEAR(ci.hi, bisect_cp(k, n, 0.025, 1), 1e-9);
        /* symmetry: the interval of n-k is the mirror image */
        isw_stats_prop_t m;
        CHECK_INT(isw_stats_clopper_pearson(&m, n - k, n, 0.95), ISW_OK);
        CHECK_NEAR(ci.lo, 1 - m.hi, 1e-12);
        CHECK_NEAR(ci.hi, 1 - m.lo, 1e-12);
        CHECK(ci.lo <= ci.p && ci.p <= ci.hi);
    }
    /* a 99 % interval is wider */
    isw_stats_prop_t w;
    CHECK_INT(isw_stats_clopper_pearson(&ci, 7, 20, 0.95), ISW_OK);
    CHECK_INT(isw_stats_clopper_pearson(&w, 7, 20, 0.99), ISW_OK);
    CHECK(w.lo < ci.lo && w.hi > ci.hi);
    CHECK_INT(isw_stats_clopper_pearson(&ci, 0, 0, 0.95), ISW_OK);
    CHECK(isnan(ci.p) && isnan(ci.lo) && isnan(ci.hi));
    CHECK_INT(isw_stats_clopper_pearson(&ci, 3, 2, 0.95), ISW_EINVAL);
    CHECK_INT(isw_stats_clopper_pearson(&ci, 1, 2, 1.5), ISW_EINVAL);
}

/* ---- quantiles ----------------------------------------------------------- */

static void test_quantiles(void)
{
    double a[] = {1, 2, 3, 4};
    CHECK_NEAR(isw_stats_quantile_sorted(a, 4, 0.25), 1.75, 1e-15);
    CHECK_NEAR(isw_stats_quantile_sorted(a, 4, 0.5), 2.5, 1e-15);
    CHECK_NEAR(isw_stats_quantile_sorted(a, 4, 0.75), 3.25, 1e-15);
    CHECK_NEAR(isw_stats_quantile_sorted(a, 4, 0.0), 1, 0);
    CHECK_NEAR(isw_stats_quantile_sorted(a, 4, 1.0), 4, 0);
    CHECK_NEAR(isw_stats_quantile_sorted(a, 1, 0.5), 1, 0);
    CHECK(isnan(isw_stats_quantile_sorted(a, 0, 0.5)));
    double b[] = {1, 2, INFINITY};
    CHECK_NEAR(isw_stats_quantile_sorted(b, 3, 0.5), 2, 0);
    CHECK(isinf(isw_stats_quantile_sorted(b, 3, 0.75)));
    double c[] = {1, INFINITY, INFINITY};
    CHECK(isinf(isw_stats_quantile_sorted(c, 3, 0.5)));  /* not NaN */
    CHECK(isinf(isw_stats_quantile_sorted(c, 3, 0.75)));
    CHECK(isinf(isw_stats_quantile_sorted(c, 3, 0.25)));

    /* finite samples: the same as GSL's type-7 quantile */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    double x[37];
    for (size_t n = 1; n <= 37; n += 4) {
        for (size_t i = 0; i < n; i++)
            x[i] = gsl_ran_gaussian(r, 3.0);
        gsl_sort(x, 1, n);
        for (double q = 0; q <= 1.0; q += 0.125)
            CHECK_NEAR(isw_stats_quantile_sorted(x, n, q),
                       gsl_stats_quantile_from_sorted_data(x, 1, n, q), 1e-12);
    }
    gsl_rng_free(r);
}

/* ---- edges --------------------------------------------------------------- */

static void set_points(isw_stats_point_t *p, size_t n, const double *lr, long runs,
                       const long *conv, const long *div)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (isw_stats_point_t){.lr = lr[i], .n = runs, .n_converged = conv[i],
                                   .n_diverged = div[i]};
}

/* The phase edges: first rises of p(loss rose) and p(sharpness rose) over
 * the points where runs say, c_max the last point before divergence. */
static void test_phase_edges(void)
{
    const double lr[6] = {1, 2, 3, 4, 5, 6};
    const long conv[6] = {4, 4, 4, 4, 0, 0}, div[6] = {0, 0, 0, 0, 4, 4};
    isw_stats_point_t p[6];
    set_points(p, 6, lr, 4, conv, div);
    /* loss: 0, 0, 1, 3, 4, 4 of 4 rose: p passes 1/2 between lr 3 (1/4)
     * and lr 4 (3/4), half way in log lr */
    const long lup[6] = {0, 0, 1, 3, 4, 4};
    /* sharpness: probed at lr 1, 2 and 5, 6 only (none between), 0, 1, 4, 4
     * of 4 rose: bracketed by the known points 2 and 5 */
    const long sup[6] = {0, 1, 0, 0, 4, 4}, sknown[6] = {4, 4, 0, 0, 4, 4};
    for (int i = 0; i < 6; i++) {
        p[i].n_loss_up = lup[i];
        p[i].n_loss_known = 4;
        p[i].n_sharp_up = sup[i];
        p[i].n_sharp_known = sknown[i];
    }
    isw_stats_edges_t e;
    CHECK_INT(isw_stats_slice_edges(&e, p, 6), ISW_OK);
    CHECK(e.loss.found);
    CHECK_NEAR(e.loss.lo, 3, 0);
    CHECK_NEAR(e.loss.hi, 4, 0);
    CHECK_NEAR(e.loss.value, exp(0.5 * (log(3) + log(4))), 1e-12);
    CHECK_INT(e.loss.crossings, 1);
    CHECK(e.sharp.found);
    CHECK_INT(e.sharp.ilo, 1);
    CHECK_INT(e.sharp.ihi, 4);
    CHECK_NEAR(e.sharp.lo, 2, 0);
    CHECK_NEAR(e.sharp.hi, 5, 0);
    /* p 1/4 -> 1: t = (0.25 - 0.5) / (0.25 - 1) = 1/3 of the way in log lr */
    CHECK_NEAR(e.sharp.value, exp(log(2) + (log(5) - log(2)) / 3), 1e-12);
    CHECK_NEAR(e.diverge.lo, 4, 0);   /* c_max */
    /* nobody probed: no edge, not an edge below the range */
    for (int i = 0; i < 6; i++)
        p[i].n_sharp_up = p[i].n_sharp_known = 0;
    CHECK_INT(isw_stats_slice_edges(&e, p, 6), ISW_OK);
    CHECK(!e.sharp.found);
    CHECK_INT(e.sharp.where, ISW_EDGE_NONE);
    /* risen from the first point: below the range */
    p[0].n_loss_up = 4;
    CHECK_INT(isw_stats_slice_edges(&e, p, 6), ISW_OK);
    CHECK_INT(e.loss.where, ISW_EDGE_BELOW);
    CHECK(!e.loss.found);
    CHECK_INT(e.loss.crossings, 2);
    /* more risen than known is refused */
    p[0].n_loss_up = 5;
    CHECK_INT(isw_stats_slice_edges(&e, p, 6), ISW_EINVAL);
}

static void test_edges(void)
{
    isw_stats_point_t p[8];
    isw_stats_edges_t e;

    /* one clean edge each */
    double lr4[] = {1e-3, 1e-2, 1e-1, 1};
    long c1[] = {4, 4, 1, 0}, d1[] = {0, 0, 2, 4};
    set_points(p, 4, lr4, 4, c1, d1);
    CHECK_INT(isw_stats_slice_edges(&e, p, 4), ISW_OK);
    CHECK(e.stable_found);
    CHECK_NEAR(e.stable_min, 1e-3, 0);
    CHECK_NEAR(e.stable_max, 1e-2, 0);
    CHECK_INT(e.istable_min, 0);
    CHECK_INT(e.istable_max, 1);
    CHECK(e.boundary.found && e.boundary.where == ISW_EDGE_IN_RANGE);
    /* p falls 1 -> 0.25: passes 0.5 at t = 0.5/0.75 = 2/3 of the log step */
    CHECK_NEAR(e.boundary.value, pow(10, -2 + 2.0 / 3.0), 1e-15);
    CHECK_NEAR(e.boundary.lo, 1e-2, 0);
    CHECK_NEAR(e.boundary.hi, 1e-1, 0);
    CHECK_INT(e.boundary.ilo, 1);
    CHECK_INT(e.boundary.ihi, 2);
    CHECK_INT(e.boundary.crossings, 1);
    /* p_diverged 0, 0, 0.5, 1: reaches 0.5 exactly at the point 0.1 */
    CHECK(e.diverge.found);
    CHECK_NEAR(e.diverge.value, 0.1, 1e-16);
    CHECK_INT(e.diverge.ilo, 1);
    CHECK_INT(e.diverge.crossings, 1);

    /* several crossings: the first one is the edge, all are counted */
    double lr5[] = {1, 2, 4, 8, 16};
    long c2[] = {2, 0, 2, 0, 2}, d2[] = {0, 2, 0, 2, 0};
    set_points(p, 5, lr5, 2, c2, d2);
    CHECK_INT(isw_stats_slice_edges(&e, p, 5), ISW_OK);
    CHECK_INT(e.boundary.crossings, 4);
    CHECK_INT(e.diverge.crossings, 4);
    CHECK_NEAR(e.boundary.value, sqrt(2.0), 1e-15);  /* halfway in log between 1 and 2 */
    CHECK_NEAR(e.diverge.value, sqrt(2.0), 1e-15);
    CHECK_NEAR(e.stable_min, 1, 0);
    CHECK_NEAR(e.stable_max, 1, 0);

    /* the converged range starts above the lowest lr */
    long c3[] = {0, 3, 3, 1, 0}, d3[] = {0, 0, 0, 0, 1};
    set_points(p, 5, lr5, 3, c3, d3);
    CHECK_INT(isw_stats_slice_edges(&e, p, 5), ISW_OK);
    CHECK_NEAR(e.stable_min, 2, 0);
    CHECK_NEAR(e.stable_max, 4, 0);
    CHECK_INT(e.boundary.crossings, 2);
    /* 1 -> 1/3: t = 0.5 / (2/3) = 0.75 */
    CHECK_NEAR(e.boundary.value, exp(log(4) + 0.75 * log(2)), 1e-14);
    CHECK(!e.diverge.found && e.diverge.where == ISW_EDGE_ABOVE);
    CHECK(isnan(e.diverge.value) && isnan(e.diverge.lo) && e.diverge.ilo == -1);
    CHECK_INT(e.diverge.crossings, 0);

    /* everything converges: boundary above the range */
    long c4[] = {3, 3, 3}, d4[] = {0, 0, 0};
    set_points(p, 3, lr5, 3, c4, d4);
    CHECK_INT(isw_stats_slice_edges(&e, p, 3), ISW_OK);
    CHECK(!e.boundary.found && e.boundary.where == ISW_EDGE_ABOVE);
    CHECK(isnan(e.boundary.value));
    CHECK_NEAR(e.stable_max, 4, 0);
    CHECK(e.diverge.where == ISW_EDGE_ABOVE);

    /* already diverged at the lowest lr: diverge edge below the range, even
     * when p_diverged dips and rises again; nothing converges */
    long c5[] = {0, 0, 0, 0}, d5[] = {3, 1, 3, 3};
    set_points(p, 4, lr5, 3, c5, d5);
    CHECK_INT(isw_stats_slice_edges(&e, p, 4), ISW_OK);
    CHECK(!e.diverge.found && e.diverge.where == ISW_EDGE_BELOW);
    CHECK_INT(e.diverge.crossings, 2);
    CHECK(!e.boundary.found && e.boundary.where == ISW_EDGE_BELOW);
    CHECK(!e.stable_found && isnan(e.stable_min) && e.istable_min == -1);

    /* a single point; no point; unsorted or inconsistent points */
    CHECK_INT(isw_stats_slice_edges(&e, p, 1), ISW_OK);
    CHECK_INT(e.boundary.crossings + e.diverge.crossings, 0);
    CHECK_INT(isw_stats_slice_edges(&e, p, 0), ISW_OK);
    CHECK(e.boundary.where == ISW_EDGE_NONE && e.diverge.where == ISW_EDGE_NONE);
    double lrbad[] = {1, 4, 2};
    set_points(p, 3, lrbad, 3, c4, d4);
    CHECK_INT(isw_stats_slice_edges(&e, p, 3), ISW_EINVAL);
    set_points(p, 3, lr5, 3, c4, d4);
    p[1].n_diverged = 1;  /* 3 converged + 1 diverged of 3 runs */
    CHECK_INT(isw_stats_slice_edges(&e, p, 3), ISW_EINVAL);

    /* lr = 0 in the bracket: linear interpolation */
    double lr0[] = {0, 1};
    long c6[] = {2, 0}, d6[] = {0, 2};
    set_points(p, 2, lr0, 2, c6, d6);
    CHECK_INT(isw_stats_slice_edges(&e, p, 2), ISW_OK);
    CHECK_NEAR(e.boundary.value, 0.5, 1e-15);

    /* p_diverged reaches exactly 0.5 at the upper point: the edge is that lr
     * itself, not exp(log(0.1)) = 0.10000000000000002 past its bracket (a
     * fuzzed runs.csv, tests/fuzz/corpus/stats/regress-edge-at-bracket) */
    double lr7[] = {0.01, 0.1};
    long c7[] = {2, 1}, d7[] = {0, 1};
    set_points(p, 2, lr7, 2, c7, d7);
    CHECK_INT(isw_stats_slice_edges(&e, p, 2), ISW_OK);
    CHECK(e.diverge.found);
    CHECK(e.diverge.value == 0.1);
    CHECK(e.diverge.value <= e.diverge.hi && e.diverge.value >= e.diverge.lo);
}

/* ---- fits ------------------------------------------------------------------ */

static void test_fits(void)
{
    isw_stats_fit_t f;
    double s[] = {0.25, 0.5, 1, 2, 4}, lr[5];
    for (int i = 0; i < 5; i++)
        lr[i] = 3 * pow(s[i], -4);
    CHECK_INT(isw_stats_fit_loglog(&f, s, lr, 5), ISW_OK);
    CHECK_INT(f.n, 5);
    CHECK_NEAR(f.slope, -4, 1e-12);
    CHECK_NEAR(f.intercept, log(3), 1e-12);
    CHECK_NEAR(f.r2, 1, 1e-12);
    CHECK_NEAR(f.slope_se, 0, 1e-7);

    /* undefined edges (NaN) and non-positive scales drop out */
    double lr2[] = {NAN, lr[1], NAN, lr[3], lr[4]}, s2[] = {0.25, 0.5, 1, 2, 0};
    CHECK_INT(isw_stats_fit_loglog(&f, s2, lr2, 5), ISW_OK);
    CHECK_INT(f.n, 2);
    CHECK_NEAR(f.slope, -4, 1e-12);
    CHECK(isnan(f.slope_se));  /* n < 3 */
    CHECK_NEAR(f.r2, 1, 1e-12);
    CHECK_INT(isw_stats_fit_loglog(&f, s, lr2, 1), ISW_OK);
    CHECK(f.n == 0 && isnan(f.slope) && isnan(f.intercept) && isnan(f.r2));
    double one[] = {1, 1, 1}, same[] = {2, 3, 4};
    CHECK_INT(isw_stats_fit_loglog(&f, one, same, 3), ISW_OK);  /* no spread in x */
    CHECK(f.n == 3 && isnan(f.slope));

    /* noisy: against gsl_fit_linear on the logs and r2 by hand */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    double x[12], y[12], lx[12], ly[12];
    for (int i = 0; i < 12; i++) {
        x[i] = pow(2, 0.5 * i - 3);
        y[i] = 0.7 * pow(x[i], -1.8) * exp(gsl_ran_gaussian(r, 0.2));
        lx[i] = log(x[i]);
        ly[i] = log(y[i]);
    }
    gsl_rng_free(r);
    CHECK_INT(isw_stats_fit_loglog(&f, x, y, 12), ISW_OK);
    double c0, c1, v00, v01, v11, ss;
    CHECK_INT(gsl_fit_linear(lx, 1, ly, 1, 12, &c0, &c1, &v00, &v01, &v11, &ss), GSL_SUCCESS);
    double my = gsl_stats_mean(ly, 1, 12), tss = 0, mx = gsl_stats_mean(lx, 1, 12), sxx = 0;
    for (int i = 0; i < 12; i++) {
        tss += (ly[i] - my) * (ly[i] - my);
        sxx += (lx[i] - mx) * (lx[i] - mx);
    }
    CHECK_NEAR(f.slope, c1, 1e-14);
    CHECK_NEAR(f.intercept, c0, 1e-14);
    /* OLS standard error: sqrt(SSres / (n - 2) / Sxx) */
    CHECK_NEAR(f.slope_se, sqrt(ss / 10 / sxx), 1e-12);
    CHECK_NEAR(f.r2, 1 - ss / tss, 1e-14);
    CHECK(fabs(f.slope + 1.8) < 0.3 && f.r2 > 0.9 && f.r2 < 1);
}

/* An edge known to a bracket of ratio res: the value anywhere inside it
 * (uniform in ln), as refinement leaves it. */
static double bracketed(gsl_rng *r, double v, double res)
{
    return v * exp((gsl_rng_uniform(r) - 0.5) * log(res));
}

static void test_piecewise_fits(void)
{
    isw_stats_fit_t f;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    double x[9], y[9], res[9];
    for (int i = 0; i < 9; i++) {
        x[i] = pow(2, i - 4);     /* 1/16 .. 16 */
        res[i] = 1.02;
    }

    /* exact laws (the homogeneous scale law's -2, -4, -6) stay one line,
     * whatever the bracket noise: the floor keeps the hinge from fitting it */
    for (int law = 1; law <= 3; law++)
        for (int rep = 0; rep < 20; rep++) {
            for (int i = 0; i < 9; i++)
                y[i] = bracketed(r, 0.3 * pow(x[i], -2.0 * law), res[i]);
            CHECK_INT(isw_stats_fit_edges(&f, x, y, res, 9, NAN, NAN), ISW_OK);
            CHECK_INT(f.model, ISW_FIT_LINE);
            CHECK_NEAR(f.slope, -2.0 * law, 0.01);
            CHECK(isnan(f.knee) && f.x_min == x[0] && f.x_max == x[8]);
            CHECK(f.rmse < log(1.02) && f.r2 > 0.9999);
        }
    /* exact data without brackets: no floor, still a line */
    for (int i = 0; i < 9; i++)
        y[i] = 2 * pow(x[i], -1.5);
    CHECK_INT(isw_stats_fit_edges(&f, x, y, NULL, 9, NAN, NAN), ISW_OK);
    CHECK(f.model == ISW_FIT_LINE && fabs(f.slope + 1.5) < 1e-12);

    /* flat up to 2, then slope -1.8 (the quickstart's shape), 3 % noise:
     * the hinge, its knee's interval around 2, the slope of the law part */
    int hits = 0;
    for (int rep = 0; rep < 40; rep++) {
        for (int i = 0; i < 9; i++)
            y[i] = 1.2 * pow(fmax(x[i], 2) / 2, -1.8) * exp(gsl_ran_gaussian(r, 0.03));
        CHECK_INT(isw_stats_fit_edges(&f, x, y, res, 9, NAN, NAN), ISW_OK);
        CHECK_INT(f.model, ISW_FIT_FLAT_POWER);
        CHECK(f.knee_lo <= f.knee && f.knee <= f.knee_hi);
        CHECK(f.knee_lo > 0.5 && f.knee_hi < 8);
        hits += f.knee_lo <= 2 && 2 <= f.knee_hi;
        CHECK(fabs(f.slope + 1.8) < 4 * f.slope_se + 0.05);
        CHECK(f.x_min == f.knee && f.x_max == 16);
        /* the law part's line meets the flat part at the knee */
        CHECK_NEAR(f.intercept + f.slope * log(f.knee), log(1.2), 0.1);
        /* the one line through it all is what the hinge replaces */
        isw_stats_fit_t line;
        CHECK_INT(isw_stats_fit_loglog(&line, x, y, 9), ISW_OK);
        CHECK(line.r2 < f.r2 && line.slope > f.slope);
    }
    CHECK(hits >= 34);   /* a 95 % interval: at most a few misses of 40 */

    /* mirrored: a power law up to 1/2, flat above */
    for (int i = 0; i < 9; i++)
        y[i] = 0.5 * pow(fmin(x[i], 0.5) / 0.5, 1.3) * exp(gsl_ran_gaussian(r, 0.02));
    CHECK_INT(isw_stats_fit_edges(&f, x, y, res, 9, NAN, NAN), ISW_OK);
    CHECK_INT(f.model, ISW_FIT_POWER_FLAT);
    CHECK(f.knee_lo <= 0.5 && 0.5 <= f.knee_hi && fabs(f.slope - 1.3) < 0.15);
    CHECK(f.x_min == x[0] && f.x_max == f.knee);

    /* a valley: no power law, and no numbers that pretend one */
    for (int i = 0; i < 9; i++)
        y[i] = exp(0.5 * log(x[i]) * log(x[i]));
    CHECK_INT(isw_stats_fit_edges(&f, x, y, res, 9, NAN, NAN), ISW_OK);
    CHECK_INT(f.model, ISW_FIT_NONE);
    CHECK(f.n == 9 && isnan(f.slope) && isnan(f.knee) && f.rmse > log(1.25) && f.r2 < 0.9);

    /* fit.range: the line over the points inside it only */
    for (int i = 0; i < 9; i++)
        y[i] = 1.2 * pow(fmax(x[i], 2) / 2, -1.8);
    CHECK_INT(isw_stats_fit_edges(&f, x, y, res, 9, 2, 16), ISW_OK);
    CHECK(f.model == ISW_FIT_LINE && f.n == 4 && f.x_min == 2 && f.x_max == 16);
    CHECK_NEAR(f.slope, -1.8, 1e-12);
    CHECK_INT(isw_stats_fit_edges(&f, x, y, res, 9, 20, 30), ISW_OK);   /* nothing inside */
    CHECK(f.model == ISW_FIT_NONE && f.n == 0);

    /* four points: too few for a hinge (3 parameters, 1 left); a kinked
     * shape is then no power law at all, a law with noise is a line */
    CHECK_INT(isw_stats_fit_edges(&f, x + 3, y + 3, res, 4, NAN, NAN), ISW_OK);
    CHECK_INT(f.model, ISW_FIT_NONE);
    for (int i = 0; i < 4; i++)
        y[i] = 0.1 * pow(x[i], 1.0) * exp(gsl_ran_gaussian(r, 0.05));
    CHECK_INT(isw_stats_fit_edges(&f, x, y, res, 4, NAN, NAN), ISW_OK);
    CHECK(f.model == ISW_FIT_LINE && fabs(f.slope - 1) < 0.2);
    CHECK(strcmp(isw_fit_model_name(ISW_FIT_FLAT_POWER), "flat_power") == 0 &&
          strcmp(isw_fit_model_name(ISW_FIT_NONE), "none") == 0);
    gsl_rng_free(r);
}

/* ---- end to end --------------------------------------------------------------- */

/* A CSV file as rows of fields (quote-aware), for checking outputs. */
typedef struct {
    int nrows, ncols;
    char *f[64][48];
    char *text;
} table_t;

static int table_read(table_t *t, const char *path)
{
    memset(t, 0, sizeof *t);
    FILE *in = fopen(path, "rb");
    if (!in)
        return 0;
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    t->text = malloc((size_t)n + 1);
    size_t got = fread(t->text, 1, (size_t)n, in);
    t->text[got] = '\0';
    fclose(in);
    char *p = t->text;
    while (*p && t->nrows < 64) {
        int c = 0;
        for (;;) {
            char *out = p, *start = p;
            if (*p == '"') {
                start = out = ++p;
                while (*p && !(*p == '"' && p[1] != '"')) {
                    if (*p == '"')
                        p++;
                    *out++ = *p++;
                }
                p++;
            } else {
                while (*p && *p != ',' && *p != '\n')
                    *out++ = *p++;
            }
            char sep = *p;
            *out = '\0';
            if (c < 48)
                t->f[t->nrows][c++] = start;
            if (sep == ',') {
                p++;
                continue;
            }
            if (sep == '\n')
                p++;
            break;
        }
        if (t->nrows == 0)
            t->ncols = c;
        else if (c != t->ncols)
            return 0;
        t->nrows++;
    }
    return 1;
}

static const char *cell(const table_t *t, int row, const char *col)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->f[0][c], col) == 0)
            return row < t->nrows ? t->f[row][c] : NULL;
    return NULL;
}

static double num(const table_t *t, int row, const char *col)
{
    const char *s = cell(t, row, col);
    if (!s)
        return -12345;  /* a missing column fails any comparison below */
    return *s ? strtod(s, NULL) : NAN;
}

#define C 0 /* converged */
#define D 1 /* diverged */
#define S 3 /* saturated */

/* axes: model.hidden (1 value), init.scale (1, 2, 4), train.lr (0.01, 0.1, 1),
 * seed (0, 1); task = ((scale * 3) + lr) * 2 + seed, plus two refinement
 * probes at lr 0.3 for scale 1 with ids above the grid. */
typedef struct {
    uint64_t task;
    const char *scale, *lr, *seed;
    int outcome;
    double loss;
    int epochs;
} row_t;

static const row_t ROWS[] = {
    {0, "1", "0.01", "0", C, 0.1, 10}, {1, "1", "0.01", "1", C, 0.3, 12},
    {2, "1", "0.1", "0", C, 0.2, 5},   {3, "1", "0.1", "1", C, 0.2, 7},
    {4, "1", "1", "0", D, NAN, 1},     {5, "1", "1", "1", D, INFINITY, 2},
    {6, "2", "0.01", "0", C, 0.1, 9},  {7, "2", "0.01", "1", D, NAN, 3},
    {8, "2", "0.1", "0", D, NAN, 1},   {9, "2", "0.1", "1", D, NAN, 1},
    {10, "2", "1", "0", D, NAN, 1},    {11, "2", "1", "1", D, NAN, 1},
    {12, "4", "0.01", "0", C, 0.4, 20}, {13, "4", "0.01", "1", C, 0.5, 20},
    {14, "4", "0.1", "0", D, NAN, 1},  {15, "4", "0.1", "1", D, NAN, 1},
    {16, "4", "1", "0", D, NAN, 1},    {17, "4", "1", "1", S, 2.5, 30},
    {1000, "1", "0.3", "0", C, 0.25, 8}, {1001, "1", "0.3", "1", C, 0.35, 9},
};
#define NROWS (sizeof ROWS / sizeof ROWS[0])

static void write_runs(const char *dir, const size_t *order, const char *bad_lr)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    FILE *f = fopen(path, "wb");
    fputs("task,model.hidden,init.scale,train.lr,seed", f);
    for (int k = 0; k < ISW_RECORD_NCOLUMNS; k++)
        fprintf(f, ",%s", isw_record_columns[k].name);
    fputc('\n', f);
    for (size_t i = 0; i < NROWS; i++) {
        const row_t *r = &ROWS[order[i]];
        isw_record_t rec;
        isw_record_init(&rec, r->task);
        rec.outcome = r->outcome;
        rec.loss_final = r->loss;
        rec.epochs = r->epochs;
        const char *v[4] = {"[16, 16]", r->scale, bad_lr && i == 5 ? bad_lr : r->lr, r->seed};
        char line[1024];
        if (isw_runs_format_line(line, sizeof line, v, 4, &rec) > 0)
            fputs(line, f);
    }
    fclose(f);
}

static char *slurp(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *in = fopen(path, "rb");
    if (!in)
        return NULL;
    char *s = calloc(1, 1 << 16);
    size_t n = fread(s, 1, (1 << 16) - 1, in);
    s[n] = '\0';
    fclose(in);
    return s;
}

static void test_summarize(const char *dir)
{
    size_t order[NROWS];
    for (size_t i = 0; i < NROWS; i++)
        order[i] = i;
    write_runs(dir, order, NULL);
    isw_error_t err;
    isw_error_clear(&err);
    CHECK_INT(isw_stats_summarize(dir, NULL, &err), ISW_OK);
    if (err.text[0])
        isw_error_print(stderr, &err);

    char path[1024];
    table_t t;
    /* cells.csv: 10 cells, in grid order (first task) */
    snprintf(path, sizeof path, "%s/cells.csv", dir);
    CHECK(table_read(&t, path));
    CHECK_INT(t.nrows, 1 + 10);
    CHECK_STR(t.f[0][0], "model.hidden");
    CHECK_STR(t.f[0][1], "init.scale");
    CHECK_STR(t.f[0][2], "train.lr");
    CHECK_STR(t.f[0][3], "n");
    CHECK(cell(&t, 0, "seed") == NULL);
    CHECK(cell(&t, 0, "p_diverged_hi") != NULL);
    CHECK_STR(cell(&t, 1, "model.hidden"), "[16, 16]");
    const char *lrs[] = {"0.01", "0.1", "1", "0.01", "0.1", "1", "0.01", "0.1", "1", "0.3"};
    for (int i = 0; i < 10 && t.nrows == 11; i++)
        CHECK_STR(cell(&t, 1 + i, "train.lr"), lrs[i]);
    /* scale 1, lr 0.01: two converged, losses 0.1 and 0.3 */
    CHECK_NEAR(num(&t, 1, "n"), 2, 0);
    CHECK_NEAR(num(&t, 1, "converged"), 2, 0);
    CHECK_NEAR(num(&t, 1, "p_converged"), 1, 0);
    CHECK_NEAR(num(&t, 1, "p_converged_lo"), sqrt(0.025), 1e-12);
    CHECK_NEAR(num(&t, 1, "p_converged_hi"), 1, 0);
    CHECK_NEAR(num(&t, 1, "p_diverged"), 0, 0);
    CHECK_NEAR(num(&t, 1, "p_diverged_hi"), 1 - sqrt(0.025), 1e-12);
    CHECK_NEAR(num(&t, 1, "loss_median"), 0.2, 1e-15);
    CHECK_NEAR(num(&t, 1, "loss_q25"), 0.15, 1e-15);
    CHECK_NEAR(num(&t, 1, "loss_q75"), 0.25, 1e-15);
    CHECK_NEAR(num(&t, 1, "epochs_median"), 11, 0);
    /* scale 1, lr 1: both diverged, losses non-finite: +inf */
    CHECK_NEAR(num(&t, 3, "diverged"), 2, 0);
    CHECK_NEAR(num(&t, 3, "p_diverged_lo"), sqrt(0.025), 1e-12);
    CHECK_STR(cell(&t, 3, "loss_median"), "inf");
    CHECK_NEAR(num(&t, 3, "epochs_median"), 1.5, 0);
    /* scale 2, lr 0.01: one of each: every quantile but the 0th
     * interpolates towards the diverged run's +inf */
    CHECK_NEAR(num(&t, 4, "p_converged"), 0.5, 0);
    CHECK_STR(cell(&t, 4, "loss_q25"), "inf");
    CHECK_STR(cell(&t, 4, "loss_median"), "inf");
    /* scale 4, lr 1: one diverged, one saturated */
    CHECK_NEAR(num(&t, 9, "saturated"), 1, 0);
    CHECK_NEAR(num(&t, 9, "diverged"), 1, 0);
    CHECK_NEAR(num(&t, 9, "epochs_median"), 15.5, 0);
    /* the probe cell */
    CHECK_STR(cell(&t, 10, "init.scale"), "1");
    CHECK_NEAR(num(&t, 10, "loss_median"), 0.3, 1e-15);
    free(t.text);

    /* boundary.csv: one row per scale */
    snprintf(path, sizeof path, "%s/boundary.csv", dir);
    CHECK(table_read(&t, path));
    CHECK_INT(t.nrows, 4);
    CHECK(cell(&t, 0, "train.lr") == NULL && cell(&t, 0, "seed") == NULL);
    CHECK_STR(t.f[0][0], "model.hidden");
    CHECK_STR(cell(&t, 1, "init.scale"), "1");
    CHECK_STR(cell(&t, 2, "init.scale"), "2");
    CHECK_STR(cell(&t, 3, "init.scale"), "4");
    /* scale 1: converged at 0.01, 0.1, 0.3 (probe), diverged at 1 */
    CHECK_NEAR(num(&t, 1, "n_lr"), 4, 0);
    CHECK_NEAR(num(&t, 1, "lr_stable_min"), 0.01, 0);
    CHECK_NEAR(num(&t, 1, "lr_stable_max"), 0.3, 0);
    double b1 = sqrt(0.3);  /* p 1 -> 0: halfway in log between 0.3 and 1 */
    CHECK_NEAR(num(&t, 1, "lr_boundary"), b1, 1e-15);
    CHECK_NEAR(num(&t, 1, "lr_boundary_lo"), 0.3, 0);
    CHECK_NEAR(num(&t, 1, "lr_boundary_hi"), 1, 0);
    CHECK_NEAR(num(&t, 1, "lr_diverge"), b1, 1e-15);
    CHECK_NEAR(num(&t, 1, "crossings_boundary"), 1, 0);
    CHECK_NEAR(num(&t, 1, "crossings_diverge"), 1, 0);
    /* scale 2: p_converged 0.5 at 0.01 (still >= 0.5) then 0 -> edge at 0.01;
     * p_diverged already 0.5 at the lowest lr: below the range, empty */
    double b2 = 0.01;
    CHECK_NEAR(num(&t, 2, "lr_stable_max"), 0.01, 0);
    CHECK_NEAR(num(&t, 2, "lr_boundary"), b2, 0);
    CHECK_STR(cell(&t, 2, "lr_diverge"), "");
    CHECK_STR(cell(&t, 2, "lr_diverge_lo"), "");
    CHECK_STR(cell(&t, 2, "lr_diverge_hi"), "");
    CHECK_NEAR(num(&t, 2, "crossings_diverge"), 0, 0);
    /* scale 4: 1 -> 0 between 0.01 and 0.1 */
    double b4 = sqrt(0.001);
    CHECK_NEAR(num(&t, 3, "lr_boundary"), b4, 1e-16);
    CHECK_NEAR(num(&t, 3, "lr_diverge"), b4, 1e-16);
    CHECK_NEAR(num(&t, 3, "n_lr"), 3, 0);
    free(t.text);

    /* fit.csv: one group, boundary (3 points) and diverge (2 points) */
    snprintf(path, sizeof path, "%s/fit.csv", dir);
    CHECK(table_read(&t, path));
    CHECK_INT(t.nrows, 3);
    CHECK_INT(t.ncols, 15);
    CHECK_STR(t.f[0][0], "model.hidden");
    CHECK_STR(cell(&t, 1, "model.hidden"), "[16, 16]");
    CHECK_STR(cell(&t, 1, "axis"), "init.scale");
    CHECK_STR(cell(&t, 1, "edge"), "boundary");
    CHECK_STR(cell(&t, 2, "edge"), "diverge");
    double lx[3] = {0, log(2), log(4)}, ly[3] = {log(b1), log(b2), log(b4)};
    double c0, c1, v00, v01, v11, ss;
    gsl_fit_linear(lx, 1, ly, 1, 3, &c0, &c1, &v00, &v01, &v11, &ss);
    /* the boundary's three points are far from any line (rmse > ln 1.25,
     * r2 < 0.9): no power law, with the line's r2 and rmse to say how far */
    double my = (ly[0] + ly[1] + ly[2]) / 3, tss = 0;
    for (int i = 0; i < 3; i++)
        tss += (ly[i] - my) * (ly[i] - my);
    CHECK_NEAR(num(&t, 1, "n"), 3, 0);
    CHECK_STR(cell(&t, 1, "model"), "none");
    CHECK_STR(cell(&t, 1, "slope"), "");
    CHECK_STR(cell(&t, 1, "intercept"), "");
    CHECK_NEAR(num(&t, 1, "r2"), 1 - ss / tss, 1e-12);
    CHECK_NEAR(num(&t, 1, "rmse"), sqrt(ss / 3), 1e-12);
    CHECK(sqrt(ss / 3) > log(1.25) && 1 - ss / tss < 0.9);
    (void)c0, (void)c1, (void)v11;
    /* diverge: scales 1 and 4 only: slope = (ln b4 - ln b1) / ln 4 */
    CHECK_NEAR(num(&t, 2, "n"), 2, 0);
    CHECK_NEAR(num(&t, 2, "slope"), (log(b4) - log(b1)) / log(4), 1e-12);
    CHECK_STR(cell(&t, 2, "slope_se"), "");
    CHECK_NEAR(num(&t, 2, "r2"), 1, 1e-12);
    CHECK_STR(cell(&t, 2, "model"), "line");
    CHECK_NEAR(num(&t, 2, "x_min"), 1, 0);
    CHECK_NEAR(num(&t, 2, "x_max"), 4, 0);
    CHECK_STR(cell(&t, 2, "knee"), "");
    free(t.text);

    /* the same runs in another line order give the same files */
    char *cells = slurp(dir, "cells.csv"), *bnd = slurp(dir, "boundary.csv"),
         *fit = slurp(dir, "fit.csv");
    for (size_t i = 0; i < NROWS; i++)
        order[i] = (i * 7 + 3) % NROWS;  /* 7 is coprime with 20 */
    write_runs(dir, order, NULL);
    CHECK_INT(isw_stats_summarize(dir, NULL, &err), ISW_OK);
    char *cells2 = slurp(dir, "cells.csv"), *bnd2 = slurp(dir, "boundary.csv"),
         *fit2 = slurp(dir, "fit.csv");
    CHECK_STR(cells2, cells);
    CHECK_STR(bnd2, bnd);
    CHECK_STR(fit2, fit);
    free(cells);
    free(bnd);
    free(fit);
    free(cells2);
    free(bnd2);
    free(fit2);

    /* a learning rate that is not a number: file:line of the run */
    write_runs(dir, order, "fast");
    CHECK_INT(isw_stats_summarize(dir, NULL, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.file, "runs.csv");
    CHECK_INT(err.line, 7);
    CHECK_CONTAINS(err.text, "train.lr");
    CHECK_CONTAINS(err.text, "fast");
}

/* Without train.lr / init.scale axes: boundary and fit are header-only. */
static void test_summarize_no_lr(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    FILE *f = fopen(path, "wb");
    fputs("task,init.dist,seed", f);
    for (int k = 0; k < ISW_RECORD_NCOLUMNS; k++)
        fprintf(f, ",%s", isw_record_columns[k].name);
    fputc('\n', f);
    const char *dist[] = {"uniform", "uniform", "normal", "normal", "normal"};
    const int seed[] = {0, 1, 0, 1, 2}, outc[] = {C, D, C, C, S};
    for (int i = 0; i < 5; i++) {
        isw_record_t rec;
        isw_record_init(&rec, (uint64_t)i);
        rec.outcome = outc[i];
        rec.loss_final = 0.5 + i;
        char sd[8];
        snprintf(sd, sizeof sd, "%d", seed[i]);
        const char *v[2] = {dist[i], sd};
        char line[1024];
        if (isw_runs_format_line(line, sizeof line, v, 2, &rec) > 0)
            fputs(line, f);
    }
    fclose(f);
    isw_error_t err;
    CHECK_INT(isw_stats_summarize(dir, NULL, &err), ISW_OK);
    table_t t;
    snprintf(path, sizeof path, "%s/cells.csv", dir);
    CHECK(table_read(&t, path));
    CHECK_INT(t.nrows, 3);
    CHECK_STR(cell(&t, 1, "init.dist"), "uniform");
    CHECK_STR(cell(&t, 2, "init.dist"), "normal");
    CHECK_NEAR(num(&t, 2, "n"), 3, 0);
    CHECK_NEAR(num(&t, 2, "p_converged"), 2.0 / 3.0, 1e-15);
    CHECK_NEAR(num(&t, 2, "p_converged_lo"), gsl_cdf_beta_Pinv(0.025, 2, 2), 1e-15);
    CHECK_NEAR(num(&t, 2, "p_converged_hi"), gsl_cdf_beta_Pinv(0.975, 3, 1), 1e-15);
    CHECK_NEAR(num(&t, 2, "loss_median"), 3.5, 1e-15);
    free(t.text);
    snprintf(path, sizeof path, "%s/boundary.csv", dir);
    CHECK(table_read(&t, path));
    CHECK_INT(t.nrows, 1);
    CHECK_STR(t.f[0][0], "init.dist");
    free(t.text);
    snprintf(path, sizeof path, "%s/fit.csv", dir);
    CHECK(table_read(&t, path));
    CHECK_INT(t.nrows, 1);
    CHECK_STR(t.f[0][1], "axis");
    CHECK_STR(t.f[0][2], "edge");
    free(t.text);
}

int main(void)
{
    gsl_set_error_handler_off();
    test_clopper_pearson();
    test_quantiles();
    test_edges();
    test_phase_edges();
    test_fits();
    test_piecewise_fits();
    char dir[] = "/tmp/isw_test_stats_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_summarize(dir);
    test_summarize_no_lr(dir);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return CHECK_DONE();
}
