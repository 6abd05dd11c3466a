/* Tests of the MLP: gradients against finite differences and across
 * precisions for every activation x output x loss x bias x parameterization,
 * hand-computed losses and updates, exact homogeneity of ReLU nets,
 * gradient accumulation, batch loading and evaluation statistics. */
#include "check.h"

#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "initsweep/mlp.h"

static isw_model_spec_t model(isw_act_t act, isw_out_t out, isw_loss_t loss, int bias,
                              isw_param_t param, int nhidden, const int *hidden)
{
    isw_model_spec_t m;
    memset(&m, 0, sizeof m);
    m.nhidden = nhidden;
    for (int l = 0; l < nhidden; l++)
        m.hidden[l] = hidden[l];
    m.activation = act;
    m.output = out;
    m.loss = loss;
    m.bias = bias;
    m.parameterization = param;
    m.leaky_slope = 0.1;
    return m;
}

/* A value that float holds exactly, so float and double nets can share it. */
static double fl(double v)
{
    return (double)(float)v;
}

/* Random parameters N(0, 0.7^2), inputs N(0, 1) and targets that suit the
 * output (one-hot for softmax, (0.05, 0.95) for sigmoid, N(0, 1) for
 * linear) for rows [0, B), all float-representable.  Same seed, same values
 * whatever the precision. */
static void fill_random(isw_mlp_t *net, size_t B, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    double *theta = malloc(net->nparams * sizeof *theta);
    for (size_t k = 0; k < net->nparams; k++)
        theta[k] = fl(gsl_ran_gaussian(r, 0.7));
    isw_mlp_params_set(net, theta);
    size_t nin = (size_t)net->width[0], nout = (size_t)net->width[net->L];
    for (size_t i = 0; i < B; i++) {
        for (size_t j = 0; j < nin; j++)
            isw_mlp_set_input(net, i, j, fl(gsl_ran_gaussian(r, 1.0)));
        size_t cls = gsl_rng_uniform_int(r, nout);
        for (size_t j = 0; j < nout; j++) {
            double y;
            if (net->out == ISW_OUT_SOFTMAX)
                y = j == cls;
            else if (net->out == ISW_OUT_SIGMOID)
                y = 0.05 + 0.9 * gsl_rng_uniform(r);
            else
                y = gsl_ran_gaussian(r, 1.0);
            isw_mlp_set_target(net, i, j, fl(y));
        }
    }
    free(theta);
    gsl_rng_free(r);
}

/* Element k of a buffer of net as double. */
static double buf_at(const isw_mlp_t *net, const void *buf, size_t k)
{
    return net->prec == ISW_PREC_FLOAT ? ((const float *)buf)[k] : ((const double *)buf)[k];
}

/* Mean loss over B rows at the current parameters. */
static double mean_loss(isw_mlp_t *net, size_t B)
{
    isw_mlp_forward(net, B);
    return isw_mlp_loss(net, B) / (double)B;
}

/* Central-difference check of the mean-loss gradient at the current
 * parameters and batch.  Error per component: |analytic - numeric| /
 * max(|analytic| + |numeric|, 1e-3), so tiny components are judged on an
 * absolute scale.  Returns 1 when every error is below tol; *worst gets the
 * largest. */
static int grad_check(isw_mlp_t *net, size_t B, double eps, double tol, double *worst)
{
    size_t n = net->nparams;
    double *theta = malloc(n * sizeof *theta), *g = malloc(n * sizeof *g);
    isw_mlp_params_get(net, theta);
    isw_mlp_forward(net, B);
    isw_mlp_backward(net, B, 1.0 / (double)B, 0);
    isw_mlp_grads_get(net, g);
    *worst = 0;
    for (size_t k = 0; k < n; k++) {
        double save = theta[k];
        theta[k] = save + eps;
        isw_mlp_params_set(net, theta);
        double lp = mean_loss(net, B);
        theta[k] = save - eps;
        isw_mlp_params_set(net, theta);
        double lm = mean_loss(net, B);
        theta[k] = save;
        double fd = (lp - lm) / (2 * eps);
        double err = fabs(g[k] - fd) / fmax(fabs(g[k]) + fabs(fd), 1e-3);
        if (!(err <= *worst))
            *worst = err;
    }
    isw_mlp_params_set(net, theta);
    free(theta);
    free(g);
    return *worst <= tol;
}

/* Largest |a - b| / max(|b|, floor) over n components. */
static double max_rel_diff(const double *a, const double *b, size_t n, double floor)
{
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
        double e = fabs(a[k] - b[k]) / fmax(fabs(b[k]), floor);
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

static const int hidden45[2] = {4, 5};

static void test_gradients_all_cases(void)
{
    const size_t B = 4;
    double worst_fd = 0, worst_prec = 0;
    int cases = 0;
    for (int act = ISW_ACT_SIGMOID; act <= ISW_ACT_LINEAR; act++)
        for (int out = ISW_OUT_SIGMOID; out <= ISW_OUT_LINEAR; out++)
            for (int loss = ISW_LOSS_MSE; loss <= ISW_LOSS_CROSS_ENTROPY; loss++)
                for (int bias = 0; bias <= 1; bias++)
                    for (int param = 0; param < ISW_NPARAMETERIZATIONS; param++) {
                        if (loss == ISW_LOSS_CROSS_ENTROPY && out == ISW_OUT_LINEAR)
                            continue;
                        isw_model_spec_t m = model(act, out, loss, bias, param, 2, hidden45);
                        isw_mlp_t nd, nf;
                        CHECK_INT(isw_mlp_alloc(&nd, &m, 3, 3, ISW_PREC_DOUBLE, B), ISW_OK);
                        CHECK_INT(isw_mlp_alloc(&nf, &m, 3, 3, ISW_PREC_FLOAT, B), ISW_OK);
                        unsigned long seed = 1000 + (unsigned long)cases;
                        fill_random(&nd, B, seed);
                        fill_random(&nf, B, seed);

                        double worst;
                        int ok = grad_check(&nd, B, 1e-5, 1e-6, &worst);
                        if (!ok)
                            fprintf(stderr, "FD check failed: act %d out %d loss %d bias %d "
                                    "param %d: worst %.3g\n", act, out, loss, bias, param, worst);
                        CHECK(ok);
                        worst_fd = fmax(worst_fd, worst);

                        /* float analytic gradient against double analytic at the
                         * same (float-representable) parameters and data */
                        size_t n = nd.nparams;
                        double *gd = malloc(n * sizeof *gd), *gf = malloc(n * sizeof *gf);
                        isw_mlp_forward(&nd, B);
                        isw_mlp_backward(&nd, B, 1.0 / (double)B, 0);
                        isw_mlp_grads_get(&nd, gd);
                        isw_mlp_forward(&nf, B);
                        isw_mlp_backward(&nf, B, 1.0 / (double)B, 0);
                        isw_mlp_grads_get(&nf, gf);
                        double e = max_rel_diff(gf, gd, n, 1e-2);
                        if (!(e < 1e-4))
                            fprintf(stderr, "float/double gradients differ: act %d out %d loss "
                                    "%d bias %d param %d: %.3g\n", act, out, loss, bias, param, e);
                        CHECK(e < 1e-4);
                        worst_prec = fmax(worst_prec, e);
                        /* and the losses agree */
                        double ld = isw_mlp_loss(&nd, B), lf = isw_mlp_loss(&nf, B);
                        CHECK_NEAR(lf, ld, 1e-5 * fmax(1, fabs(ld)));
                        free(gd);
                        free(gf);
                        isw_mlp_free(&nd);
                        isw_mlp_free(&nf);
                        cases++;
                    }
    CHECK_INT(cases, 200);   /* 50 models x 4 parameterisations */
    printf("gradient check: %d cases, worst FD relative error (double) %.3g, "
           "worst float-vs-double relative difference %.3g\n", cases, worst_fd, worst_prec);
}

/* model.gain g: hidden units compute phi(g alpha h.w + b), so alpha of
 * the hidden layers is g times the parameterisation's and the output
 * layer's is not; the gradient stays exact (finite differences), and
 * without biases a relu net with gain g is the net whose hidden weights
 * are g times larger, exactly for a power of two. */
static void test_gain(void)
{
    const size_t B = 4;
    for (int act = ISW_ACT_SIGMOID; act <= ISW_ACT_LINEAR; act++)
        for (int bias = 0; bias <= 1; bias++) {
            isw_model_spec_t m = model(act, ISW_OUT_LINEAR, ISW_LOSS_MSE, bias,
                                       ISW_PARAM_MEAN_FIELD, 2, hidden45);
            m.gain = 1.7;
            isw_mlp_t net;
            CHECK_INT(isw_mlp_alloc(&net, &m, 3, 2, ISW_PREC_DOUBLE, B), ISW_OK);
            CHECK_NEAR(net.alpha[0], 1.7 / sqrt(3.0), 1e-15);
            CHECK_NEAR(net.alpha[1], 1.7 / sqrt(4.0), 1e-15);
            CHECK_NEAR(net.alpha[2], 1.0 / 5.0, 1e-15);
            fill_random(&net, B, 77 + (unsigned long)(2 * act + bias));
            double worst;
            CHECK(grad_check(&net, B, 1e-5, 1e-6, &worst));
            isw_mlp_free(&net);
        }
    /* relu, no biases: gain 2 == hidden weights x 2 */
    isw_model_spec_t m = model(ISW_ACT_RELU, ISW_OUT_LINEAR, ISW_LOSS_MSE, 0, ISW_PARAM_STANDARD,
                               2, hidden45);
    isw_mlp_t a, b;
    CHECK_INT(isw_mlp_alloc(&a, &m, 3, 2, ISW_PREC_DOUBLE, B), ISW_OK);
    m.gain = 2;
    CHECK_INT(isw_mlp_alloc(&b, &m, 3, 2, ISW_PREC_DOUBLE, B), ISW_OK);
    fill_random(&a, B, 5);
    fill_random(&b, B, 5);
    size_t n = a.nparams;
    double *theta = malloc(n * sizeof *theta);
    isw_mlp_params_get(&a, theta);
    for (size_t k = 0; k < a.woff[2]; k++)
        theta[k] *= 2;
    isw_mlp_params_set(&a, theta);
    isw_mlp_forward(&a, B);
    isw_mlp_forward(&b, B);
    CHECK(isw_mlp_loss(&a, B) == isw_mlp_loss(&b, B));
    free(theta);
    isw_mlp_free(&a);
    isw_mlp_free(&b);
}

/* 2 -> 2 linear layer with W = [[1, 2], [3, 4]], b = [0.5, -1], x = [1, -1],
 * y = [0, 1]: z = [-0.5, -2], loss = 1/2 (0.25 + 9) = 4.625.  Mean field
 * (alpha = 1/2): z = [0, -1.5], loss = 1/2 (0 + 6.25) = 3.125. */
static void test_mse_by_hand(isw_prec_t prec)
{
    const double theta[6] = {1, 2, 3, 4, 0.5, -1};
    for (int param = ISW_PARAM_STANDARD; param <= ISW_PARAM_MEAN_FIELD; param++) {
        isw_model_spec_t m = model(ISW_ACT_RELU, ISW_OUT_LINEAR, ISW_LOSS_MSE, 1, param, 0, NULL);
        isw_mlp_t net;
        CHECK_INT(isw_mlp_alloc(&net, &m, 2, 2, prec, 1), ISW_OK);
        CHECK_INT(net.nparams, 6);
        isw_mlp_params_set(&net, theta);
        isw_mlp_set_input(&net, 0, 0, 1);
        isw_mlp_set_input(&net, 0, 1, -1);
        isw_mlp_set_target(&net, 0, 0, 0);
        isw_mlp_set_target(&net, 0, 1, 1);
        isw_mlp_forward(&net, 1);
        double g[6];
        isw_mlp_backward(&net, 1, 1.0, 0);
        isw_mlp_grads_get(&net, g);
        if (param == ISW_PARAM_STANDARD) {
            CHECK_NEAR(isw_mlp_output(&net, 0, 0), -0.5, 0);
            CHECK_NEAR(isw_mlp_output(&net, 0, 1), -2, 0);
            CHECK_NEAR(isw_mlp_loss(&net, 1), 4.625, 0);
            /* dW = (z - y) x^T, db = z - y with z - y = [-0.5, -3] */
            const double want[6] = {-0.5, 0.5, -3, 3, -0.5, -3};
            for (int k = 0; k < 6; k++)
                CHECK_NEAR(g[k], want[k], 0);
        } else {
            CHECK_NEAR(isw_mlp_output(&net, 0, 0), 0, 0);
            CHECK_NEAR(isw_mlp_output(&net, 0, 1), -1.5, 0);
            CHECK_NEAR(isw_mlp_loss(&net, 1), 3.125, 0);
            /* dW = alpha (z - y) x^T with z - y = [0, -2.5] */
            const double want[6] = {0, 0, -1.25, 1.25, 0, -2.5};
            for (int k = 0; k < 6; k++)
                CHECK_NEAR(g[k], want[k], 0);
        }
        isw_mlp_free(&net);
    }
}

/* The parameterisations' multipliers and per-layer lr factors on a 3-5-2
 * net (fan-ins 3 and 5), and that an SGD step applies the factors. */
static void test_parameterizations(isw_prec_t prec)
{
    const int h5[1] = {5};
    struct { isw_param_t p; double a0, a1, s0, s1; } want[] = {
        {ISW_PARAM_STANDARD, 1, 1, 1, 1},
        {ISW_PARAM_MEAN_FIELD, 1 / sqrt(3.0), 1 / 5.0, 1, 1},
        {ISW_PARAM_NTK, 1 / sqrt(3.0), 1 / sqrt(5.0), 1, 1},
        {ISW_PARAM_MUP, 1, 1 / sqrt(5.0), 5, 1}};
    for (size_t c = 0; c < sizeof want / sizeof want[0]; c++) {
        isw_model_spec_t m = model(ISW_ACT_TANH, ISW_OUT_LINEAR, ISW_LOSS_MSE, 1, want[c].p, 1, h5);
        isw_mlp_t net;
        CHECK_INT(isw_mlp_alloc(&net, &m, 3, 2, prec, 4), ISW_OK);
        CHECK_NEAR(net.alpha[0], want[c].a0, 1e-15);
        CHECK_NEAR(net.alpha[1], want[c].a1, 1e-15);
        CHECK_NEAR(net.lr_scale[0], want[c].s0, 0);
        CHECK_NEAR(net.lr_scale[1], want[c].s1, 0);
        fill_random(&net, 4, 9);
        isw_mlp_forward(&net, 4);
        isw_mlp_backward(&net, 4, 0.25, 0);
        size_t n = net.nparams;
        double *before = malloc(3 * n * sizeof(double)), *after = before + n, *g = after + n;
        isw_mlp_params_get(&net, before);
        isw_mlp_grads_get(&net, g);
        isw_mlp_sgd_step(&net, 0.125, NULL, 0);
        isw_mlp_params_get(&net, after);
        double worst = 0;
        for (size_t k = 0; k < n; k++) {
            double f = k < net.woff[1] ? want[c].s0 : want[c].s1;
            worst = fmax(worst, fabs(after[k] - (before[k] - 0.125 * f * g[k])));
        }
        CHECK(worst < (prec == ISW_PREC_FLOAT ? 1e-5 : 1e-14));
        free(before);
        isw_mlp_free(&net);
    }
    CHECK_STR(isw_param_name(ISW_PARAM_MUP), "mup");
    CHECK_STR(isw_param_name(ISW_PARAM_NTK), "ntk");
}

/* Softmax cross-entropy is -log p of the right class, and stays finite
 * (log-sum-exp) when p underflows; sigmoid cross-entropy is binary CE per
 * unit, finite at huge logits. */
static void test_cross_entropy(isw_prec_t prec)
{
    isw_model_spec_t m = model(ISW_ACT_RELU, ISW_OUT_SOFTMAX, ISW_LOSS_CROSS_ENTROPY, 1,
                               ISW_PARAM_STANDARD, 0, NULL);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 2, 3, prec, 3), ISW_OK);
    const double theta[9] = {0.5, -1, 2, 0.25, -0.75, 1.5, 0.1, -0.2, 0.3};
    isw_mlp_params_set(&net, theta);
    const double x[3][2] = {{1, 2}, {-1, 0.5}, {0.25, -2}};
    const int cls[3] = {2, 0, 1};
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 2; j++)
            isw_mlp_set_input(&net, i, j, x[i][j]);
        for (size_t j = 0; j < 3; j++)
            isw_mlp_set_target(&net, i, j, (int)j == cls[i]);
    }
    isw_mlp_forward(&net, 3);
    double want = 0;
    for (size_t i = 0; i < 3; i++) {
        double psum = 0;
        for (size_t j = 0; j < 3; j++)
            psum += isw_mlp_output(&net, i, j);
        CHECK_NEAR(psum, 1, prec == ISW_PREC_FLOAT ? 1e-6 : 1e-15);
        want += -log(isw_mlp_output(&net, i, (size_t)cls[i]));
    }
    CHECK_NEAR(isw_mlp_loss(&net, 3), want, prec == ISW_PREC_FLOAT ? 1e-5 : 1e-13);

    /* logits [1000, 0, 0] for class 1: p_1 underflows, loss = 1000 */
    const double big[9] = {0, 0, 0, 0, 0, 0, 1000, 0, 0};
    isw_mlp_params_set(&net, big);
    isw_mlp_forward(&net, 1);
    isw_mlp_set_target(&net, 0, 0, 0);
    isw_mlp_set_target(&net, 0, 1, 1);
    isw_mlp_set_target(&net, 0, 2, 0);
    CHECK_NEAR(isw_mlp_output(&net, 0, 0), 1, 0);
    CHECK_NEAR(isw_mlp_loss(&net, 1), 1000, 1e-9);
    isw_mlp_free(&net);

    m.output = ISW_OUT_SIGMOID;
    CHECK_INT(isw_mlp_alloc(&net, &m, 1, 2, prec, 1), ISW_OK);
    /* z = [w0 x + b0, w1 x + b1] with x = 1 */
    const double t2[4] = {0.5, -1.25, 0.25, 0.5};
    isw_mlp_params_set(&net, t2);
    isw_mlp_set_input(&net, 0, 0, 1);
    isw_mlp_set_target(&net, 0, 0, 0.25);
    isw_mlp_set_target(&net, 0, 1, 1);
    isw_mlp_forward(&net, 1);
    double s0 = 1 / (1 + exp(-0.75)), s1 = 1 / (1 + exp(0.75));
    double bce = -(0.25 * log(s0) + 0.75 * log(1 - s0)) - log(s1);
    CHECK_NEAR(isw_mlp_loss(&net, 1), bce, prec == ISW_PREC_FLOAT ? 1e-6 : 1e-14);
    /* z = [100, -100] against y = [0, 1]: each unit costs softplus(100) = 100 */
    const double t3[4] = {100, -100, 0, 0};
    isw_mlp_params_set(&net, t3);
    isw_mlp_set_target(&net, 0, 0, 0);
    isw_mlp_forward(&net, 1);
    CHECK_NEAR(isw_mlp_loss(&net, 1), 200, 1e-9);
    isw_mlp_free(&net);

    m.output = ISW_OUT_LINEAR;
    CHECK_INT(isw_mlp_alloc(&net, &m, 1, 2, prec, 1), ISW_EINVAL);
    isw_mlp_free(&net);
}

/* A bias-free ReLU (or leaky ReLU) net with linear output is positively
 * homogeneous: W -> a W scales the output by a^L.  For a = 2 every rounding
 * scales too, so the result is bit-identical. */
static void test_homogeneity(isw_act_t act, isw_prec_t prec)
{
    const size_t B = 4;
    isw_model_spec_t m = model(act, ISW_OUT_LINEAR, ISW_LOSS_MSE, 0, ISW_PARAM_STANDARD, 2,
                               hidden45);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, prec, B), ISW_OK);
    fill_random(&net, B, 7);
    size_t n = net.nparams;
    double *theta = malloc(n * sizeof *theta), *scaled = malloc(n * sizeof *scaled);
    double out1[12], out2[12];
    isw_mlp_params_get(&net, theta);
    isw_mlp_forward(&net, B);
    for (size_t k = 0; k < 12; k++)
        out1[k] = isw_mlp_output(&net, k / 3, k % 3);

    for (size_t k = 0; k < n; k++)
        scaled[k] = 2 * theta[k];
    isw_mlp_params_set(&net, scaled);
    isw_mlp_forward(&net, B);
    int exact = 1, nonzero = 0;
    for (size_t k = 0; k < 12; k++) {
        out2[k] = isw_mlp_output(&net, k / 3, k % 3);
        exact &= out2[k] == 8 * out1[k];
        nonzero += out1[k] != 0;
    }
    CHECK(exact);
    CHECK(nonzero > 0);

    if (prec == ISW_PREC_DOUBLE) {
        double a = 1.7, worst = 0;
        for (size_t k = 0; k < n; k++)
            scaled[k] = a * theta[k];
        isw_mlp_params_set(&net, scaled);
        isw_mlp_forward(&net, B);
        for (size_t k = 0; k < 12; k++) {
            double want = a * a * a * out1[k];
            worst = fmax(worst, fabs(isw_mlp_output(&net, k / 3, k % 3) - want) / fabs(want));
        }
        CHECK(worst < 1e-12);
    }
    free(theta);
    free(scaled);
    isw_mlp_free(&net);
}

/* SGD against hand-computed updates, per-layer lr multipliers, momentum. */
static void test_sgd(isw_prec_t prec)
{
    const size_t B = 4;
    isw_model_spec_t m = model(ISW_ACT_TANH, ISW_OUT_SOFTMAX, ISW_LOSS_CROSS_ENTROPY, 1,
                               ISW_PARAM_STANDARD, 2, hidden45);
    double tol = prec == ISW_PREC_FLOAT ? 1e-6 : 1e-15;
    const double mult[3] = {1.0, 0.5, 2.0};
    for (int with_momentum = 0; with_momentum <= 1; with_momentum++) {
        isw_mlp_t net;
        CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, prec, B), ISW_OK);
        fill_random(&net, B, 11);
        size_t n = net.nparams;
        double *p0 = malloc(n * sizeof *p0), *g = malloc(n * sizeof *g);
        double *p = malloc(n * sizeof *p);
        isw_mlp_params_get(&net, p0);
        isw_mlp_forward(&net, B);
        isw_mlp_backward(&net, B, 1.0 / (double)B, 0);
        isw_mlp_grads_get(&net, g);
        double mu = with_momentum ? 0.9 : 0.0;
        /* two steps with the same gradient: velocity g, then 1.9 g */
        isw_mlp_sgd_step(&net, 0.1, mult, mu);
        isw_mlp_sgd_step(&net, 0.1, mult, mu);
        isw_mlp_params_get(&net, p);
        double worst = 0;
        for (int l = 0; l < net.L; l++)
            for (size_t k = net.woff[l]; k < net.woff[l] + net.lsize[l]; k++) {
                double lr = 0.1 * mult[l];
                double want = p0[k] - lr * g[k] - lr * (with_momentum ? 1.9 * g[k] : g[k]);
                worst = fmax(worst, fabs(p[k] - want));
            }
        CHECK(worst <= tol);
        /* NULL multipliers: every layer at lr */
        isw_mlp_params_set(&net, p0);
        memset(net.velocity, 0, n * net.elsize);
        isw_mlp_sgd_step(&net, 0.1, NULL, mu);
        isw_mlp_params_get(&net, p);
        worst = 0;
        for (size_t k = 0; k < n; k++)
            worst = fmax(worst, fabs(p[k] - (p0[k] - 0.1 * g[k])));
        CHECK(worst <= tol);
        free(p0);
        free(g);
        free(p);
        isw_mlp_free(&net);
    }
}

/* Gradients accumulated over two half batches (scale 1/4 each) equal the
 * gradient of the full batch of 4. */
static void test_accumulate(isw_prec_t prec)
{
    const size_t B = 4;
    isw_model_spec_t m = model(ISW_ACT_SIGMOID, ISW_OUT_SIGMOID, ISW_LOSS_MSE, 1,
                               ISW_PARAM_STANDARD, 2, hidden45);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, prec, B), ISW_OK);
    fill_random(&net, B, 21);
    size_t n = net.nparams;
    double *full = malloc(n * sizeof *full), *acc = malloc(n * sizeof *acc);
    /* keep the batch as double rows to re-load the halves */
    double x[4][3], y[4][3];
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < 3; j++) {
            size_t k = i * 3 + j;
            x[i][j] = buf_at(&net, net.X, k);
            y[i][j] = buf_at(&net, net.Y, k);
        }
    isw_mlp_forward(&net, B);
    isw_mlp_backward(&net, B, 0.25, 0);
    isw_mlp_grads_get(&net, full);
    for (size_t half = 0; half < 2; half++) {
        for (size_t i = 0; i < 2; i++)
            for (size_t j = 0; j < 3; j++) {
                isw_mlp_set_input(&net, i, j, x[2 * half + i][j]);
                isw_mlp_set_target(&net, i, j, y[2 * half + i][j]);
            }
        isw_mlp_forward(&net, 2);
        isw_mlp_backward(&net, 2, 0.25, half > 0);
    }
    isw_mlp_grads_get(&net, acc);
    CHECK(max_rel_diff(acc, full, n, 1e-3) < (prec == ISW_PREC_FLOAT ? 1e-5 : 1e-13));
    /* accumulate = 0 overwrites: a second pass gives the half batch only */
    isw_mlp_backward(&net, 2, 0.25, 0);
    double *half = malloc(n * sizeof *half);
    isw_mlp_grads_get(&net, half);
    CHECK(max_rel_diff(half, full, n, 1e-3) > 1e-3);
    free(half);
    free(full);
    free(acc);
    isw_mlp_free(&net);
}

/* Rows gathered from a float dataset, by index and as a range. */
static void test_load_batch(isw_prec_t prec)
{
    float X[5 * 3], Y[5 * 2];
    for (int k = 0; k < 15; k++)
        X[k] = 0.5f * (float)k;
    for (int k = 0; k < 10; k++)
        Y[k] = (float)(k % 2);
    isw_data_t data = {.n = 5, .nin = 3, .nout = 2, .classes = 2, .X = X, .Y = Y};
    isw_model_spec_t m = model(ISW_ACT_RELU, ISW_OUT_SOFTMAX, ISW_LOSS_CROSS_ENTROPY, 1,
                               ISW_PARAM_STANDARD, 1, hidden45);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 3, 2, prec, 2), ISW_OK);
    const size_t idx[2] = {4, 1};
    double xb[6], yb[4];
    isw_mlp_load_batch(&net, &data, idx, 0, 2);
    for (size_t i = 0; i < 2; i++) {
        for (size_t j = 0; j < 3; j++) {
            size_t k = i * 3 + j;
            xb[k] = buf_at(&net, net.X, k);
            CHECK_NEAR(xb[k], X[idx[i] * 3 + j], 0);
        }
        for (size_t j = 0; j < 2; j++) {
            size_t k = i * 2 + j;
            yb[k] = buf_at(&net, net.Y, k);
            CHECK_NEAR(yb[k], Y[idx[i] * 2 + j], 0);
        }
    }
    isw_mlp_load_batch(&net, &data, NULL, 3, 2);
    for (size_t k = 0; k < 6; k++) {
        double v = buf_at(&net, net.X, k);
        CHECK_NEAR(v, X[9 + k], 0);
    }
    isw_mlp_free(&net);
}

/* One evaluation pass over the first B rows: forward, reset, accumulate. */
static isw_mlp_stats_t evaluate(isw_mlp_t *net, size_t B)
{
    isw_mlp_stats_t st;
    isw_mlp_forward(net, B);
    isw_mlp_stats_reset(net);
    isw_mlp_stats_accumulate(net, B, 1e-3);
    isw_mlp_stats_get(net, &st);
    return st;
}

static void set_row(isw_mlp_t *net, size_t i, const double *x, size_t nin)
{
    for (size_t j = 0; j < nin; j++)
        isw_mlp_set_input(net, i, j, x[j]);
}

/* Dead units: a 2 -> 3 -> 2 relu net whose hidden unit 0 has zero weights
 * and bias -1 (z = -1 on every sample) is 1/3 dead; with every hidden bias
 * -1 the layer is dead.  Leaky units are never dead. */
static void test_stats_dead(isw_prec_t prec)
{
    const int h3[1] = {3};
    isw_model_spec_t m = model(ISW_ACT_RELU, ISW_OUT_SOFTMAX, ISW_LOSS_MSE, 1,
                               ISW_PARAM_STANDARD, 1, h3);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 2, 2, prec, 4), ISW_OK);
    /* W0 (3, 2), b0 (3), W1 (2, 3), b1 (2) */
    double theta[17] = {0, 0, 1, 0, 0, 1, -1, 5, 5, 1, 1, 1, -1, -1, -1, 0, 0};
    CHECK_INT(net.nparams, 17);
    isw_mlp_params_set(&net, theta);
    const double x[4][2] = {{1, 2}, {-1, 0.5}, {0.3, -0.2}, {-2, -1}};
    for (size_t i = 0; i < 4; i++) {
        set_row(&net, i, x[i], 2);
        isw_mlp_set_target(&net, i, 0, 1);
        isw_mlp_set_target(&net, i, 1, 0);
    }
    isw_mlp_stats_t st = evaluate(&net, 4);
    CHECK_INT(st.n, 4);
    CHECK_NEAR(st.dead_fraction, 1.0 / 3.0, 1e-15);
    CHECK_INT(st.layer_dead, 0);
    CHECK_INT(net.st_active[0], 0);
    CHECK_INT(net.st_active[1], 4);
    CHECK(isnan(st.accuracy));
    CHECK_NEAR(st.saturated_fraction, 0, 0);
    /* the output layer sees h = [0, x0 + 5, x1 + 5]: z0 = sum > 0 > z1, so
     * class 0 always wins and, with classification on, accuracy is 1 */
    net.classification = 1;
    isw_mlp_stats_reset(&net);
    isw_mlp_stats_accumulate(&net, 4, 1e-3);
    isw_mlp_stats_get(&net, &st);
    CHECK_NEAR(st.accuracy, 1, 0);
    CHECK_NEAR(st.loss, isw_mlp_loss(&net, 4) / 4, 1e-15);
    /* two batches accumulate */
    isw_mlp_stats_accumulate(&net, 4, 1e-3);
    isw_mlp_stats_get(&net, &st);
    CHECK_INT(st.n, 8);
    CHECK_INT(net.st_active[2], 8);

    theta[7] = theta[8] = -1;
    theta[2] = theta[5] = 0;
    isw_mlp_params_set(&net, theta);
    st = evaluate(&net, 4);
    CHECK_NEAR(st.dead_fraction, 1, 0);
    CHECK_INT(st.layer_dead, 1);
    isw_mlp_free(&net);

    /* leaky_relu: the same parameters count no dead unit */
    m.activation = ISW_ACT_LEAKY_RELU;
    CHECK_INT(isw_mlp_alloc(&net, &m, 2, 2, prec, 4), ISW_OK);
    isw_mlp_params_set(&net, theta);
    for (size_t i = 0; i < 4; i++)
        set_row(&net, i, x[i], 2);
    st = evaluate(&net, 4);
    CHECK_NEAR(st.dead_fraction, 0, 0);
    CHECK_INT(st.layer_dead, 0);
    isw_mlp_free(&net);

    /* two relu layers 2 -> 3 -> 2 -> 1: the second entirely dead */
    const int h32[2] = {3, 2};
    m = model(ISW_ACT_RELU, ISW_OUT_LINEAR, ISW_LOSS_MSE, 1, ISW_PARAM_STANDARD, 2, h32);
    CHECK_INT(isw_mlp_alloc(&net, &m, 2, 1, prec, 4), ISW_OK);
    double t2[9 + 8 + 3];
    for (size_t k = 0; k < 9; k++)
        t2[k] = k < 6 ? 0 : 1;   /* layer 0: W 0, b 1: all alive */
    for (size_t k = 9; k < 17; k++)
        t2[k] = k < 15 ? 1 : -100; /* layer 1: W 1, b -100: z = 3 - 100 */
    for (size_t k = 17; k < 20; k++)
        t2[k] = 1;
    CHECK_INT(net.nparams, 20);
    isw_mlp_params_set(&net, t2);
    for (size_t i = 0; i < 4; i++)
        set_row(&net, i, x[i], 2);
    st = evaluate(&net, 4);
    CHECK_NEAR(st.dead_fraction, 2.0 / 5.0, 1e-15);
    CHECK_INT(st.layer_dead, 1);
    CHECK_NEAR(st.output_saturated_fraction, 0, 0);
    isw_mlp_free(&net);
}

/* Saturation: sigmoid/tanh hidden units with bias +-50 are saturated on
 * every sample, a unit with bias 0 and zero weights (derivative 1/4 or 1)
 * never is; huge random weights saturate nearly every unit.  Output
 * saturation: softmax max p > 0.999, sigmoid every unit extreme. */
static void test_stats_saturated(isw_act_t act, isw_prec_t prec)
{
    const int h3[1] = {3};
    isw_model_spec_t m = model(act, ISW_OUT_SOFTMAX, ISW_LOSS_CROSS_ENTROPY, 1,
                               ISW_PARAM_STANDARD, 1, h3);
    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &m, 2, 2, prec, 2), ISW_OK);
    double theta[17] = {0, 0, 0, 0, 0, 0, 50, -50, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    isw_mlp_params_set(&net, theta);
    const double x[2][2] = {{1, 2}, {-1, 0.5}};
    for (size_t i = 0; i < 2; i++)
        set_row(&net, i, x[i], 2);
    isw_mlp_stats_t st = evaluate(&net, 2);
    CHECK_NEAR(st.saturated_fraction, 2.0 / 3.0, 1e-15);
    CHECK_NEAR(st.dead_fraction, 0, 0);
    /* logits 0: p = 1/2, not saturated */
    CHECK_NEAR(st.output_saturated_fraction, 0, 0);
    /* output bias [20, 0]: p_0 = 1 - 2e-9 on both rows */
    theta[15] = 20;
    isw_mlp_params_set(&net, theta);
    st = evaluate(&net, 2);
    CHECK_NEAR(st.output_saturated_fraction, 1, 0);
    isw_mlp_free(&net);

    /* huge weights on 100 samples */
    const int h20[1] = {20};
    m = model(act, ISW_OUT_SIGMOID, ISW_LOSS_MSE, 1, ISW_PARAM_STANDARD, 1, h20);
    CHECK_INT(isw_mlp_alloc(&net, &m, 5, 2, prec, 100), ISW_OK);
    fill_random(&net, 100, 5);
    double *t = malloc(net.nparams * sizeof *t);
    isw_mlp_params_get(&net, t);
    st = evaluate(&net, 100);
    double before = st.saturated_fraction;
    for (size_t k = 0; k < net.nparams; k++)
        t[k] *= 1e4;
    isw_mlp_params_set(&net, t);
    st = evaluate(&net, 100);
    CHECK(before < 0.5);
    CHECK(st.saturated_fraction >= 0.9);
    /* sigmoid outputs with logits ~ 1e4: every unit beyond 0.001/0.999 */
    CHECK(st.output_saturated_fraction >= 0.9);
    free(t);
    isw_mlp_free(&net);
}

static void test_sizes_norms_finite(void)
{
    isw_model_spec_t m = model(ISW_ACT_RELU, ISW_OUT_LINEAR, ISW_LOSS_MSE, 1,
                               ISW_PARAM_STANDARD, 2, hidden45);
    /* 3*4 + 4 + 4*5 + 5 + 5*3 + 3 */
    CHECK_INT(isw_mlp_nparams(&m, 3, 3), 59);
    CHECK_NEAR(isw_mlp_flops(&m, 3, 3, 10), 6.0 * 10 * (12 + 20 + 15), 0);
    m.bias = 0;
    CHECK_INT(isw_mlp_nparams(&m, 3, 3), 47);
    /* 2 -> 2, bias, batch 1: params 6 x 3 buffers, acts X 2 + Y 2 + Z 2 +
     * H 2 + dA 2 + dB 2 = 12 elements of 8 bytes, no hidden counters */
    isw_model_spec_t lin = model(ISW_ACT_RELU, ISW_OUT_LINEAR, ISW_LOSS_MSE, 1,
                                 ISW_PARAM_STANDARD, 0, NULL);
    /* + per lane: loss, scratch sum (double), correct, out_saturated (size_t) */
    CHECK_INT(isw_mlp_nbytes(&lin, 2, 2, ISW_PREC_DOUBLE, 1, 1), (18 + 12) * 8 + 32);
    CHECK_INT(isw_mlp_nbytes(&lin, 2, 2, ISW_PREC_FLOAT, 1, 1), (18 + 12) * 4 + 32);

    for (int p = ISW_PREC_FLOAT; p <= ISW_PREC_DOUBLE; p++) {
        m.bias = 1;
        isw_mlp_t net;
        CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, (isw_prec_t)p, 4), ISW_OK);
        fill_random(&net, 4, 3);
        isw_mlp_forward(&net, 4);
        isw_mlp_backward(&net, 4, 0.25, 0);
        double g[59], norms[3];
        isw_mlp_grads_get(&net, g);
        isw_mlp_grad_norms(&net, norms);
        const size_t lo[4] = {0, 16, 41, 59};
        for (int l = 0; l < 3; l++) {
            double s = 0;
            for (size_t k = lo[l]; k < lo[l + 1]; k++)
                s += g[k] * g[k];
            CHECK_NEAR(norms[l], sqrt(s), 1e-12 * sqrt(s));
            CHECK(norms[l] > 0);
        }
        CHECK_INT(isw_mlp_params_finite(&net), 1);
        double theta[59];
        isw_mlp_params_get(&net, theta);
        theta[40] = NAN;
        isw_mlp_params_set(&net, theta);
        CHECK_INT(isw_mlp_params_finite(&net), 0);
        theta[40] = INFINITY;
        isw_mlp_params_set(&net, theta);
        CHECK_INT(isw_mlp_params_finite(&net), 0);
        isw_mlp_free(&net);
        /* free is idempotent on the zeroed struct */
        isw_mlp_free(&net);
    }
    isw_mlp_free(NULL);
    isw_mlp_t zero;
    memset(&zero, 0, sizeof zero);
    isw_mlp_free(&zero);
    /* mean-field multipliers: 1/sqrt(fan_in) hidden, 1/fan_in output */
    isw_mlp_t net;
    m.parameterization = ISW_PARAM_MEAN_FIELD;
    CHECK_INT(isw_mlp_alloc(&net, &m, 3, 3, ISW_PREC_DOUBLE, 1), ISW_OK);
    CHECK_NEAR(net.alpha[0], 1 / sqrt(3.0), 0);
    CHECK_NEAR(net.alpha[1], 0.5, 0);
    CHECK_NEAR(net.alpha[2], 0.2, 0);
    isw_mlp_free(&net);
}

/* Every valid activation x output x loss x bias x parameterization on the
 * 3-4-5-3 net, into ms[100]; returns how many. */
static int model_cases(isw_model_spec_t *ms)
{
    int n = 0;
    for (int act = ISW_ACT_SIGMOID; act <= ISW_ACT_LINEAR; act++)
        for (int out = ISW_OUT_SIGMOID; out <= ISW_OUT_LINEAR; out++)
            for (int loss = ISW_LOSS_MSE; loss <= ISW_LOSS_CROSS_ENTROPY; loss++)
                for (int bias = 0; bias <= 1; bias++)
                    for (int param = ISW_PARAM_STANDARD; param <= ISW_PARAM_MEAN_FIELD; param++)
                        if (n < 100 && isw_mlp_loss_fits((isw_loss_t)loss, (isw_out_t)out))
                            ms[n++] = model(act, out, loss, bias, param, 2, hidden45);
    return n;
}

/* Lanes: every lane of a 3-lane net computes what a lone net with the same
 * parameters does on the same batch (loss, output, gradient, statistics,
 * SGD step), for every activation x output x loss x bias x
 * parameterization; lanes never see each other (a non-finite lane leaves
 * the others as they were); lane_copy and set_lanes compact. */
static void test_lanes_all_cases(isw_prec_t prec)
{
    const size_t B = 5;
    const int K = 3;
    double tol = prec == ISW_PREC_DOUBLE ? 1e-12 : 2e-5;
    isw_model_spec_t cases[100];
    int ncases = model_cases(cases);
    CHECK_INT(ncases, 100);
    for (int c = 0; c < ncases; c++) {
        const isw_model_spec_t m = cases[c];
        int act = m.activation, out = m.output, loss = m.loss, bias = m.bias;
        int param = m.parameterization;
        isw_mlp_t pack, lone;
        /* one output unit on every other case (softmax needs two): lanes
         * then take the matrix-vector path of the output layer */
        size_t nout = m.output != ISW_OUT_SOFTMAX && c % 2 ? 1 : 3;
        CHECK_INT(isw_mlp_alloc_lanes(&pack, &m, 3, nout, prec, B, K), ISW_OK);
        CHECK_INT(isw_mlp_alloc(&lone, &m, 3, nout, prec, B), ISW_OK);
        unsigned long seed = 5000 + (unsigned long)c;
        fill_random(&pack, B, seed);
        fill_random(&lone, B, seed);
        size_t n = pack.nparams;
        double *th = malloc((size_t)K * n * sizeof *th);
        double *g = malloc(2 * n * sizeof *g), *after = malloc(2 * n * sizeof *g);
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, seed);
        for (int k = 0; k < K; k++) {
            for (size_t i = 0; i < n; i++)
                th[(size_t)k * n + i] = fl(gsl_ran_gaussian(r, 0.7 + 0.2 * k));
            isw_mlp_params_set_lane(&pack, k, th + (size_t)k * n);
        }
        gsl_rng_free(r);
        double sums[3];
        isw_mlp_forward(&pack, B);
        isw_mlp_loss_lanes(&pack, B, sums);
        isw_mlp_stats_reset(&pack);
        isw_mlp_stats_accumulate(&pack, B, 0.05);
        isw_mlp_backward(&pack, B, 1.0 / (double)B, 0);
        for (int k = 0; k < K; k++) {
            isw_mlp_params_set(&lone, th + (size_t)k * n);
            isw_mlp_forward(&lone, B);
            double l1 = isw_mlp_loss(&lone, B);
            CHECK_NEAR(sums[k], l1, tol * fmax(1, fabs(l1)));
            for (size_t i = 0; i < B; i++)
                for (size_t j = 0; j < nout; j++)
                    CHECK_NEAR(isw_mlp_output_lane(&pack, k, i, j),
                               isw_mlp_output(&lone, i, j), tol);
            isw_mlp_stats_reset(&lone);
            isw_mlp_stats_accumulate(&lone, B, 0.05);
            isw_mlp_stats_t sp, sl;
            isw_mlp_stats_get_lane(&pack, k, &sp);
            isw_mlp_stats_get(&lone, &sl);
            CHECK_NEAR(sp.loss, sl.loss, tol * fmax(1, fabs(sl.loss)));
            CHECK(sp.dead_fraction == sl.dead_fraction);
            CHECK(sp.saturated_fraction == sl.saturated_fraction);
            CHECK(sp.output_saturated_fraction == sl.output_saturated_fraction);
            isw_mlp_backward(&lone, B, 1.0 / (double)B, 0);
            isw_mlp_grads_get_lane(&pack, k, g);
            isw_mlp_grads_get(&lone, g + n);
            double e = max_rel_diff(g, g + n, n, 1e-2);
            if (!(e <= tol))
                fprintf(stderr, "lane %d gradient differs: act %d out %d loss %d "
                        "bias %d param %d prec %d: %.3g\n", k, act, out, loss,
                        bias, param, (int)prec, e);
            CHECK(e <= tol);
            double ng[ISW_MAX_LAYERS], nl[ISW_MAX_LAYERS];
            isw_mlp_grad_norms_lane(&pack, k, ng);
            isw_mlp_grad_norms(&lone, nl);
            for (int l = 0; l < pack.L; l++)
                CHECK_NEAR(ng[l], nl[l], tol * fmax(1, nl[l]));
        }
        /* a step of lane 1 moves lane 1 only, as the lone net's step */
        isw_mlp_sgd_step_lane(&pack, 1, 0.3, NULL, 0.0);
        isw_mlp_params_set(&lone, th + n);
        isw_mlp_forward(&lone, B);
        isw_mlp_backward(&lone, B, 1.0 / (double)B, 0);
        isw_mlp_sgd_step(&lone, 0.3, NULL, 0.0);
        isw_mlp_params_get_lane(&pack, 1, after);
        isw_mlp_params_get(&lone, after + n);
        CHECK(max_rel_diff(after, after + n, n, 1e-2) <= tol);
        for (int k = 0; k < K; k += 2) {
            isw_mlp_params_get_lane(&pack, k, after);
            CHECK(memcmp(after, th + (size_t)k * n, n * sizeof *after) == 0);
        }
        /* a non-finite lane 0 leaves lanes 1 and 2 as they were */
        double l2 = sums[2];
        th[0] = NAN;
        isw_mlp_params_set_lane(&pack, 0, th);
        isw_mlp_forward(&pack, B);
        isw_mlp_loss_lanes(&pack, B, sums);
        CHECK(!isfinite(sums[0]) || !isw_mlp_params_finite_lane(&pack, 0));
        CHECK_INT(isw_mlp_params_finite_lane(&pack, 0), 0);
        CHECK_INT(isw_mlp_params_finite_lane(&pack, 2), 1);
        CHECK(sums[2] == l2);
        /* compact: lane 2 into lane 0, two lanes in use */
        isw_mlp_lane_copy(&pack, 0, 2);
        isw_mlp_set_lanes(&pack, 2);
        isw_mlp_params_get_lane(&pack, 0, after);
        CHECK(memcmp(after, th + 2 * n, n * sizeof *after) == 0);
        isw_mlp_forward(&pack, B);
        isw_mlp_loss_lanes(&pack, B, sums);
        CHECK_NEAR(sums[0], l2, tol * fmax(1, fabs(l2)));
        free(th);
        free(g);
        free(after);
        isw_mlp_free(&pack);
        isw_mlp_free(&lone);
    }
}

int main(void)
{
    isw_mlp_blas_threads(1);
    test_gradients_all_cases();
    for (int p = ISW_PREC_FLOAT; p <= ISW_PREC_DOUBLE; p++) {
        isw_prec_t prec = (isw_prec_t)p;
        test_mse_by_hand(prec);
        test_parameterizations(prec);
        test_cross_entropy(prec);
        test_homogeneity(ISW_ACT_RELU, prec);
        test_homogeneity(ISW_ACT_LEAKY_RELU, prec);
        test_sgd(prec);
        test_accumulate(prec);
        test_load_batch(prec);
        test_stats_dead(prec);
        test_stats_saturated(ISW_ACT_SIGMOID, prec);
        test_stats_saturated(ISW_ACT_TANH, prec);
        test_lanes_all_cases(prec);
    }
    test_sizes_norms_finite();
    test_gain();
    return CHECK_DONE();
}
