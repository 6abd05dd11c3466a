/* Synthetic datasets (documented generator by generator in data.h).  Every
 * draw comes from the run-independent data stream (isw_init_rng(seed, 0,
 * ISW_STREAM_DATA), a gsl_rng_mt19937), in a fixed order: parameters first, then sample by sample, so the data are a
 * function of the spec and the seed only and sample i does not depend on
 * how many samples follow it. */
#include "initsweep/data.h"
#include "data_internal.h"
#include "initsweep/init.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define SYNTH_PI 3.14159265358979323846

/* X is (n, 2), Y is (n, 2) zeroed. */
static void gen_xor(float *X, float *Y, size_t n, double noise, gsl_rng *rng)
{
    static const double centre[2][2][2] = {   /* [class][cluster] = (x1, x2) */
        {{+1, +1}, {-1, -1}},
        {{+1, -1}, {-1, +1}},
    };
    for (size_t i = 0; i < n; i++) {
        size_t c = i % 2, q = (i / 2) % 2;
        X[2 * i] = (float)(centre[c][q][0] + gsl_ran_gaussian(rng, noise));
        X[2 * i + 1] = (float)(centre[c][q][1] + gsl_ran_gaussian(rng, noise));
        Y[2 * i + c] = 1.0f;
    }
}

/* X is (n, 2), Y is (n, K) zeroed. */
static void gen_spirals(float *X, float *Y, size_t n, int K, double noise, gsl_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        size_t c = i % (size_t)K;
        double t = gsl_rng_uniform(rng);
        double angle = 2.0 * SYNTH_PI * ((double)c / K + t);
        double e1 = gsl_ran_gaussian(rng, noise);
        double e2 = gsl_ran_gaussian(rng, noise);
        X[2 * i] = (float)(t * cos(angle) + e1);
        X[2 * i + 1] = (float)(t * sin(angle) + e2);
        Y[i * (size_t)K + c] = 1.0f;
    }
}

/* X is (n, d), Y is (n, K) zeroed; centres is scratch (K, d). */
static void gen_blobs(float *X, float *Y, size_t n, size_t d, int K, double noise,
                      double *centres, gsl_rng *rng)
{
    for (size_t k = 0; k < (size_t)K * d; k++)
        centres[k] = gsl_ran_gaussian(rng, 2.0);
    for (size_t i = 0; i < n; i++) {
        size_t c = i % (size_t)K;
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = (float)(centres[c * d + j] + gsl_ran_gaussian(rng, noise));
        Y[i * (size_t)K + c] = 1.0f;
    }
}

/* X is (n, d), Y is (n, m) zeroed.  Scratch: W1 (H, d), W2 (m, H), h (H),
 * x (d), o (m).  classes > 0: one-hot argmax (m = classes); else regression. */
static void gen_teacher(float *X, float *Y, size_t n, size_t d, size_t H, size_t m,
                        int classes, double noise, double *W1, double *W2, double *h,
                        double *x, double *o, gsl_rng *rng)
{
    for (size_t k = 0; k < H * d; k++)
        W1[k] = gsl_ran_gaussian(rng, 1.0 / sqrt((double)d));
    for (size_t k = 0; k < m * H; k++)
        W2[k] = gsl_ran_gaussian(rng, 1.0 / sqrt((double)H));
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) {
            x[j] = gsl_ran_gaussian(rng, 1.0);
            X[i * d + j] = (float)x[j];
        }
        for (size_t u = 0; u < H; u++) {
            double a = 0.0;
            for (size_t j = 0; j < d; j++)
                a += W1[u * d + j] * x[j];
            h[u] = tanh(a);
        }
        size_t best = 0;
        for (size_t k = 0; k < m; k++) {
            o[k] = 0.0;
            for (size_t u = 0; u < H; u++)
                o[k] += W2[k * H + u] * h[u];
            if (o[k] > o[best])
                best = k;
        }
        if (classes > 0)
            Y[i * m + best] = 1.0f;
        else
            for (size_t k = 0; k < m; k++)
                Y[i * m + k] = (float)(o[k] + gsl_ran_gaussian(rng, noise));
    }
}

/* X is (n, d), Y is (n, m).  Scratch: W (m, d), b (m), x (d). */
static void gen_linear(float *X, float *Y, size_t n, size_t d, size_t m, double noise,
                       double *W, double *b, double *x, gsl_rng *rng)
{
    for (size_t k = 0; k < m * d; k++)
        W[k] = gsl_ran_gaussian(rng, 1.0);
    for (size_t k = 0; k < m; k++)
        b[k] = gsl_ran_gaussian(rng, 1.0);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) {
            x[j] = gsl_ran_gaussian(rng, 1.0);
            X[i * d + j] = (float)x[j];
        }
        for (size_t k = 0; k < m; k++) {
            double y = b[k];
            for (size_t j = 0; j < d; j++)
                y += W[k * d + j] * x[j];
            Y[i * m + k] = (float)(y + gsl_ran_gaussian(rng, noise));
        }
    }
}

/* X is (n, d), Y is (n, m). */
static void gen_gaussian(float *X, float *Y, size_t n, size_t d, size_t m, gsl_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = (float)gsl_ran_gaussian(rng, 1.0);
        for (size_t k = 0; k < m; k++)
            Y[i * m + k] = (float)gsl_ran_gaussian(rng, 1.0);
    }
}

/* Resolves the shape of the data ds describes: inputs, outputs, classes.
 * The rules between fields are data.c's; the ranges here are the
 * generator's own preconditions. */
static int synth_shape(const isw_data_spec_t *ds, size_t *nin, size_t *nout, int *classes,
                       isw_error_t *err)
{
    int st = isw_data_check_generator(ds, NULL, err);
    if (st == ISW_OK)
        st = isw_data_check_classes(ds->classes, NULL, err);
    if (st != ISW_OK)
        return st;
    const char *g = isw_generator_name(ds->generator);
    if (ds->samples < 1)
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "data.samples is %ld, expected at least 1", ds->samples);
    if (!isfinite(ds->noise) || ds->noise < 0)
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "data.noise is %g, expected a finite standard deviation >= 0",
                             ds->noise);
    int inputs = isw_data_generator_inputs(ds);
    if (inputs < 1)
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "data.inputs is %d, expected at least 1 for the %s generator",
                             ds->inputs, g);
    if (ds->generator == ISW_GEN_TEACHER && ds->teacher_hidden < 1)
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "data.teacher_hidden is %d, expected at least 1",
                             ds->teacher_hidden);
    *nin = (size_t)inputs;
    *classes = isw_data_spec_classes(ds);
    if (*classes == 0) {
        if (ds->targets < 1)
            return isw_error_set(err, ISW_EINVAL, "", 0,
                                 "data.targets is %d, expected at least 1 regression output "
                                 "for the %s generator", ds->targets, g);
        *nout = (size_t)ds->targets;
    } else {
        *nout = (size_t)*classes;
    }
    return ISW_OK;
}

int isw_data_generate(isw_data_t *data, const isw_data_spec_t *ds, uint64_t seed,
                      isw_error_t *err)
{
    memset(data, 0, sizeof *data);
    double divisor;
    size_t nin = 0, nout = 0;
    int classes = 0;
    int st = isw_data_check_options(ds->limit, ds->normalize, &divisor, "", err);
    if (st == ISW_OK)
        st = synth_shape(ds, &nin, &nout, &classes, err);
    if (st != ISW_OK)
        return st;
    size_t n = isw_data_limited((size_t)ds->samples, ds->limit);
    if ((st = isw_data_alloc(data, n, nin, nout, classes, err)))
        return st;

    /* Scratch for the generators' parameters: enough for the largest. */
    size_t H = ds->generator == ISW_GEN_TEACHER ? (size_t)ds->teacher_hidden : 0;
    size_t nscratch = 0;
    if (ds->generator == ISW_GEN_BLOBS)
        nscratch = (size_t)classes * nin;
    else if (ds->generator == ISW_GEN_TEACHER)
        nscratch = H * nin + nout * H + H + nin + nout;
    else if (ds->generator == ISW_GEN_LINEAR)
        nscratch = nout * nin + nout + nin;
    double *scratch = nscratch ? malloc(nscratch * sizeof *scratch) : NULL;
    gsl_rng *rng = isw_init_rng(seed, 0, ISW_STREAM_DATA);
    if ((nscratch && !scratch) || !rng) {
        free(scratch);
        if (rng)
            gsl_rng_free(rng);
        isw_data_free(data);
        return isw_error_set(err, ISW_ENOMEM, "", 0,
                             "cannot allocate the %s generator's workspace",
                             isw_generator_name(ds->generator));
    }

    float *X = data->buf, *Y = data->buf + n * nin;
    switch (ds->generator) {
    case ISW_GEN_XOR:
        gen_xor(X, Y, n, ds->noise, rng);
        break;
    case ISW_GEN_SPIRALS:
        gen_spirals(X, Y, n, classes, ds->noise, rng);
        break;
    case ISW_GEN_BLOBS:
        gen_blobs(X, Y, n, nin, classes, ds->noise, scratch, rng);
        break;
    case ISW_GEN_TEACHER: {
        double *W1 = scratch, *W2 = W1 + H * nin, *h = W2 + nout * H, *x = h + H;
        double *o = x + nin;
        gen_teacher(X, Y, n, nin, H, nout, classes, ds->noise, W1, W2, h, x, o, rng);
        break;
    }
    case ISW_GEN_LINEAR: {
        double *W = scratch, *b = W + nout * nin, *x = b + nout;
        gen_linear(X, Y, n, nin, nout, ds->noise, W, b, x, rng);
        break;
    }
    case ISW_GEN_GAUSSIAN:
        gen_gaussian(X, Y, n, nin, nout, rng);
        break;
    case ISW_NGENERATORS:   /* refused by isw_data_check_generator */
        break;
    }
    if (divisor != 1.0)
        for (size_t k = 0; k < n * nin; k++)
            data->buf[k] = (float)(data->buf[k] / divisor);
    if (classes == 0 && ds->target_scale != 1.0)
        for (size_t k = 0; k < n * nout; k++)
            Y[k] = (float)(Y[k] * ds->target_scale);
    free(scratch);
    gsl_rng_free(rng);
    return ISW_OK;
}
