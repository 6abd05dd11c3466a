/* The trainer: outcome rules on constructed trajectories, the analytic
 * divergence threshold of gradient descent on least squares, and real small
 * trainings that must end in the documented outcomes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>

#include "check.h"
#include "initsweep/data.h"
#include "initsweep/hessian.h"
#include "initsweep/spec.h"
#include "initsweep/train.h"

static isw_criteria_spec_t criteria(void)
{
    isw_spec_t s;
    isw_spec_defaults(&s);
    isw_criteria_spec_t c = s.criteria;
    c.target_accuracy = NAN;
    c.target_loss = NAN;
    c.target_loss_ratio = 0.01;
    c.patience = 5;
    c.min_improvement = 1e-3;
    return c;
}

static isw_outcome_t classify(const isw_criteria_spec_t *c, const double *loss, int n,
                              isw_trajectory_t t, int *ec)
{
    t.loss = loss;
    t.n = n;
    return isw_train_classify(c, &t, ec);
}

static void test_rules(void)
{
    isw_criteria_spec_t c = criteria();
    isw_trajectory_t base = {0};
    int ec;

    /* catapult: a 1e5x spike that comes back down and converges */
    double catapult[] = {1, 5, 1e3, 1e5, 1e3, 10, 0.5, 0.05, 0.005, 0.004};
    CHECK_INT(classify(&c, catapult, 10, base, &ec), ISW_OUTCOME_CONVERGED);
    CHECK_INT(ec, 8);

    /* steady divergence: geometric growth that never hit the cap */
    double grow[12];
    for (int i = 0; i < 12; i++)
        grow[i] = pow(2.0, i);
    CHECK_INT(classify(&c, grow, 12, base, &ec), ISW_OUTCOME_DIVERGED);
    CHECK_INT(ec, -1);

    /* the cap or a non-finite value: diverged whatever the rest */
    isw_trajectory_t capped = base;
    capped.capped = 1;
    double shortrun[] = {1, 0.5};
    CHECK_INT(classify(&c, shortrun, 2, capped, &ec), ISW_OUTCOME_DIVERGED);
    isw_trajectory_t nonfinite = base;
    nonfinite.nonfinite = 1;
    CHECK_INT(classify(&c, shortrun, 2, nonfinite, &ec), ISW_OUTCOME_DIVERGED);

    /* dead: a whole relu layer off, loss at target (zero targets) */
    double dead[] = {1, 0.3, 0, 0, 0, 0, 0, 0};
    isw_trajectory_t d = base;
    d.uses_relu = 1;
    d.layer_dead = 1;
    d.dead_fraction = 0.6;
    CHECK_INT(classify(&c, dead, 8, d, &ec), ISW_OUTCOME_DEAD);
    /* most units dead and flat, not at target */
    double deadflat[] = {1, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7};
    d.layer_dead = 0;
    CHECK_INT(classify(&c, deadflat, 8, d, &ec), ISW_OUTCOME_DEAD);
    /* the same net alive is only stalled */
    d.dead_fraction = 0.1;
    CHECK_INT(classify(&c, deadflat, 8, d, &ec), ISW_OUTCOME_STALLED);

    /* saturation plateau at 1/2 (1 - sum p_k^2) = 0.45 */
    double plateau[] = {2.4, 0.46, 0.4500, 0.4500, 0.4499, 0.4500, 0.4500, 0.4500};
    isw_trajectory_t s = base;
    s.uses_saturating = 1;
    s.saturated_fraction = 1.0;
    CHECK_INT(classify(&c, plateau, 8, s, &ec), ISW_OUTCOME_SATURATED);
    /* saturated softmax outputs, hidden units fine */
    s.uses_saturating = 0;
    s.output_saturates = 1;
    s.output_saturated_fraction = 0.9;
    CHECK_INT(classify(&c, plateau, 8, s, &ec), ISW_OUTCOME_SATURATED);

    /* slow: still improving 2 % an epoch when the budget ran out */
    double slow[20];
    for (int i = 0; i < 20; i++)
        slow[i] = pow(0.98, i);
    CHECK_INT(classify(&c, slow, 20, base, &ec), ISW_OUTCOME_SLOW);

    /* constant-amplitude oscillation: not converged, not slow */
    double osc[16];
    for (int i = 0; i < 16; i++)
        osc[i] = i == 0 ? 1.0 : (i % 2 ? 0.5 : 0.9);
    CHECK_INT(classify(&c, osc, 16, base, &ec), ISW_OUTCOME_STALLED);

    /* an oscillation that dips to the target and leaves it again */
    double dip[] = {1, 0.5, 0.005, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    CHECK_INT(classify(&c, dip, 9, base, &ec), ISW_OUTCOME_STALLED);

    /* flatness itself */
    CHECK(isw_train_is_flat(&c, plateau, 8));
    CHECK(!isw_train_is_flat(&c, slow, 20));
    CHECK(!isw_train_is_flat(&c, plateau, 3)); /* fewer evaluations than patience */

    /* accuracy target */
    isw_criteria_spec_t ca = c;
    ca.target_loss_ratio = NAN;
    ca.target_accuracy = 0.8;
    double l3[] = {1, 0.9, 0.8};
    double a3[] = {0.1, 0.5, 0.85};
    isw_trajectory_t ta = base;
    ta.acc = a3;
    CHECK_INT(classify(&ca, l3, 3, ta, &ec), ISW_OUTCOME_CONVERGED);
    CHECK_INT(ec, 2);

    /* the bounded rule: the mean of the last `window` loss ratios < 1.  The
     * catapult is bounded at the end; steady growth and a late spike are
     * not; a non-finite value counts 1e6; a dead-looking flat run below its
     * start is converged (the rule knows no other label). */
    isw_criteria_spec_t cb = c;
    cb.rule = ISW_RULE_BOUNDED;
    cb.bounded_window = 4;
    CHECK_INT(classify(&cb, catapult, 10, base, &ec), ISW_OUTCOME_CONVERGED);
    CHECK_INT(ec, 6);
    CHECK_INT(classify(&cb, grow, 12, base, &ec), ISW_OUTCOME_DIVERGED);
    CHECK_INT(ec, -1);
    double late[] = {1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 3.1};   /* mean 1.15 */
    CHECK_INT(classify(&cb, late, 8, base, &ec), ISW_OUTCOME_DIVERGED);
    double near[] = {1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 2.4};   /* mean 0.975 */
    CHECK_INT(classify(&cb, near, 8, base, &ec), ISW_OUTCOME_CONVERGED);
    CHECK_INT(ec, 4);   /* bounded on average only: the window's first */
    double inf_tail[] = {1, 0.1, 0.1, 0.1, INFINITY};
    CHECK_INT(classify(&cb, inf_tail, 5, base, &ec), ISW_OUTCOME_DIVERGED);
    CHECK_INT(classify(&cb, deadflat, 8, d, &ec), ISW_OUTCOME_CONVERGED);
    CHECK_INT(classify(&cb, shortrun, 2, capped, &ec), ISW_OUTCOME_DIVERGED);
    CHECK_INT(classify(&cb, shortrun, 1, base, &ec), ISW_OUTCOME_DIVERGED); /* never trained */
    cb.bounded_window = 20;   /* longer than the run: every evaluation after init */
    CHECK_INT(classify(&cb, near, 8, base, &ec), ISW_OUTCOME_CONVERGED);
    /* a run without a curvature scale (lr_unit: sharpness, lambda_0 <= 0)
     * never moved: stalled under either rule, not diverged */
    isw_trajectory_t un = base;
    un.unscaled = 1;
    double still[] = {1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_INT(classify(&cb, still, 8, un, &ec), ISW_OUTCOME_STALLED);
    CHECK_INT(classify(&c, still, 8, un, &ec), ISW_OUTCOME_STALLED);
    CHECK_STR(isw_rule_name(ISW_RULE_BOUNDED), "bounded");
    CHECK_STR(isw_lr_unit_name(ISW_LR_SHARPNESS), "sharpness");

    CHECK_STR(isw_outcome_name(ISW_OUTCOME_SATURATED), "saturated");
    CHECK_INT(isw_outcome_parse("slow"), ISW_OUTCOME_SLOW);
    CHECK_INT(isw_outcome_parse("bogus"), -1);
}

/* lambda_max of X^T X / N with a ones column (bias), from the float data
 * exactly as the trainer sees them, by GSL's symmetric eigensolver. */
static double lambda_max(const isw_data_t *d)
{
    size_t p = d->nin + 1;
    gsl_matrix *A = gsl_matrix_calloc(p, p);
    for (size_t i = 0; i < d->n; i++)
        for (size_t a = 0; a < p; a++)
            for (size_t b = 0; b < p; b++) {
                double xa = a < d->nin ? d->X[i * d->nin + a] : 1.0;
                double xb = b < d->nin ? d->X[i * d->nin + b] : 1.0;
                *gsl_matrix_ptr(A, a, b) += xa * xb / (double)d->n;
            }
    gsl_vector *ev = gsl_vector_alloc(p);
    gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(p);
    CHECK_INT(gsl_eigen_symm(A, ev, w), GSL_SUCCESS);
    double lmax = gsl_vector_max(ev);
    gsl_eigen_symm_free(w);
    gsl_vector_free(ev);
    gsl_matrix_free(A);
    return lmax;
}

static isw_spec_t least_squares_spec(void)
{
    isw_spec_t s;
    isw_spec_defaults(&s);
    s.base_seed = s.seed = 7;
    s.data.kind = ISW_DATA_SYNTHETIC;
    s.data.generator = ISW_GEN_LINEAR;
    s.data.samples = 200;
    s.data.inputs = 5;
    s.data.targets = 1;
    s.data.noise = 0.3;
    s.data.classes = 0;
    s.model.nhidden = 0;
    s.model.output = ISW_OUT_LINEAR;
    s.model.loss = ISW_LOSS_MSE;
    s.model.output_set = s.model.loss_set = 1;
    s.model.bias = 1;
    s.init.dist = ISW_DIST_NORMAL;
    s.init.scale = 0.1;
    s.train.batch = 0;
    s.train.epochs = 400;
    s.train.precision = ISW_PREC_DOUBLE;
    s.criteria.stop_on_flat = 0;
    s.criteria.stop_on_target = 0;
    return s;
}

static void test_least_squares_threshold(void)
{
    isw_spec_t s = least_squares_spec();
    isw_error_t err;
    CHECK_INT(isw_spec_validate(&s, "test", &err), ISW_OK);
    isw_data_t d;
    if (!CHECK_INT(isw_data_load(&d, &s, &err), ISW_OK)) {
        isw_error_print(stderr, &err);
        return;
    }
    double lmax = lambda_max(&d);
    double lr_star = 2.0 / lmax;
    for (int prec = 0; prec < 2; prec++) {
        s.train.precision = prec ? ISW_PREC_DOUBLE : ISW_PREC_FLOAT;
        isw_record_t below, above;
        s.train.lr = 0.98 * lr_star;
        below.task = 0;
        CHECK_INT(isw_train_run(&below, &s, &d, NULL, NULL, &err), ISW_OK);
        CHECK(below.outcome != ISW_OUTCOME_DIVERGED);
        CHECK(below.loss_final <= below.loss_initial);
        CHECK(isfinite(below.loss_max) && below.loss_max <= below.loss_initial);
        s.train.lr = 1.02 * lr_star;
        above.task = 1;
        CHECK_INT(isw_train_run(&above, &s, &d, NULL, NULL, &err), ISW_OK);
        CHECK_INT(above.outcome, ISW_OUTCOME_DIVERGED);
        CHECK_INT(above.task, 1);
    }

    /* sharpness at init: for a linear model with mse the Hessian is
     * X^T X / N exactly, whatever the parameters */
    s.train.precision = ISW_PREC_DOUBLE;
    s.train.sharpness_iters = 100;
    double lambda;
    CHECK_INT(isw_train_sharpness(&lambda, 1, &s, &d, &err), ISW_OK);
    CHECK_NEAR(lambda / lmax, 1.0, 1e-4);
    /* float training, double curvature: the same number */
    s.train.precision = ISW_PREC_FLOAT;
    CHECK_INT(isw_train_sharpness(&lambda, 1, &s, &d, &err), ISW_OK);
    CHECK_NEAR(lambda / lmax, 1.0, 1e-4);

    /* The same threshold in units of the curvature: c = lr lambda_0 = 2,
     * whatever the data's scale, as a pack of two lanes (c either side of
     * 2) in both precisions.  Lanczos over the 6 parameters is exact. */
    for (int prec = 0; prec < 2; prec++) {
        isw_spec_t two[2] = {s, s};
        isw_record_t rec[2] = {{.task = 0}, {.task = 1}};
        for (int k = 0; k < 2; k++) {
            two[k].train.precision = prec ? ISW_PREC_DOUBLE : ISW_PREC_FLOAT;
            two[k].train.lr_unit = ISW_LR_SHARPNESS;
            two[k].train.sharpness_method = ISW_SHARP_LANCZOS;
            two[k].train.sharpness_iters = 6;
            two[k].train.pack = 2;
            two[k].train.lr = k == 0 ? 1.96 : 2.04;
            two[k].train.sharpness_every = 7;
            two[k].train.early_steps = 400;   /* the whole run */
        }
        CHECK_INT(isw_train_pack(rec, two, 2, &d, NULL, NULL, NULL, NULL, &err), ISW_OK);
        for (int k = 0; k < 2; k++) {
            CHECK_NEAR(rec[k].sharpness_initial / lmax, 1.0, 1e-9);
            CHECK_NEAR(rec[k].lr_used * lmax, two[k].train.lr, 1e-8);
        }
        CHECK(rec[0].outcome != ISW_OUTCOME_DIVERGED);
        CHECK(rec[0].loss_max <= rec[0].loss_initial);
        CHECK_INT(rec[1].outcome, ISW_OUTCOME_DIVERGED);
        CHECK_INT(rec[0].catapult, 0);
        /* the Hessian of least squares is constant: every probe reads
         * lambda_max; c = 1.96 never reaches 2 / lr, c = 2.04 is past it
         * from the start, by exactly 2.04 / 2 */
        for (int k = 0; k < 2; k++) {
            CHECK_NEAR(rec[k].sharpness_max / lmax, 1.0, 1e-9);
            CHECK_NEAR(rec[k].sharpness_final / lmax, 1.0, 1e-9);
            CHECK_NEAR(rec[k].sharpness_early_ratio, 1.0, 1e-9);
        }
        CHECK_INT(rec[0].eos_epoch, -1);
        CHECK(isnan(rec[0].eos_ratio));
        CHECK(rec[0].loss_early_ratio < 1.0);
        CHECK_INT(rec[1].eos_epoch, 0);
        CHECK_NEAR(rec[1].eos_ratio, 1.02, 1e-9);
        CHECK(rec[1].loss_early_ratio > 1.0);
        /* heavy-ball momentum beta moves the edge to lr lambda = 2 (1 + beta):
         * with beta = 0.5, c = 2.9 trains and never reaches the edge, c =
         * 3.1 diverges, past it from the start by exactly 3.1 / 3 */
        {
            isw_spec_t mom[2] = {two[0], two[1]};
            isw_record_t mrec[2] = {{.task = 0}, {.task = 1}};
            for (int k = 0; k < 2; k++) {
                mom[k].train.momentum = 0.5;
                mom[k].train.lr = k == 0 ? 2.9 : 3.1;
            }
            CHECK_INT(isw_train_pack(mrec, mom, 2, &d, NULL, NULL, NULL, NULL, &err), ISW_OK);
            CHECK(mrec[0].outcome != ISW_OUTCOME_DIVERGED);
            CHECK(mrec[0].loss_final < mrec[0].loss_initial);
            CHECK_INT(mrec[0].eos_epoch, -1);
            CHECK_INT(mrec[1].outcome, ISW_OUTCOME_DIVERGED);
            CHECK_INT(mrec[1].eos_epoch, 0);
            CHECK_NEAR(mrec[1].eos_ratio, 3.1 / 3.0, 1e-9);
        }
        /* a layer lr multiplier moves the absolute edge, not c: the
         * sharpness is taken in the step's metric (0.5 lambda_max) */
        for (int k = 0; k < 2; k++) {
            two[k].train.lr_layer[0] = 0.5;
            two[k].train.sharpness_every = 0;
        }
        CHECK_INT(isw_train_pack(rec, two, 2, &d, NULL, NULL, NULL, NULL, &err), ISW_OK);
        CHECK_NEAR(rec[0].sharpness_initial / lmax, 0.5, 1e-9);
        CHECK(rec[0].outcome != ISW_OUTCOME_DIVERGED);
        CHECK_INT(rec[1].outcome, ISW_OUTCOME_DIVERGED);
    }
    isw_data_free(&d);
}

static int count_epochs(const isw_epoch_t *ep, void *user)
{
    int *n = user;
    CHECK_INT(ep->epoch, *n);
    CHECK(ep->nlayers == 2);
    (*n)++;
    return 0;
}

/* Positive inputs, sigmoid units and weights from U[0,1): every hidden unit
 * saturates and the run is stuck; U[-0.5,0.5] learns.  On real data. */
static void test_sigmoid_saturation(void)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    isw_spec_t s;
    isw_spec_defaults(&s);
    s.data.kind = ISW_DATA_IDX;
    snprintf(s.data.images, sizeof s.data.images, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(s.data.labels, sizeof s.data.labels, "%s/train-labels-idx1-ubyte.gz", dir);
    s.base_seed = s.seed = 1;
    s.data.limit = 10000;
    s.data.normalize = 255;
    s.data.classes = 10;
    s.model.nhidden = 1;
    s.model.hidden[0] = 15;
    s.model.activation = ISW_ACT_SIGMOID;
    s.model.output = ISW_OUT_SIGMOID;
    s.model.loss = ISW_LOSS_MSE;
    s.model.output_set = s.model.loss_set = 1;
    s.init.dist = ISW_DIST_UNIFORM_POSITIVE;
    s.init.scale = 1.0;
    s.init.bias = ISW_BIAS_SAME;
    s.train.lr = 0.5;
    s.train.batch = 10;
    s.train.epochs = 30;
    s.criteria.target_accuracy = 0.6;
    isw_error_t err;
    if (!CHECK_INT(isw_spec_validate(&s, "test", &err), ISW_OK))
        isw_error_print(stderr, &err);
    isw_data_t d;
    if (!CHECK_INT(isw_data_load(&d, &s, &err), ISW_OK)) {
        isw_error_print(stderr, &err);
        return;
    }
    isw_record_t r;
    r.task = 0;
    int nep = 0;
    CHECK_INT(isw_train_run(&r, &s, &d, count_epochs, &nep, &err), ISW_OK);
    CHECK_INT(nep, r.epochs + 1);
    CHECK_INT(r.outcome, ISW_OUTCOME_SATURATED);
    CHECK(r.saturated_fraction > 0.9);
    /* stuck near 1/2 (1 - sum p_k^2) = 0.45 for ten near-balanced classes */
    CHECK_NEAR(r.loss_final, 0.45, 0.01);
    CHECK(r.accuracy_final < 0.2);

    s.init.dist = ISW_DIST_UNIFORM;
    s.init.scale = 0.5;
    r.task = 1;
    CHECK_INT(isw_train_run(&r, &s, &d, NULL, NULL, &err), ISW_OK);
    CHECK_INT(r.outcome, ISW_OUTCOME_CONVERGED);
    CHECK(r.accuracy_final >= 0.6);
    CHECK(r.epoch_converged >= 1 && r.epoch_converged <= 5);
    isw_data_free(&d);
}

/* Defaults with 300 three-class spirals, one hidden layer of `hidden`
 * units and `epochs` epochs; the caller sets the rest. */
static isw_spec_t spirals_spec(uint64_t base_seed, uint64_t seed, int hidden, int epochs)
{
    isw_spec_t s;
    isw_spec_defaults(&s);
    s.base_seed = base_seed;
    s.seed = seed;
    s.data.generator = ISW_GEN_SPIRALS;
    s.data.samples = 300;
    s.data.classes = 3;
    s.model.nhidden = 1;
    s.model.hidden[0] = hidden;
    s.train.epochs = epochs;
    return s;
}

/* Validates s and loads its data into d; 0 on failure (reported). */
static int spirals_load(isw_spec_t *s, isw_data_t *d)
{
    isw_error_t err;
    if (!CHECK_INT(isw_spec_validate(s, "test", &err), ISW_OK) ||
        !CHECK_INT(isw_data_load(d, s, &err), ISW_OK)) {
        isw_error_print(stderr, &err);
        return 0;
    }
    return 1;
}

/* Same spec, same record (bit for bit but the seconds). */
static void test_determinism(void)
{
    isw_spec_t s = spirals_spec(3, 5, 16, 5);
    s.train.momentum = 0.9;
    isw_error_t err;
    isw_data_t d;
    if (!spirals_load(&s, &d))
        return;
    isw_record_t a, b;
    a.task = b.task = 9;
    CHECK_INT(isw_train_run(&a, &s, &d, NULL, NULL, &err), ISW_OK);
    CHECK_INT(isw_train_run(&b, &s, &d, NULL, NULL, &err), ISW_OK);
    a.seconds = b.seconds = 0;
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    s.seed = 6;
    CHECK_INT(isw_train_run(&b, &s, &d, NULL, NULL, &err), ISW_OK);
    CHECK(a.loss_initial != b.loss_initial);
    isw_data_free(&d);
}

/* Collects each evaluation's first-layer gradient norm. */
static int grad_log(const isw_epoch_t *ep, void *user)
{
    double *g = user;
    g[ep->epoch] = ep->grad_norm[0];
    return 0;
}

/* Mini-batch evaluations after the first are forward only: the record is
 * the same bits as with the gradient at every evaluation, and only
 * train.eval_gradient gives the later evaluations' norms. */
static void test_forward_only_evaluation(void)
{
    isw_spec_t s = spirals_spec(4, 4, 12, 4);
    s.model.activation = ISW_ACT_TANH;
    s.train.batch = 16;
    s.criteria.stop_on_flat = 0;
    isw_error_t err;
    isw_data_t d;
    if (!spirals_load(&s, &d))
        return;
    isw_record_t a, b;
    double ga[8], gb[8];
    a.task = b.task = 2;
    CHECK_INT(isw_train_run(&a, &s, &d, grad_log, ga, &err), ISW_OK);
    s.train.eval_gradient = 1;
    CHECK_INT(isw_train_run(&b, &s, &d, grad_log, gb, &err), ISW_OK);
    CHECK_INT(a.epochs, 4);
    a.seconds = b.seconds = 0;
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(isfinite(a.grad_norm_initial) && a.grad_norm_initial > 0);
    CHECK(ga[0] == gb[0] && ga[0] > 0);
    for (int e = 1; e <= a.epochs; e++) {
        CHECK(isnan(ga[e]));
        CHECK(isfinite(gb[e]) && gb[e] > 0);
    }
    /* full batch: the evaluation is the step's gradient, always there */
    s.train.batch = 0;
    s.train.eval_gradient = 0;
    CHECK_INT(isw_train_run(&a, &s, &d, grad_log, ga, &err), ISW_OK);
    for (int e = 0; e <= a.epochs; e++)
        CHECK(isfinite(ga[e]) && ga[e] > 0);
    isw_data_free(&d);
}

/* explain's init probe against the same network computed in one batch
 * here: per-layer pre-activation mean and RMS, tanh slopes and the share
 * below the threshold, the output spread and mean max p, over 5000 samples
 * (three evaluation chunks there, one here); the gradient norms and the loss
 * equal epoch 0's of a run of the spec. */
static int first_epoch(const isw_epoch_t *ep, void *user)
{
    if (ep->epoch == 0)
        *(isw_epoch_t *)user = *ep;
    return 0;
}

static void test_init_probe(void)
{
    isw_spec_t s;
    isw_spec_defaults(&s);
    s.base_seed = s.seed = 3;
    s.data.kind = ISW_DATA_SYNTHETIC;
    s.data.generator = ISW_GEN_BLOBS;
    s.data.samples = 5000;
    s.data.inputs = 6;
    s.data.classes = 3;
    s.model.nhidden = 2;
    s.model.hidden[0] = 7;
    s.model.hidden[1] = 5;
    s.model.activation = ISW_ACT_TANH;
    s.init.dist = ISW_DIST_NORMAL;
    s.init.scale = 1.5;                  /* enough for some saturated pairs */
    s.init.bias = ISW_BIAS_NORMAL;
    s.train.precision = ISW_PREC_DOUBLE;
    s.train.epochs = 1;
    s.train.eval_gradient = 1;
    s.criteria.saturation_derivative = 0.05;
    isw_error_t err;
    CHECK_INT(isw_spec_validate(&s, "test", &err), ISW_OK);
    isw_data_t d;
    if (!CHECK_INT(isw_data_load(&d, &s, &err), ISW_OK))
        return;
    isw_init_probe_t pr;
    CHECK_INT(isw_train_probe_init(&pr, &s, &d, &err), ISW_OK);
    CHECK_INT(pr.nlayers, 3);

    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &s.model, d.nin, d.nout, ISW_PREC_DOUBLE, d.n), ISW_OK);
    double *scratch = malloc(net.nparams * sizeof *scratch);
    gsl_rng *r = isw_init_rng(s.base_seed, s.seed, ISW_STREAM_INIT);
    isw_init_params(&net, 0, &s.init, r, scratch);
    gsl_rng_free(r);
    isw_mlp_load_batch(&net, &d, NULL, 0, d.n);
    isw_mlp_forward(&net, d.n);
    int flat_any = 0;
    double hmean[2], qmean[2], fmean[2];
    for (int l = 0; l < 2; l++) {
        size_t w = (size_t)net.width[l + 1];
        const double *Z = net.Z[l], *H = net.H[l];
        double zs = 0, zz = 0, sl = 0, flat = 0, hs = 0, m = (double)(d.n * w);
        for (size_t i = 0; i < d.n * w; i++) {
            zs += Z[i];
            zz += Z[i] * Z[i];
            hs += H[i];
            double slope = 1 - tanh(Z[i]) * tanh(Z[i]);
            CHECK_NEAR(H[i], tanh(Z[i]), 1e-12);
            sl += slope;
            flat += slope < 0.05;
        }
        CHECK_INT(pr.layer[l].width, (int)w);
        CHECK_NEAR(pr.layer[l].z_mean, zs / m, 1e-10);
        CHECK_NEAR(pr.layer[l].z_rms, sqrt(zz / m), 1e-10);
        CHECK_NEAR(pr.layer[l].slope_mean, sl / m, 1e-10);
        CHECK_NEAR(pr.layer[l].flat_share, flat / m, 1e-12);
        flat_any |= flat > 0 && flat < m;
        hmean[l] = hs / m, qmean[l] = zz / m, fmean[l] = flat / m;
        /* two inputs' correlation: the pairs (0,1), (2,3), ... */
        double corr = 0;
        for (size_t i = 0; i + 1 < d.n; i += 2) {
            double ab = 0, aa = 0, bb = 0;
            for (size_t j = 0; j < w; j++) {
                ab += Z[i * w + j] * Z[(i + 1) * w + j];
                aa += Z[i * w + j] * Z[i * w + j];
                bb += Z[(i + 1) * w + j] * Z[(i + 1) * w + j];
            }
            corr += ab / sqrt(aa * bb);
        }
        CHECK_NEAR(pr.layer[l].corr, corr / (double)(d.n / 2), 1e-10);
    }
    /* the backward signal sample by sample, by hand: softmax with
     * cross-entropy gives d loss / d z_out = p - y; then delta_l = tanh'(z_l)
     * (W_{l+1}^T delta_{l+1}) */
    const double *O0 = net.H[2], *Y = net.Y, *P = scratch;
    double dsq[2] = {0, 0};
    for (size_t i = 0; i < ISW_PROBE_DELTA_SAMPLES; i++) {
        double up[16], cur[16];
        size_t wu = d.nout;
        for (size_t j = 0; j < wu; j++)
            up[j] = O0[i * wu + j] - Y[i * wu + j];
        for (int l = 1; l >= 0; l--) {
            size_t w = (size_t)net.width[l + 1];
            const double *W = P + net.woff[l + 1];     /* (wu, w) */
            const double *Z = net.Z[l];
            double ss = 0;
            for (size_t j = 0; j < w; j++) {
                double g = 0;
                for (size_t u = 0; u < wu; u++)
                    g += W[u * w + j] * up[u];
                double t = tanh(Z[i * w + j]);
                cur[j] = (1 - t * t) * g;
                ss += cur[j] * cur[j];
            }
            dsq[l] += ss / ISW_PROBE_DELTA_SAMPLES;
            memcpy(up, cur, w * sizeof *up);
            wu = w;
        }
    }
    for (int l = 0; l < 2; l++)
        CHECK_NEAR(pr.layer[l].delta_sq, dsq[l], 1e-9 * dsq[l]);
    /* two hidden layers: the fit is their ratio */
    CHECK_NEAR(pr.chi1, dsq[0] / dsq[1], 1e-9 * dsq[0] / dsq[1]);
    CHECK(flat_any);      /* the threshold was exercised, not trivially 0 or 1 */
    double var = 0, mag = 0, top = 0;
    const double *O = net.H[2];
    for (size_t j = 0; j < d.nout; j++) {
        double a = 0, b = 0;
        for (size_t i = 0; i < d.n; i++) {
            a += O[i * d.nout + j];
            b += O[i * d.nout + j] * O[i * d.nout + j];
        }
        a /= (double)d.n;
        var += b / (double)d.n - a * a;
        mag += a * a;
    }
    for (size_t i = 0; i < d.n; i++) {
        double t = 0;
        for (size_t j = 0; j < d.nout; j++)
            t = fmax(t, O[i * d.nout + j]);
        top += t / (double)d.n;
    }
    CHECK_NEAR(pr.output_spread, sqrt(var) / sqrt(mag), 1e-9);
    CHECK_NEAR(pr.output_max_mean, top, 1e-12);
    free(scratch);
    isw_mlp_free(&net);

    isw_record_t rec;
    isw_record_init(&rec, 0);
    isw_epoch_t e0;
    memset(&e0, 0, sizeof e0);
    CHECK_INT(isw_train_run(&rec, &s, &d, first_epoch, &e0, &err), ISW_OK);
    CHECK_NEAR(pr.loss, rec.loss_initial, 1e-12);
    for (int l = 0; l < 3; l++)
        CHECK_NEAR(pr.grad_norm[l], e0.grad_norm[l], 1e-12 * (1 + e0.grad_norm[l]));
    /* a run that reports its epochs has the per-layer means at epoch 0 */
    for (int l = 0; l < 2; l++) {
        CHECK_NEAR(e0.act_mean[l], hmean[l], 1e-10);
        CHECK_NEAR(e0.q[l], qmean[l], 1e-10);
        CHECK_NEAR(e0.flat_share[l], fmean[l], 1e-12);
    }
    CHECK(isnan(e0.act_mean[2]));
    /* and train.signal puts the probe and the mean field in the record */
    s.train.signal = 1;
    CHECK_INT(isw_train_run(&rec, &s, &d, NULL, NULL, &err), ISW_OK);
    CHECK_NEAR(rec.signal_q, pr.layer[1].z_rms * pr.layer[1].z_rms, 1e-12);
    CHECK_NEAR(rec.signal_q_ratio, rec.signal_q / (pr.layer[0].z_rms * pr.layer[0].z_rms), 1e-12);
    CHECK_NEAR(rec.signal_c, pr.layer[1].corr, 1e-12);
    CHECK_NEAR(rec.chi1_measured, pr.chi1, 1e-12);
    isw_meanfield_t mf;
    double sw2, sb2;
    CHECK_INT(isw_train_meanfield(&mf, &sw2, &sb2, &s, &d), ISW_OK);
    CHECK_NEAR(sw2, 1.5 * 1.5 * 7, 1e-12);    /* normal x 1.5, fan-in 7 */
    CHECK_NEAR(sb2, 1.0, 1e-15);              /* bias normal, bias_scale 1 */
    CHECK(rec.mf_chi1 == mf.chi1 && rec.mf_q_star == mf.q_star && rec.mf_xi_c == mf.xi_c);
    isw_data_free(&d);
}

/* train.replacement: every step's batch is B uniform draws from the seed's
 * shuffle stream, epoch_steps steps per evaluation; the run equals plain SGD
 * written out here with the same draws, to rounding in double. */
static void test_replacement(void)
{
    isw_spec_t s;
    isw_spec_defaults(&s);
    s.base_seed = 4;
    s.seed = 2;
    s.data.kind = ISW_DATA_SYNTHETIC;
    s.data.generator = ISW_GEN_GAUSSIAN;
    s.data.samples = 50;
    s.data.inputs = 3;
    s.data.targets = 1;
    s.model.nhidden = 1;
    s.model.hidden[0] = 4;
    s.model.activation = ISW_ACT_TANH;
    s.model.output = ISW_OUT_LINEAR;
    s.model.output_set = 1;
    s.model.loss = ISW_LOSS_MSE;
    s.model.loss_set = 1;
    s.train.precision = ISW_PREC_DOUBLE;
    s.train.lr = 0.1;
    s.train.batch = 8;
    s.train.replacement = 1;
    s.train.epoch_steps = 3;
    s.train.epochs = 2;
    s.criteria.stop_on_flat = 0;
    isw_error_t err;
    if (!CHECK_INT(isw_spec_validate(&s, "test", &err), ISW_OK))
        return;
    isw_data_t d;
    if (!CHECK_INT(isw_data_load(&d, &s, &err), ISW_OK))
        return;
    isw_record_t rec;
    isw_record_init(&rec, 0);
    CHECK_INT(isw_train_run(&rec, &s, &d, NULL, NULL, &err), ISW_OK);
    CHECK_INT(rec.epochs, 2);

    isw_mlp_t net;
    CHECK_INT(isw_mlp_alloc(&net, &s.model, d.nin, d.nout, ISW_PREC_DOUBLE, d.n), ISW_OK);
    double *scratch = malloc(net.nparams * sizeof *scratch);
    gsl_rng *r = isw_init_rng(s.base_seed, s.seed, ISW_STREAM_INIT);
    isw_init_params(&net, 0, &s.init, r, scratch);
    gsl_rng_free(r);
    r = isw_init_rng(s.base_seed, s.seed, ISW_STREAM_SHUFFLE);
    size_t idx[8];
    for (int step = 0; step < 6; step++) {
        for (int i = 0; i < 8; i++)
            idx[i] = (size_t)gsl_rng_uniform_int(r, d.n);
        isw_mlp_load_batch(&net, &d, idx, 0, 8);
        isw_mlp_forward(&net, 8);
        isw_mlp_backward(&net, 8, 1.0 / 8, 0);
        isw_mlp_sgd_step(&net, 0.1, s.train.lr_layer, 0);
    }
    gsl_rng_free(r);
    isw_mlp_load_batch(&net, &d, NULL, 0, d.n);
    isw_mlp_forward(&net, d.n);
    double loss = isw_mlp_loss(&net, d.n) / (double)d.n;
    CHECK_NEAR(rec.loss_final, loss, 1e-12 * loss);
    CHECK(rec.loss_final != rec.loss_initial);
    /* without replacement, the same budget in passes is another run */
    s.train.replacement = 0;
    s.train.epoch_steps = 0;
    isw_record_t plain;
    isw_record_init(&plain, 0);
    CHECK_INT(isw_train_run(&plain, &s, &d, NULL, NULL, &err), ISW_OK);
    CHECK(plain.loss_final != rec.loss_final);
    /* epoch_steps without replacement is refused */
    s.train.epoch_steps = 3;
    CHECK_INT(isw_spec_validate(&s, "test", &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "train.epoch_steps: found 3, but train.replacement is false");
    free(scratch);
    isw_mlp_free(&net);
    isw_data_free(&d);
}

int main(void)
{
    gsl_set_error_handler_off();
    test_rules();
    test_least_squares_threshold();
    test_init_probe();
    test_replacement();
    test_sigmoid_saturation();
    test_determinism();
    test_forward_only_evaluation();
    return CHECK_DONE();
}
