/* Tests of the curvature module: the R-operator's Hessian-vector product
 * against central differences of the gradient for every activation x
 * output x loss x bias x parameterization, its gradient against the MLP's
 * backward, symmetry, and the top eigenvalues by power iteration and
 * Lanczos against GSL's eigensolver on the whole Hessian. */
#include "check.h"

#include <stdlib.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort_vector.h>

#include "initsweep/hessian.h"
#include "initsweep/mlp.h"

static isw_model_spec_t model(isw_act_t act, isw_out_t out, isw_loss_t loss, int bias,
                              isw_param_t param)
{
    isw_model_spec_t m;
    memset(&m, 0, sizeof m);
    m.nhidden = 2;
    m.hidden[0] = 4;
    m.hidden[1] = 5;
    m.activation = act;
    m.output = out;
    m.loss = loss;
    m.bias = bias;
    m.parameterization = param;
    m.leaky_slope = 0.1;
    return m;
}

/* n rows of 3 inputs N(0, 1) and 3 targets that suit the output (one-hot
 * for softmax, (0.05, 0.95) for sigmoid, N(0, 1) for linear). */
static void make_data(isw_data_t *d, size_t n, isw_out_t out, gsl_rng *r)
{
    isw_error_t err;
    CHECK_INT(isw_data_alloc(d, n, 3, 3, out == ISW_OUT_SOFTMAX ? 3 : 0, &err), ISW_OK);
    float *X = d->buf, *Y = d->buf + n * 3;
    for (size_t i = 0; i < n; i++) {
        size_t cls = gsl_rng_uniform_int(r, 3);
        for (size_t j = 0; j < 3; j++) {
            X[i * 3 + j] = (float)gsl_ran_gaussian(r, 1.0);
            Y[i * 3 + j] = out == ISW_OUT_SOFTMAX   ? (float)(j == cls)
                           : out == ISW_OUT_SIGMOID ? (float)(0.05 + 0.9 * gsl_rng_uniform(r))
                                                    : (float)gsl_ran_gaussian(r, 1.0);
        }
    }
}

static double max_abs(const double *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

static double dotp(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* H v by the R-operator against (g(t + e v) - g(t - e v)) / 2e; the
 * gradient against a double net's backward; u.Hv = v.Hu.  Chunks of 3 rows
 * over 7 samples, so the sums over chunks are covered. */
static void test_hvp_all_cases(void)
{
    const size_t n = 7;
    double worst_fd = 0, worst_g = 0, worst_sym = 0;
    int cases = 0;
    for (int act = 0; act < ISW_NACTS; act++)
        for (int out = 0; out < ISW_NOUTS; out++)
            for (int loss = 0; loss < ISW_NLOSSES; loss++)
                for (int bias = 0; bias <= 1; bias++)
                    for (int param = 0; param < ISW_NPARAMETERIZATIONS; param++) {
                        if (!isw_mlp_loss_fits((isw_loss_t)loss, (isw_out_t)out))
                            continue;
                        isw_model_spec_t m = model((isw_act_t)act, (isw_out_t)out,
                                                   (isw_loss_t)loss, bias, (isw_param_t)param);
                        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
                        gsl_rng_set(r, 100 + (unsigned long)cases);
                        isw_data_t d;
                        make_data(&d, n, (isw_out_t)out, r);
                        isw_mlp_t net;
                        CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, ISW_PREC_DOUBLE, n), ISW_OK);
                        net.classification = d.classes > 0;
                        isw_hess_t h;
                        CHECK_INT(isw_hess_alloc(&h, &net, 3, 0), ISW_OK);
                        size_t np = net.nparams;
                        double *t = malloc(7 * np * sizeof(double));
                        double *v = t + np, *u = v + np, *hv = u + np, *hu = hv + np;
                        double *gp = hu + np, *gm = gp + np;
                        for (size_t i = 0; i < np; i++) {
                            t[i] = gsl_ran_gaussian(r, 0.7);
                            v[i] = gsl_ran_gaussian(r, 1.0);
                            u[i] = gsl_ran_gaussian(r, 1.0);
                        }
                        double loss_h = isw_hess_vec(&h, &d, n, t, v, hv, gp);
                        /* the gradient and loss the trainer's backward gives */
                        isw_mlp_params_set(&net, t);
                        isw_mlp_load_batch(&net, &d, NULL, 0, n);
                        isw_mlp_forward(&net, n);
                        isw_mlp_backward(&net, n, 1.0 / (double)n, 0);
                        isw_mlp_grads_get(&net, gm);
                        double dg = 0;
                        for (size_t i = 0; i < np; i++)
                            dg = fmax(dg, fabs(gp[i] - gm[i]));
                        worst_g = fmax(worst_g, dg / fmax(max_abs(gm, np), 1e-300));
                        CHECK_NEAR(loss_h, isw_mlp_loss(&net, n) / (double)n,
                                   1e-12 * fmax(1, fabs(loss_h)));
                        /* central differences; relu kinks are far from any
                         * z at this step */
                        double e = 1e-6, *tp = malloc(np * sizeof(double));
                        for (size_t i = 0; i < np; i++)
                            tp[i] = t[i] + e * v[i];
                        isw_hess_vec(&h, &d, n, tp, v, hu, gp);
                        for (size_t i = 0; i < np; i++)
                            tp[i] = t[i] - e * v[i];
                        isw_hess_vec(&h, &d, n, tp, v, hu, gm);
                        double scale = fmax(max_abs(hv, np), 1e-3), dfd = 0;
                        for (size_t i = 0; i < np; i++)
                            dfd = fmax(dfd, fabs((gp[i] - gm[i]) / (2 * e) - hv[i]));
                        worst_fd = fmax(worst_fd, dfd / scale);
                        if (!CHECK(dfd / scale < 1e-5))
                            fprintf(stderr, "  act %d out %d loss %d bias %d param %d: %.3g\n",
                                    act, out, loss, bias, param, dfd / scale);
                        /* symmetry */
                        isw_hess_vec(&h, &d, n, t, u, hu, NULL);
                        double a = dotp(u, hv, np), b = dotp(v, hu, np);
                        worst_sym = fmax(worst_sym, fabs(a - b) / fmax(fabs(a), 1e-12));
                        CHECK_NEAR(a, b, 1e-10 * fmax(1, fabs(a)));
                        free(tp);
                        free(t);
                        isw_hess_free(&h);
                        isw_mlp_free(&net);
                        isw_data_free(&d);
                        gsl_rng_free(r);
                        cases++;
                    }
    CHECK(worst_g < 1e-12);
    printf("hvp: %d cases, worst |fd - Hv| / |Hv| %.3g, gradient %.3g, asymmetry %.3g\n", cases,
           worst_fd, worst_g, worst_sym);
}

/* The whole Hessian column by column, its spectrum by GSL, and the
 * estimators' top eigenvalues against it, at parameters N(0, 1.5^2) far
 * from a minimum, where the Hessian is indefinite (power iteration's
 * shifted second pass finds the top when the bottom is larger). */
static void test_spectrum(isw_act_t act, isw_out_t out, isw_loss_t loss)
{
    const size_t n = 11;
    isw_model_spec_t m = model(act, out, loss, 1, ISW_PARAM_STANDARD);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    isw_data_t d;
    make_data(&d, n, out, r);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, ISW_PREC_DOUBLE, n), ISW_OK);
    size_t np = net.nparams;
    isw_hess_t h;
    CHECK_INT(isw_hess_alloc(&h, &net, 4, (int)np), ISW_OK);
    double *t = malloc(3 * np * sizeof(double)), *e = t + np, *col = e + np;
    for (size_t i = 0; i < np; i++)
        t[i] = gsl_ran_gaussian(r, 1.5);
    gsl_matrix *H = gsl_matrix_alloc(np, np);
    for (size_t j = 0; j < np; j++) {
        memset(e, 0, np * sizeof(double));
        e[j] = 1;
        isw_hess_vec(&h, &d, n, t, e, col, NULL);
        for (size_t i = 0; i < np; i++)
            gsl_matrix_set(H, i, j, col[i]);
    }
    gsl_vector *ev = gsl_vector_alloc(np);
    gsl_eigen_symm_workspace *ws = gsl_eigen_symm_alloc(np);
    gsl_matrix *H2 = gsl_matrix_alloc(np, np);
    gsl_matrix_memcpy(H2, H);   /* gsl_eigen_symm destroys its input */
    gsl_eigen_symm(H, ev, ws);
    gsl_sort_vector(ev);
    double top[3] = {gsl_vector_get(ev, np - 1), gsl_vector_get(ev, np - 2),
                     gsl_vector_get(ev, np - 3)};
    double bottom = gsl_vector_get(ev, 0);
    double big = fmax(fabs(top[0]), fabs(bottom));

    double got[3];
    double l = isw_hess_top(&h, &d, n, t, ISW_SHARP_LANCZOS, (int)np, r, 0, got, 3);
    CHECK_NEAR(l, top[0], 1e-9 * big);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(got[i], top[i], 1e-9 * big);
    /* a warm start from the kept Ritz vector converges at once */
    l = isw_hess_top(&h, &d, n, t, ISW_SHARP_LANCZOS, 3, r, 1, got, 1);
    CHECK_NEAR(l, top[0], 1e-6 * big);
    /* power iteration: slower, but there after enough steps */
    l = isw_hess_top(&h, &d, n, t, ISW_SHARP_POWER, 3000, r, 0, got, 1);
    CHECK_NEAR(l, top[0], 1e-4 * big);
    CHECK_NEAR(got[0], l, 0);
    /* in the metric of per-layer learning rates p: the top of
     * P^1/2 H P^1/2, from the same columns scaled */
    const double p[3] = {2.0, 0.5, 3.0};
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < np; j++) {
            int li = i < net.woff[1] ? 0 : i < net.woff[2] ? 1 : 2;
            int lj = j < net.woff[1] ? 0 : j < net.woff[2] ? 1 : 2;
            *gsl_matrix_ptr(H2, i, j) *= sqrt(p[li] * p[lj]);
        }
    gsl_eigen_symm(H2, ev, ws);
    double ptop = gsl_vector_max(ev);
    isw_hess_set_metric(&h, p);
    l = isw_hess_top(&h, &d, n, t, ISW_SHARP_LANCZOS, (int)np, r, 0, got, 1);
    CHECK_NEAR(l, ptop, 1e-9 * fmax(fabs(ptop), big));
    isw_hess_set_metric(&h, NULL);
    CHECK_NEAR(isw_hess_top(&h, &d, n, t, ISW_SHARP_LANCZOS, (int)np, r, 0, got, 1), top[0],
               1e-9 * big);
    gsl_matrix_free(H2);
    printf("spectrum act %d out %d loss %d: %zu parameters, top %.9g %.9g %.9g, bottom %.9g\n",
           act, out, loss, np, top[0], top[1], top[2], bottom);
    gsl_eigen_symm_free(ws);
    gsl_vector_free(ev);
    gsl_matrix_free(H);
    free(t);
    isw_hess_free(&h);
    isw_mlp_free(&net);
    isw_data_free(&d);
    gsl_rng_free(r);
}

/* Linear least squares (no hidden layer, mse): H = X^T X / n exactly, at
 * any parameters, for every output unit alike. */
static void test_least_squares(void)
{
    const size_t n = 20;
    isw_model_spec_t m = model(ISW_ACT_LINEAR, ISW_OUT_LINEAR, ISW_LOSS_MSE, 0,
                               ISW_PARAM_STANDARD);
    m.nhidden = 0;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 3);
    isw_data_t d;
    make_data(&d, n, ISW_OUT_LINEAR, r);
    gsl_matrix *A = gsl_matrix_calloc(3, 3);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < 3; a++)
            for (size_t b = 0; b < 3; b++)
                *gsl_matrix_ptr(A, a, b) += (double)d.X[i * 3 + a] * d.X[i * 3 + b] / (double)n;
    gsl_vector *ev = gsl_vector_alloc(3);
    gsl_eigen_symm_workspace *ws = gsl_eigen_symm_alloc(3);
    gsl_eigen_symm(A, ev, ws);
    double lmax = gsl_vector_max(ev);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, ISW_PREC_DOUBLE, n), ISW_OK);
    isw_hess_t h;
    CHECK_INT(isw_hess_alloc(&h, &net, 8, 9), ISW_OK);
    double t[9], got[1];
    for (int i = 0; i < 9; i++)
        t[i] = gsl_ran_gaussian(r, 3.0);
    CHECK_NEAR(isw_hess_top(&h, &d, n, t, ISW_SHARP_LANCZOS, 9, r, 0, got, 1), lmax, 1e-12 * lmax);
    CHECK_NEAR(isw_hess_top(&h, &d, n, t, ISW_SHARP_POWER, 200, r, 0, got, 1), lmax, 1e-6 * lmax);
    gsl_eigen_symm_free(ws);
    gsl_vector_free(ev);
    gsl_matrix_free(A);
    isw_hess_free(&h);
    isw_mlp_free(&net);
    isw_data_free(&d);
    gsl_rng_free(r);
}

/* Batch sharpness on least squares without bias (3 -> 3), against the
 * matrices written out: per batch g = (1/B) sum r_i x_i^T (r = W x - y),
 * (H g) = (1/B) sum (g x_i) x_i^T, ratio <g, Hg> / <g, g>, averaged over
 * the batches; with a metric p the step is p g, and the ratio scales by p. */
static void test_batch_sharpness(void)
{
    const size_t n = 24, B = 6, nb = 3;
    isw_model_spec_t m = model(ISW_ACT_LINEAR, ISW_OUT_LINEAR, ISW_LOSS_MSE, 0,
                               ISW_PARAM_STANDARD);
    m.nhidden = 0;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    isw_data_t d;
    make_data(&d, n, ISW_OUT_LINEAR, r);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, ISW_PREC_DOUBLE, n), ISW_OK);
    isw_hess_t h;
    CHECK_INT(isw_hess_alloc(&h, &net, 4, 0), ISW_OK);   /* chunks smaller than a batch */
    double W[9];
    for (int i = 0; i < 9; i++)
        W[i] = gsl_ran_gaussian(r, 1.0);
    size_t idx[24];
    for (size_t i = 0; i < n; i++)
        idx[i] = (i * 7) % n;   /* a permutation */
    double want = 0;
    for (size_t b = 0; b < nb; b++) {
        double g[9] = {0}, hg[9] = {0};
        for (size_t k = 0; k < B; k++) {
            const float *x = d.X + idx[b * B + k] * 3, *y = d.Y + idx[b * B + k] * 3;
            for (int o = 0; o < 3; o++) {
                double z = 0;
                for (int j = 0; j < 3; j++)
                    z += W[o * 3 + j] * x[j];
                for (int j = 0; j < 3; j++)
                    g[o * 3 + j] += (z - y[o]) * x[j] / (double)B;
            }
        }
        for (size_t k = 0; k < B; k++) {
            const float *x = d.X + idx[b * B + k] * 3;
            for (int o = 0; o < 3; o++) {
                double gx = 0;
                for (int j = 0; j < 3; j++)
                    gx += g[o * 3 + j] * x[j];
                for (int j = 0; j < 3; j++)
                    hg[o * 3 + j] += gx * x[j] / (double)B;
            }
        }
        double ghg = 0, gg = 0;
        for (int i = 0; i < 9; i++) {
            ghg += g[i] * hg[i];
            gg += g[i] * g[i];
        }
        want += ghg / gg / (double)nb;
    }
    CHECK_NEAR(isw_hess_batch_sharpness(&h, &d, idx, B, nb, W), want, 1e-12 * want);
    const double p[1] = {2.5};
    isw_hess_set_metric(&h, p);
    CHECK_NEAR(isw_hess_batch_sharpness(&h, &d, idx, B, nb, W), 2.5 * want, 1e-12 * want);
    isw_hess_free(&h);
    isw_mlp_free(&net);
    isw_data_free(&d);
    gsl_rng_free(r);
}

/* A non-finite loss gives NaN, not a number. */
static void test_nonfinite(void)
{
    isw_model_spec_t m = model(ISW_ACT_TANH, ISW_OUT_LINEAR, ISW_LOSS_MSE, 1,
                               ISW_PARAM_STANDARD);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    isw_data_t d;
    make_data(&d, 5, ISW_OUT_LINEAR, r);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, ISW_PREC_DOUBLE, 5), ISW_OK);
    isw_hess_t h;
    CHECK_INT(isw_hess_alloc(&h, &net, 5, 4), ISW_OK);
    double *t = calloc(net.nparams, sizeof(double)), got[1];
    t[net.nparams - 1] = NAN;
    CHECK(isnan(isw_hess_top(&h, &d, 5, t, ISW_SHARP_POWER, 5, r, 0, got, 1)));
    CHECK(isnan(isw_hess_top(&h, &d, 5, t, ISW_SHARP_LANCZOS, 4, r, 0, got, 1)));
    free(t);
    isw_hess_free(&h);
    isw_mlp_free(&net);
    isw_data_free(&d);
    gsl_rng_free(r);
}

int main(void)
{
    test_hvp_all_cases();
    test_spectrum(ISW_ACT_TANH, ISW_OUT_SOFTMAX, ISW_LOSS_CROSS_ENTROPY);
    test_spectrum(ISW_ACT_SIGMOID, ISW_OUT_SIGMOID, ISW_LOSS_MSE);
    test_spectrum(ISW_ACT_RELU, ISW_OUT_SOFTMAX, ISW_LOSS_MSE);
    test_least_squares();
    test_batch_sharpness();
    test_nonfinite();
    CHECK_STR(isw_sharp_method_name(ISW_SHARP_LANCZOS), "lanczos");
    return CHECK_DONE();
}
