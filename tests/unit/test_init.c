/* Tests of weight initialisation: moments of every family against theory
 * (within 4 standard errors), ranges, fan-based variances with each layer's
 * fans, the mean offset, exact power-of-two scaling, paired draws across
 * families, init.bias: zero, and seeding. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_statistics_double.h>

#include "initsweep/init.h"

/* 200 -> 300 -> 50 with bias: W_0 is (300, 200), 60000 weights with
 * fan_in 200, fan_out 300; W_1 is (50, 300), 15000 weights with fan_in 300,
 * fan_out 50. */
static int alloc_net(isw_mlp_t *net, isw_prec_t prec)
{
    isw_model_spec_t m;
    memset(&m, 0, sizeof m);
    m.nhidden = 1;
    m.hidden[0] = 300;
    m.activation = ISW_ACT_RELU;
    m.output = ISW_OUT_SOFTMAX;
    m.loss = ISW_LOSS_CROSS_ENTROPY;
    m.bias = 1;
    return isw_mlp_alloc(net, &m, 200, 50, prec, 1);
}

static isw_init_spec_t spec(isw_dist_t dist, double scale)
{
    isw_init_spec_t s = {.dist = dist, .scale = scale, .mean = 0, .bias = ISW_BIAS_SAME,
                         .bias_scale = 1, .last_dist = 0, .last_scale = 1,
                         .sigma_w2 = NAN, .sigma_b2 = NAN};
    return s;
}

/* Parameters of net drawn with init on the run's stream for (base, seed). */
static void draw(isw_mlp_t *net, const isw_init_spec_t *init, uint64_t base, uint64_t seed,
                 double *scratch, double *theta)
{
    gsl_rng *r = isw_init_rng(base, seed, ISW_STREAM_INIT);
    CHECK(r != NULL);
    isw_init_params(net, 0, init, r, scratch);
    gsl_rng_free(r);
    isw_mlp_params_get(net, theta);
}

/* Theoretical variance of the family at scale s for the given fans,
 * written independently of init.c. */
static double theory_var(isw_dist_t d, double s, double fi, double fo)
{
    double pi = acos(-1.0);
    switch (d) {
    case ISW_DIST_UNIFORM: return s * s / 3;                 /* (2s)^2 / 12 */
    case ISW_DIST_UNIFORM_POSITIVE: return s * s / 12;
    case ISW_DIST_NORMAL: return s * s;
    case ISW_DIST_TRUNCATED_NORMAL: {
        double phi2 = exp(-2.0) / sqrt(2 * pi), mass = erf(sqrt(2.0));
        return s * s * (1 - 4 * phi2 / mass);
    }
    case ISW_DIST_XAVIER_UNIFORM: return s * s * (6 / (fi + fo)) / 3;
    case ISW_DIST_XAVIER_NORMAL: return s * s * 2 / (fi + fo);
    case ISW_DIST_HE_UNIFORM: return s * s * (6 / fi) / 3;
    case ISW_DIST_HE_NORMAL: return s * s * 2 / fi;
    case ISW_DIST_LECUN_UNIFORM: return s * s * (3 / fi) / 3;
    case ISW_DIST_LECUN_NORMAL: return s * s / fi;
    case ISW_DIST_ZERO: return 0;
    }
    return NAN;
}

/* Half-width of the support of the family at scale s (inf: unbounded). */
static double theory_bound(isw_dist_t d, double s, double fi, double fo)
{
    switch (d) {
    case ISW_DIST_UNIFORM:
    case ISW_DIST_UNIFORM_POSITIVE: return s;
    case ISW_DIST_TRUNCATED_NORMAL: return 2 * s;
    case ISW_DIST_XAVIER_UNIFORM: return s * sqrt(6 / (fi + fo));
    case ISW_DIST_HE_UNIFORM: return s * sqrt(6 / fi);
    case ISW_DIST_LECUN_UNIFORM: return s * sqrt(3 / fi);
    case ISW_DIST_ZERO: return 0;
    default: return INFINITY;
    }
}

/* Sample mean and variance of w (n) within 4 standard errors of mu and var.
 * The standard error of the variance is sqrt((m4 - var^2) / n) with m4 the
 * sample fourth central moment. */
static int moments_ok(const double *w, size_t n, double mu, double var, const char *what)
{
    double mean = gsl_stats_mean(w, 1, n);
    double v = gsl_stats_variance(w, 1, n);
    double m4 = 0;
    for (size_t k = 0; k < n; k++) {
        double d = w[k] - mean;
        m4 += d * d * d * d;
    }
    m4 /= (double)n;
    double se_mean = sqrt(var / (double)n), se_var = sqrt(fmax(m4 - v * v, 0) / (double)n);
    int ok = fabs(mean - mu) <= 4 * se_mean && fabs(v - var) <= 4 * se_var;
    if (!ok)
        fprintf(stderr, "%s: mean %.6g (want %.6g, se %.3g), variance %.6g (want %.6g, se %.3g)\n",
                what, mean, mu, se_mean, v, var, se_var);
    return ok;
}

static const isw_dist_t families[] = {
    ISW_DIST_UNIFORM, ISW_DIST_UNIFORM_POSITIVE, ISW_DIST_NORMAL, ISW_DIST_TRUNCATED_NORMAL,
    ISW_DIST_XAVIER_UNIFORM, ISW_DIST_XAVIER_NORMAL, ISW_DIST_HE_UNIFORM, ISW_DIST_HE_NORMAL,
    ISW_DIST_LECUN_NORMAL, ISW_DIST_LECUN_UNIFORM, ISW_DIST_ZERO};
#define NFAMILIES (sizeof families / sizeof families[0])

static void test_families(void)
{
    isw_mlp_t net;
    CHECK_INT(alloc_net(&net, ISW_PREC_DOUBLE), ISW_OK);
    size_t n = net.nparams;
    CHECK_INT(n, 60000 + 300 + 15000 + 50);
    double *scratch = malloc(n * sizeof *scratch), *theta = malloc(n * sizeof *theta);
    const double s = 0.7;
    for (size_t f = 0; f < NFAMILIES; f++) {
        isw_dist_t d = families[f];
        isw_init_spec_t init = spec(d, s);
        draw(&net, &init, 42, 3, scratch, theta);
        for (int l = 0; l < 2; l++) {
            double fi = net.width[l], fo = net.width[l + 1];
            const double *w = theta + net.woff[l], *b = theta + net.boff[l];
            size_t nw = (size_t)(fi * fo), nb = (size_t)fo;
            double var = theory_var(d, s, fi, fo);
            double mu = d == ISW_DIST_UNIFORM_POSITIVE ? s / 2 : 0;
            char what[128];
            snprintf(what, sizeof what, "family %d layer %d", (int)d, l);
            if (d == ISW_DIST_ZERO) {
                int zero = 1;
                for (size_t k = 0; k < nw + nb; k++)
                    zero &= w[k] == 0;
                CHECK(zero);
            } else {
                CHECK(moments_ok(w, nw, mu, var, what));
            }
            double sd = isw_init_stddev(&init, (size_t)fi, (size_t)fo);
            CHECK_NEAR(sd * sd, var, 1e-12 * var);

            /* support, weights and (bias: same) biases alike */
            double bound = theory_bound(d, s, fi, fo);
            double lo = d == ISW_DIST_UNIFORM_POSITIVE ? 0 : -bound;
            int inside = 1;
            for (size_t k = 0; k < nw; k++)
                inside &= w[k] >= lo && (d == ISW_DIST_UNIFORM_POSITIVE ? w[k] < bound
                                                                         : w[k] <= bound);
            for (size_t k = 0; k < nb; k++)
                inside &= b[k] >= lo && b[k] <= bound;
            if (!inside)
                fprintf(stderr, "%s: a draw outside [%g, %g]\n", what, lo, bound);
            CHECK(inside);
            /* the bounded families come close to their bounds */
            if (isfinite(bound) && bound > 0) {
                double mx = gsl_stats_max(w, 1, nw);
                CHECK(mx > 0.99 * bound);
            }
        }
    }
    free(scratch);
    free(theta);
    isw_mlp_free(&net);
}

/* Spot values of the documented transforms. */
static void test_values(void)
{
    isw_init_spec_t u = spec(ISW_DIST_UNIFORM, 2);
    CHECK_NEAR(isw_init_value(&u, 0.75, 10, 20), 1, 0);
    CHECK_NEAR(isw_init_value(&u, 0.5, 10, 20), 0, 0);
    isw_init_spec_t up = spec(ISW_DIST_UNIFORM_POSITIVE, 2);
    CHECK_NEAR(isw_init_value(&up, 0.25, 10, 20), 0.5, 0);
    isw_init_spec_t nrm = spec(ISW_DIST_NORMAL, 3);
    /* Phi(1) = 0.841344746068543 */
    CHECK_NEAR(isw_init_value(&nrm, 0.841344746068543, 10, 20), 3, 1e-12);
    isw_init_spec_t tn = spec(ISW_DIST_TRUNCATED_NORMAL, 1);
    CHECK_NEAR(isw_init_value(&tn, 0.5, 10, 20), 0, 1e-15);
    CHECK_NEAR(isw_init_value(&tn, 1 - 1e-15, 10, 20), 2, 1e-9);
    CHECK_NEAR(isw_init_value(&tn, 1e-15, 10, 20), -2, 1e-9);
    isw_init_spec_t he = spec(ISW_DIST_HE_UNIFORM, 1);
    CHECK_NEAR(isw_init_value(&he, 1, 24, 7), 0.5, 1e-15);      /* sqrt(6/24) */
    isw_init_spec_t xu = spec(ISW_DIST_XAVIER_UNIFORM, 1);
    CHECK_NEAR(isw_init_value(&xu, 1, 10, 14), 0.5, 1e-15);     /* sqrt(6/24) */
    isw_init_spec_t lu = spec(ISW_DIST_LECUN_UNIFORM, 1);
    CHECK_NEAR(isw_init_value(&lu, 0, 12, 5), -0.5, 1e-15);     /* -sqrt(3/12) */
    isw_init_spec_t off = spec(ISW_DIST_UNIFORM, 1);
    off.mean = 0.25;
    CHECK_NEAR(isw_init_value(&off, 0.75, 10, 20), 0.75, 0);
}

/* Same seed: scale 2 doubles every parameter bit for bit; another family
 * is paired draw by draw (same sign, same order); mean shifts every
 * parameter; init.bias: zero keeps the weights and zeroes the biases. */
static void test_pairing(void)
{
    isw_mlp_t net;
    CHECK_INT(alloc_net(&net, ISW_PREC_DOUBLE), ISW_OK);
    size_t n = net.nparams;
    double *scratch = malloc(n * sizeof *scratch);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);

    for (size_t f = 0; f < NFAMILIES; f++) {
        isw_init_spec_t s1 = spec(families[f], 0.3), s2 = spec(families[f], 0.6);
        draw(&net, &s1, 7, 1, scratch, a);
        draw(&net, &s2, 7, 1, scratch, b);
        int exact = 1;
        for (size_t k = 0; k < n; k++)
            exact &= b[k] == 2 * a[k];
        CHECK(exact);
    }

    isw_init_spec_t uni = spec(ISW_DIST_UNIFORM, 1), nrm = spec(ISW_DIST_HE_NORMAL, 1);
    draw(&net, &uni, 7, 1, scratch, a);
    draw(&net, &nrm, 7, 1, scratch, b);
    int same_sign = 1;
    for (size_t k = 0; k < n; k++)
        same_sign &= (a[k] > 0) == (b[k] > 0) && (a[k] < 0) == (b[k] < 0);
    CHECK(same_sign);
    /* order within a layer is kept too: compare two neighbours */
    int ordered = 1;
    for (size_t k = 1; k < 60000; k++)
        ordered &= (a[k] > a[k - 1]) == (b[k] > b[k - 1]);
    CHECK(ordered);

    isw_init_spec_t shifted = spec(ISW_DIST_NORMAL, 0.5), plain = spec(ISW_DIST_NORMAL, 0.5);
    shifted.mean = 0.3;
    draw(&net, &plain, 7, 1, scratch, a);
    draw(&net, &shifted, 7, 1, scratch, b);
    double worst = 0;
    for (size_t k = 0; k < n; k++)
        worst = fmax(worst, fabs(b[k] - a[k] - 0.3));
    CHECK(worst < 1e-15);
    CHECK(moments_ok(b, 60000, 0.3, 0.25, "normal with mean 0.3"));

    isw_init_spec_t zb = spec(ISW_DIST_UNIFORM, 1);
    zb.bias = ISW_BIAS_ZERO;
    draw(&net, &uni, 7, 1, scratch, a);
    draw(&net, &zb, 7, 1, scratch, b);
    for (int l = 0; l < net.L; l++) {
        size_t nw = (size_t)net.width[l] * (size_t)net.width[l + 1], nb = (size_t)net.width[l + 1];
        CHECK(memcmp(a + net.woff[l], b + net.woff[l], nw * sizeof *a) == 0);
        int zero = 1, nonzero = 0;
        for (size_t k = 0; k < nb; k++) {
            zero &= b[net.boff[l] + k] == 0;
            nonzero += a[net.boff[l] + k] != 0;
        }
        CHECK(zero);
        CHECK(nonzero > 0);
    }
    free(scratch);
    free(a);
    free(b);
    isw_mlp_free(&net);
}

/* Per-layer init: the output layer's own family and gain, and normal
 * biases, each changing only what it names, draw for draw (common random
 * numbers: the other parameters are the plain draw's bits). */
static void test_layers(void)
{
    isw_mlp_t net;
    CHECK_INT(alloc_net(&net, ISW_PREC_DOUBLE), ISW_OK);
    size_t n = net.nparams, last = (size_t)net.L - 1;
    size_t w_last = net.woff[last], b_last = net.boff[last];
    size_t nw_last = (size_t)net.width[last] * (size_t)net.width[net.L];
    double *scratch = malloc(n * sizeof *scratch);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    isw_init_spec_t plain = spec(ISW_DIST_HE_NORMAL, 1);
    draw(&net, &plain, 3, 1, scratch, a);

    /* a zero last layer (Kalra & Barkeshli's fcn_zeros), biases too with
     * bias: same; the hidden layer untouched */
    isw_init_spec_t z = plain;
    z.last_dist = ISW_DIST_ZERO + 1;
    draw(&net, &z, 3, 1, scratch, b);
    CHECK(memcmp(a, b, w_last * sizeof *a) == 0);
    int zero = 1;
    for (size_t k = w_last; k < n; k++)
        zero &= b[k] == 0;
    CHECK(zero);
    /* a gain of 1/4 on the last layer: exactly a quarter (a power of two) */
    isw_init_spec_t g = plain;
    g.last_scale = 0.25;
    draw(&net, &g, 3, 1, scratch, b);
    CHECK(memcmp(a, b, w_last * sizeof *a) == 0);
    int quarter = 1;
    for (size_t k = w_last; k < n; k++)
        quarter &= b[k] == 0.25 * a[k];
    CHECK(quarter);
    /* another family for the last layer: xavier_uniform's bound there */
    isw_init_spec_t x = plain;
    x.last_dist = ISW_DIST_XAVIER_UNIFORM + 1;
    draw(&net, &x, 3, 1, scratch, b);
    CHECK(memcmp(a, b, w_last * sizeof *a) == 0);
    double bound = sqrt(6.0 / (net.width[last] + net.width[net.L])), top = 0;
    for (size_t k = w_last; k < w_last + nw_last; k++)
        top = fmax(top, fabs(b[k]));
    CHECK(top <= bound && top > 0.9 * bound);
    /* with an offset: a zero last layer is zero, a gain scales the offset too */
    isw_init_spec_t pm = plain;
    pm.mean = 0.3;
    draw(&net, &pm, 3, 1, scratch, a);
    isw_init_spec_t zm = pm;
    zm.last_dist = ISW_DIST_ZERO + 1;
    draw(&net, &zm, 3, 1, scratch, b);
    zero = 1;
    for (size_t k = w_last; k < w_last + nw_last; k++)
        zero &= b[k] == 0;
    CHECK(zero);
    isw_init_spec_t gm = pm;
    gm.last_scale = 0.25;
    draw(&net, &gm, 3, 1, scratch, b);
    quarter = 1;
    for (size_t k = w_last; k < n; k++)
        quarter &= b[k] == 0.25 * a[k];
    CHECK(quarter);
    draw(&net, &plain, 3, 1, scratch, a);
    CHECK_STR(isw_last_dist_name(0), "same");
    CHECK_STR(isw_last_dist_name(ISW_DIST_ZERO + 1), "zero");
    /* normal biases N(0, 0.3^2), the weights unchanged */
    isw_init_spec_t nb = plain;
    nb.bias = ISW_BIAS_NORMAL;
    nb.bias_scale = 0.3;
    draw(&net, &nb, 3, 1, scratch, b);
    double *bias = malloc(n * sizeof *bias);
    size_t m = 0;
    for (int l = 0; l < net.L; l++) {
        size_t nw = (size_t)net.width[l] * (size_t)net.width[l + 1];
        CHECK(memcmp(a + net.woff[l], b + net.woff[l], nw * sizeof *a) == 0);
        for (size_t k = 0; k < (size_t)net.width[l + 1]; k++)
            bias[m++] = b[net.boff[l] + k];
    }
    CHECK_INT(m, 350);
    CHECK(moments_ok(bias, m, 0.0, 0.09, "normal biases"));
    CHECK(b_last > w_last);
    CHECK_STR(isw_bias_init_name(ISW_BIAS_NORMAL), "normal");
    free(bias);
    free(scratch);
    free(a);
    free(b);
    isw_mlp_free(&net);
}

/* init.sigma_w2 / sigma_b2: every weight is lecun_normal's draw times
 * sqrt(sigma_w^2) (paired, bit for bit up to that one rounding), so
 * Var(w) fan_in = sigma_w^2 in every layer; the biases are the normal
 * biases of sd sqrt(sigma_b^2); isw_init_sigmas reads both back (with a
 * pre-activation multiplier alpha: alpha^2 sigma_w^2). */
static void test_sigmas(void)
{
    isw_mlp_t net;
    CHECK_INT(alloc_net(&net, ISW_PREC_DOUBLE), ISW_OK);
    size_t n = net.nparams;
    double *scratch = malloc(n * sizeof *scratch);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    isw_init_spec_t lecun = spec(ISW_DIST_LECUN_NORMAL, 1);
    lecun.bias = ISW_BIAS_NORMAL;
    lecun.bias_scale = sqrt(0.05);
    draw(&net, &lecun, 4, 2, scratch, a);
    isw_init_spec_t mf = spec(ISW_DIST_HE_NORMAL, 1); /* the family is replaced */
    mf.bias = ISW_BIAS_ZERO;
    mf.sigma_w2 = 1.76;
    mf.sigma_b2 = 0.05;
    draw(&net, &mf, 4, 2, scratch, b);
    double worst = 0, root = sqrt(1.76);
    for (int l = 0; l < net.L; l++) {
        size_t nw = (size_t)net.width[l] * (size_t)net.width[l + 1];
        for (size_t k = net.woff[l]; k < net.woff[l] + nw; k++)
            worst = fmax(worst, fabs(b[k] - root * a[k]) / fmax(fabs(a[k]), 1e-300));
        CHECK(memcmp(a + net.boff[l], b + net.boff[l], (size_t)net.width[l + 1] * sizeof *a) ==
              0);
    }
    CHECK(worst < 4e-16);
    /* Var(w) fan_in of the first layer (fan_in 200) is sigma_w^2 */
    size_t nw0 = (size_t)net.width[0] * (size_t)net.width[1];
    CHECK(moments_ok(b + net.woff[0], nw0, 0.0, 1.76 / net.width[0], "sigma_w2 weights"));
    double sw2, sb2;
    isw_init_sigmas(&mf, 1, 1.0, 100, 100, &sw2, &sb2);
    CHECK_NEAR(sw2, 1.76, 1e-14);
    CHECK_NEAR(sb2, 0.05, 1e-15);
    isw_init_sigmas(&mf, 0, 0.5, 100, 100, &sw2, &sb2);
    CHECK_NEAR(sw2, 0.44, 1e-14);
    CHECK(sb2 == 0);
    /* without them, the family's own: he_normal's 2, biases same: Var(w) */
    isw_init_spec_t he = spec(ISW_DIST_HE_NORMAL, 1);
    isw_init_sigmas(&he, 1, 1.0, 50, 100, &sw2, &sb2);
    CHECK_NEAR(sw2, 2.0, 1e-14);
    CHECK_NEAR(sb2, 2.0 / 50, 1e-15);
    CHECK(isw_init_spec_equal(&he, &he) && !isw_init_spec_equal(&he, &mf));
    free(scratch);
    free(a);
    free(b);
    isw_mlp_free(&net);
}

/* Seeds: the same (base, seed) repeats exactly, another seed, base or
 * stream differs; a float net holds the rounded double draws. */
static void test_seeds(void)
{
    isw_mlp_t net, netf;
    CHECK_INT(alloc_net(&net, ISW_PREC_DOUBLE), ISW_OK);
    CHECK_INT(alloc_net(&netf, ISW_PREC_FLOAT), ISW_OK);
    size_t n = net.nparams;
    double *scratch = malloc(n * sizeof *scratch);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    isw_init_spec_t init = spec(ISW_DIST_HE_NORMAL, 1);

    draw(&net, &init, 1, 5, scratch, a);
    draw(&net, &init, 1, 5, scratch, b);
    CHECK(memcmp(a, b, n * sizeof *a) == 0);

    const uint64_t other[3][2] = {{1, 6}, {2, 5}, {5, 1}};
    for (int c = 0; c < 3; c++) {
        draw(&net, &init, other[c][0], other[c][1], scratch, b);
        size_t equal = 0;
        for (size_t k = 0; k < n; k++)
            equal += a[k] == b[k];
        CHECK(equal < 10);
    }
    gsl_rng *r1 = isw_init_rng(1, 5, ISW_STREAM_INIT), *r2 = isw_init_rng(1, 5, ISW_STREAM_SHUFFLE);
    int differ = 0;
    for (int k = 0; k < 10; k++)
        differ += gsl_rng_get(r1) != gsl_rng_get(r2);
    CHECK(differ >= 9);
    gsl_rng_free(r1);
    gsl_rng_free(r2);

    draw(&netf, &init, 1, 5, scratch, b);
    int rounded = 1;
    for (size_t k = 0; k < n; k++)
        rounded &= b[k] == (double)(float)a[k];
    CHECK(rounded);
    free(scratch);
    free(a);
    free(b);
    isw_mlp_free(&net);
    isw_mlp_free(&netf);
}

int main(void)
{
    test_families();
    test_values();
    test_layers();
    test_sigmas();
    test_pairing();
    test_seeds();
    return CHECK_DONE();
}
