/* The SGD loop, per-epoch evaluation, run classification and diagnostics.
 *
 * A run alternates training epochs with evaluation passes.  An evaluation
 * pass runs forward over the evaluation set in chunks and accumulates the
 * full-data loss, accuracy and the unit diagnostics; where the gradient is
 * wanted it also runs backward (gradient norms per layer).  With full-batch
 * training the evaluation set is the training set, so the evaluation pass
 * at theta_t *is* the gradient of step t: each epoch costs one pass, not
 * two.  With mini-batches only the first evaluation needs the gradient (the
 * record's grad_norm_initial); the later ones are forward only, a third of
 * the work, unless train.eval_gradient asks for every one. */
#include "initsweep/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_fit.h>
#include <gsl/gsl_rng.h>

#include "initsweep/hessian.h"
#include "initsweep/init.h"
#include "initsweep/meanfield.h"
#include "initsweep/mlp.h"

/* Rows per evaluation chunk: large enough for efficient gemm, small enough
 * that the activations of a wide net stay within a few tens of MB. */
#define EVAL_CHUNK 2048
/* Rows per chunk of a Hessian-vector product: it keeps Z, H, R{Z}, R{H}
 * of every layer in double, so fewer rows than an evaluation. */
#define HESS_CHUNK 512

static const char *const outcome_names[ISW_NOUTCOMES] = {
    "converged", "diverged", "dead", "saturated", "stalled", "slow"};

const char *isw_outcome_name(int outcome)
{
    if (outcome < 0 || outcome >= ISW_NOUTCOMES)
        return "unknown";
    return outcome_names[outcome];
}

/* The rules in order of precedence, in the spec's terms (the README's
 * table gives the defaults; the report the spec's values). */
static const struct {
    isw_outcome_t outcome;
    const char *rule;
} outcome_rules[ISW_NOUTCOMES] = {
    {ISW_OUTCOME_DIVERGED, "a non-finite loss or parameter, or a loss above "
                           "criteria.diverge_ratio x the initial loss (checked after every "
                           "step), or at the end a loss still above criteria.diverge_end_ratio "
                           "x the initial loss; a spike that comes back down (the catapult) is "
                           "not divergence"},
    {ISW_OUTCOME_DEAD, "a whole ReLU hidden layer inactive on every evaluated sample, or flat "
                       "with at least criteria.dead_fraction of the ReLU units dead"},
    {ISW_OUTCOME_CONVERGED, "the target (criteria.target_accuracy, criteria.target_loss or "
                            "criteria.target_loss_ratio) holds at the last evaluation"},
    {ISW_OUTCOME_SLOW, "not flat: still improving when the epochs ran out"},
    {ISW_OUTCOME_SATURATED, "flat, and at least criteria.saturated_fraction of the sigmoid/tanh "
                            "hidden units have a derivative below "
                            "criteria.saturation_derivative on 99 % of the samples, or that "
                            "share of samples has a saturated output"},
    {ISW_OUTCOME_STALLED, "flat for any other reason"},
};

const char *isw_outcome_rule(int rank, int *outcome)
{
    if (rank < 0 || rank >= ISW_NOUTCOMES)
        return NULL;
    *outcome = outcome_rules[rank].outcome;
    return outcome_rules[rank].rule;
}

const char *const isw_flat_rule = "flat: the best loss of the last criteria.patience evaluations "
                                  "improves on the best before them by less than "
                                  "criteria.min_improvement (relative)";
const char *const isw_bounded_rule = "criteria.rule: bounded replaces the rules above: converged "
                                     "iff the mean of the last criteria.bounded_window losses "
                                     "over the initial loss is below 1 (a non-finite loss "
                                     "counting 1e6), else diverged";

const char *isw_lr_unit_name(isw_lr_unit_t u)
{
    return u == ISW_LR_ABSOLUTE ? "absolute" : u == ISW_LR_SHARPNESS ? "sharpness" : "?";
}

const char *isw_rule_name(isw_rule_t r)
{
    return r == ISW_RULE_TARGET ? "target" : r == ISW_RULE_BOUNDED ? "bounded" : "?";
}

int isw_outcome_parse(const char *name)
{
    for (int i = 0; i < ISW_NOUTCOMES; i++)
        if (strcmp(name, outcome_names[i]) == 0)
            return i;
    return -1;
}

/* ---- outcome rules --------------------------------------------------- */

static int target_met(const isw_criteria_spec_t *c, const isw_trajectory_t *t, int i)
{
    double loss = t->loss[i];
    if (!isfinite(loss) || c->rule == ISW_RULE_BOUNDED)
        return 0;
    if (!isnan(c->target_accuracy))
        return t->acc && t->acc[i] >= c->target_accuracy;
    if (!isnan(c->target_loss))
        return loss <= c->target_loss;
    if (!isnan(c->target_loss_ratio))
        return loss <= c->target_loss_ratio * t->loss[0];
    return 0;
}

int isw_train_is_flat(const isw_criteria_spec_t *c, const double *loss, int n)
{
    int p = c->patience;
    if (n - 1 < p)
        return 0;
    /* best loss before the window vs. best inside it */
    double before = INFINITY, recent = INFINITY;
    for (int i = 0; i < n - p; i++)
        if (loss[i] < before)
            before = loss[i];
    for (int i = n - p; i < n; i++)
        if (loss[i] < recent)
            recent = loss[i];
    if (!isfinite(before))
        return 0;
    if (before == 0.0)
        return 1;
    return (before - recent) / fabs(before) < c->min_improvement;
}

/* loss_i / loss_0 as the bounded rule counts it: non-finite (or a loss
 * from a zero start) as BOUNDED_NONFINITE. */
#define BOUNDED_NONFINITE 1e6
static double bounded_ratio(const double *loss, int i)
{
    if (!isfinite(loss[i]))
        return BOUNDED_NONFINITE;
    if (loss[0] > 0)
        return loss[i] / loss[0];
    return loss[i] > 0 ? BOUNDED_NONFINITE : 0.0;
}

/* criteria.rule: bounded.  Converged iff the mean of loss_i / loss_0 over
 * the last bounded_window evaluations (those after init, all of them when
 * fewer) is below 1; epoch_converged is where the run's tail of
 * evaluations below loss_0 starts (the window's first when the last is
 * not below it: bounded on average only).  Everything else diverged. */
static isw_outcome_t classify_bounded(const isw_criteria_spec_t *c, const isw_trajectory_t *t,
                                      int *epoch_converged)
{
    int last = t->n - 1;
    if (t->nonfinite || t->capped || last < 1)
        return ISW_OUTCOME_DIVERGED;
    int first = last - c->bounded_window + 1;
    if (first < 1)
        first = 1;
    double sum = 0;
    for (int i = first; i <= last; i++)
        sum += bounded_ratio(t->loss, i);
    if (!(sum / (last - first + 1) < 1.0))
        return ISW_OUTCOME_DIVERGED;
    int e = last + 1;
    while (e > 1 && bounded_ratio(t->loss, e - 1) < 1.0)
        e--;
    *epoch_converged = e <= last ? e : first;
    return ISW_OUTCOME_CONVERGED;
}

isw_outcome_t isw_train_classify(const isw_criteria_spec_t *c, const isw_trajectory_t *t,
                                 int *epoch_converged)
{
    *epoch_converged = -1;
    int last = t->n - 1;
    if (t->unscaled && !t->nonfinite)
        return ISW_OUTCOME_STALLED;
    if (c->rule == ISW_RULE_BOUNDED)
        return classify_bounded(c, t, epoch_converged);
    if (t->nonfinite || t->capped)
        return ISW_OUTCOME_DIVERGED;
    /* Ran away and did not come back within the budget.  A catapult spike
     * that has come back down by the end is not caught here. */
    if (t->loss[last] > c->diverge_end_ratio * t->loss[0])
        return ISW_OUTCOME_DIVERGED;
    /* A whole dead relu layer makes the output independent of the input:
     * even a loss at target (zero targets) is not learning. */
    if (t->uses_relu && t->layer_dead)
        return ISW_OUTCOME_DEAD;
    /* Converged means at target at the end: an oscillation that dips to the
     * target and leaves it again does not count. */
    if (target_met(c, t, last)) {
        int first = last;
        while (first > 0 && target_met(c, t, first - 1))
            first--;
        *epoch_converged = first;
        return ISW_OUTCOME_CONVERGED;
    }
    if (!isw_train_is_flat(c, t->loss, t->n))
        return ISW_OUTCOME_SLOW;
    if (t->uses_relu && t->dead_fraction >= c->dead_fraction)
        return ISW_OUTCOME_DEAD;
    if (t->uses_saturating && t->saturated_fraction >= c->saturated_fraction)
        return ISW_OUTCOME_SATURATED;
    if (t->output_saturates && t->output_saturated_fraction >= c->saturated_fraction)
        return ISW_OUTCOME_SATURATED;
    return ISW_OUTCOME_STALLED;
}

/* ---- the workspace ------------------------------------------------------ */

/* Bytes one pack step may touch: the automatic K keeps a step's working set
 * (activations, about 4 values per unit per row; parameters, gradients and
 * momentum of every lane) within about the L2 of one core.  Measured on
 * the K sweep (bench/bench_pack.sh): beyond it every elementwise pass
 * streams from L3 and a pack is slower than its lanes alone. */
#define PACK_BYTES (1u << 20)

typedef struct {
    isw_mlp_t net;         /* K lanes (isw_train_pack_lanes) */
    size_t neval;          /* evaluation rows: the first neval samples */
    size_t chunk;          /* rows per evaluation chunk */
    int grad_every;        /* train.eval_gradient: every evaluation runs backward */
    int layer_stats;       /* evaluations fill isw_epoch_t's per-layer means */
    double *scratch;       /* (nparams) doubles: init draws, a lane's parameters */
    isw_hess_t hess;       /* curvature probes (wants_sharpness), else zeroed */
} run_ws_t;

int isw_train_wants_sharpness(const isw_spec_t *spec)
{
    return spec->train.sharpness || spec->train.lr_unit == ISW_LR_SHARPNESS ||
           spec->train.sharpness_every > 0 || spec->train.batch_sharpness > 0;
}

static int is_full_batch(const isw_spec_t *spec, const isw_data_t *data)
{
    return spec->train.batch <= 0 || (size_t)spec->train.batch >= data->n;
}

/* Rows of one training step's forward and backward: the batch, or with
 * full batch the evaluation chunk (the step's gradient is the evaluation's). */
static size_t step_rows(const isw_spec_t *spec, const isw_data_t *data)
{
    if (!is_full_batch(spec, data))
        return (size_t)spec->train.batch;
    return data->n < EVAL_CHUNK ? data->n : EVAL_CHUNK;
}

int isw_train_pack_lanes(const isw_spec_t *spec, const isw_data_t *data, size_t n)
{
    if (n <= 1 || spec->train.pack == 1)
        return 1;
    size_t K = (size_t)spec->train.pack;
    if (K == 0) {
        size_t units = data->nout;
        for (int l = 0; l < spec->model.nhidden; l++)
            units += (size_t)spec->model.hidden[l];
        size_t el = spec->train.precision == ISW_PREC_DOUBLE ? sizeof(double) : sizeof(float);
        double params = (double)isw_mlp_nparams(&spec->model, data->nin, data->nout);
        double per_lane =
            (4.0 * (double)step_rows(spec, data) * (double)units + 3.0 * params) * (double)el;
        double k = floor((double)PACK_BYTES / per_lane);
        K = k < 1 ? 1 : k > ISW_MAX_LANES ? ISW_MAX_LANES : (size_t)k;
    }
    return (int)(K < n ? K : n);
}

static void ws_free(run_ws_t *ws)
{
    isw_mlp_free(&ws->net);
    free(ws->scratch);
    isw_hess_free(&ws->hess);
    memset(ws, 0, sizeof *ws);
}

/* A workspace of `lanes` lanes.  Evaluation chunks shrink with the lanes
 * (activations are rows x lanes x widths) but never below a step's rows
 * (up to EVAL_CHUNK), whose activations are there anyway; one lane keeps
 * EVAL_CHUNK. */
static int ws_alloc(run_ws_t *ws, const isw_spec_t *spec, const isw_data_t *data, int lanes,
                    int want_hess, isw_error_t *err)
{
    memset(ws, 0, sizeof *ws);
    size_t n = data->n, rows = step_rows(spec, data);
    int full = is_full_batch(spec, data);
    ws->neval = n;
    if (!full && spec->train.eval_samples > 0 && (size_t)spec->train.eval_samples < n)
        ws->neval = (size_t)spec->train.eval_samples;
    size_t chunk = EVAL_CHUNK / (size_t)lanes, floor_rows = rows < EVAL_CHUNK ? rows : EVAL_CHUNK;
    if (chunk < floor_rows)
        chunk = floor_rows;
    ws->chunk = ws->neval < chunk ? ws->neval : chunk;
    ws->grad_every = spec->train.eval_gradient;
    size_t max_batch = full ? ws->chunk : (rows > ws->chunk ? rows : ws->chunk);
    int st = isw_mlp_alloc_lanes(&ws->net, &spec->model, data->nin, data->nout,
                                 spec->train.precision, max_batch, lanes);
    if (st != ISW_OK)
        return isw_error_set(err, st, "", 0, "cannot allocate a %zu-input network: %s",
                             data->nin, isw_strerror(st));
    ws->net.classification = data->classes > 0;
    ws->scratch = malloc(ws->net.nparams * sizeof(double));
    int hess_st = ISW_OK;
    if (want_hess)
        hess_st = isw_hess_alloc(&ws->hess, &ws->net, ws->neval < HESS_CHUNK ? ws->neval : HESS_CHUNK,
                                 spec->train.sharpness_method == ISW_SHARP_LANCZOS
                                     ? spec->train.sharpness_iters : 0);
    if (!ws->scratch || hess_st != ISW_OK) {
        ws_free(ws);
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory for run workspace");
    }
    return ISW_OK;
}

/* One evaluation pass at the current parameters of every lane in use:
 * loss, accuracy and diagnostics into ep[lane]; with_grad: also each lane's
 * mean-loss gradient over the evaluation rows into net->grads and its norms
 * into ep[lane].grad_norm (else those are NaN and net->grads is left as it
 * was). */
static double act_at(const isw_mlp_t *net, const void *block, size_t i, size_t j, size_t width);
static double act_slope(const isw_mlp_t *net, double z, double h);

/* Adds lane k's per-layer sums over the B rows of the last forward into
 * ep: activations, squared pre-activations and flat (unit, sample) pairs. */
static void layer_sums(const isw_mlp_t *net, int k, size_t B, double thr, isw_epoch_t *ep)
{
    int relu = isw_act_kinked(net->act);
    for (int l = 0; l + 1 < net->L; l++) {
        size_t w = (size_t)net->width[l + 1], stride = (size_t)net->lanes * w;
        double sh = 0, szz = 0, sf = 0;
        for (size_t i = 0; i < B; i++)
            for (size_t j = (size_t)k * w; j < (size_t)(k + 1) * w; j++) {
                double z = act_at(net, net->Z[l], i, j, stride);
                double h = act_at(net, net->H[l], i, j, stride);
                sh += h;
                szz += z * z;
                sf += relu ? z <= 0 : act_slope(net, z, h) < thr;
            }
        ep->act_mean[l] += sh;
        ep->q[l] += szz;
        ep->flat_share[l] += sf;
    }
}

static void evaluate(run_ws_t *ws, const isw_data_t *data, double sat_derivative,
                     int with_grad, isw_epoch_t *ep)
{
    isw_mlp_t *net = &ws->net;
    double scale = 1.0 / (double)ws->neval;
    isw_mlp_stats_reset(net);
    for (int k = 0; k < net->lanes; k++)
        for (int l = 0; l < ISW_MAX_HIDDEN; l++)
            ep[k].act_mean[l] = ep[k].q[l] = ep[k].flat_share[l] =
                ws->layer_stats && l + 1 < net->L ? 0 : NAN;
    for (size_t first = 0; first < ws->neval; first += ws->chunk) {
        size_t B = ws->neval - first < ws->chunk ? ws->neval - first : ws->chunk;
        isw_mlp_load_batch(net, data, NULL, first, B);
        isw_mlp_forward(net, B);
        isw_mlp_stats_accumulate(net, B, sat_derivative);
        for (int k = 0; ws->layer_stats && k < net->lanes; k++)
            layer_sums(net, k, B, sat_derivative, &ep[k]);
        if (with_grad)
            isw_mlp_backward(net, B, scale, first > 0);
    }
    for (int k = 0; ws->layer_stats && k < net->lanes; k++)
        for (int l = 0; l + 1 < net->L; l++) {
            double pairs = (double)ws->neval * net->width[l + 1];
            ep[k].act_mean[l] /= pairs;
            ep[k].q[l] /= pairs;
            ep[k].flat_share[l] /= pairs;
        }
    for (int k = 0; k < net->lanes; k++) {
        isw_mlp_stats_t st;
        isw_mlp_stats_get_lane(net, k, &st);
        isw_epoch_t *e = &ep[k];
        e->loss = st.loss;
        e->accuracy = st.accuracy;
        e->dead_fraction = st.dead_fraction;
        e->saturated_fraction = st.saturated_fraction;
        e->output_saturated_fraction = st.output_saturated_fraction;
        e->nlayers = net->L;
        e->layer_dead = st.layer_dead;
        e->sharpness = NAN;
        if (with_grad)
            isw_mlp_grad_norms_lane(net, k, e->grad_norm);
        else
            for (int l = 0; l < net->L; l++)
                e->grad_norm[l] = NAN;
    }
}

/* The top Hessian eigenvalue of lane k's run at its current parameters, on
 * the evaluation rows (hessian.h; in double whatever the precision), after
 * `epoch` evaluations.  The start vector is the run's probe stream at
 * epoch 0 and, when tracked (warm, nparams: the run's last eigenvector
 * estimate, updated here), that estimate later on: the top eigenvector
 * moves little between probes, so few iterations suffice.  top[0..ntop)
 * as isw_hess_top gives them. */
/* The curvature probes' metric: the step's per-layer lr factors of run s
 * (its multipliers times the parameterisation's). */
static void set_step_metric(run_ws_t *ws, const isw_spec_t *s)
{
    double p[ISW_MAX_LAYERS];
    for (int l = 0; l < ws->net.L; l++)
        p[l] = s->train.lr_layer[l] * ws->net.lr_scale[l];
    isw_hess_set_metric(&ws->hess, p);
}

static double lane_sharpness(run_ws_t *ws, const isw_data_t *data, int k, const isw_spec_t *s,
                             int epoch, double *warm, double *top, int ntop)
{
    size_t n = ws->net.nparams;
    set_step_metric(ws, s);
    isw_mlp_params_get_lane(&ws->net, k, ws->scratch);
    gsl_rng *r = isw_init_rng(isw_seed_derive(s->base_seed, s->seed, 0), (uint64_t)epoch,
                              ISW_STREAM_PROBE);
    int use_warm = warm && epoch > 0;
    if (use_warm)
        memcpy(ws->hess.vec, warm, n * sizeof(double));
    double lambda = isw_hess_top(&ws->hess, data, ws->neval, ws->scratch,
                                 (isw_sharp_method_t)s->train.sharpness_method,
                                 s->train.sharpness_iters, r, use_warm, top, ntop);
    if (warm)
        memcpy(warm, ws->hess.vec, n * sizeof(double));
    gsl_rng_free(r);
    return lambda;
}

void isw_train_shuffle(size_t *perm, size_t n, gsl_rng *r)
{
    if (n < 2)
        return;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = gsl_rng_uniform_int(r, i + 1);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static double grad_total(const isw_epoch_t *ep)
{
    double s = 0;
    for (int l = 0; l < ep->nlayers; l++)
        s += ep->grad_norm[l] * ep->grad_norm[l];
    return sqrt(s);
}

static int check_shapes(const isw_spec_t *spec, const isw_data_t *data, isw_error_t *err)
{
    const isw_model_spec_t *m = &spec->model;
    if (data->n == 0)
        return isw_error_set(err, ISW_EINVAL, "", 0, "the dataset has no samples");
    int need = isw_out_min_classes(m->output);
    if (need > 0 && (data->classes < need || data->nout < (size_t)need))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "model.output: %s needs classification data with at "
                             "least %d classes, the data have %zu target column(s)",
                             isw_out_name(m->output), need, data->nout);
    if (!isw_mlp_loss_fits(m->loss, m->output))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "model.loss: %s needs a softmax or sigmoid output",
                             isw_loss_name(m->loss));
    return ISW_OK;
}

int isw_train_sharpness(double *top, int ntop, const isw_spec_t *spec, const isw_data_t *data,
                        isw_error_t *err)
{
    int st = check_shapes(spec, data, err);
    if (st != ISW_OK)
        return st;
    run_ws_t ws;
    st = ws_alloc(&ws, spec, data, 1, 1, err);
    if (st != ISW_OK)
        return st;
    gsl_rng *r = isw_init_rng(spec->base_seed, spec->seed, ISW_STREAM_INIT);
    isw_init_params(&ws.net, 0, &spec->init, r, ws.scratch);
    gsl_rng_free(r);
    lane_sharpness(&ws, data, 0, spec, 0, NULL, top, ntop);
    ws_free(&ws);
    return ISW_OK;
}

/* Element (i, j) of a (rows, width) activation block of lane 0. */
static double act_at(const isw_mlp_t *net, const void *block, size_t i, size_t j, size_t width)
{
    return net->prec == ISW_PREC_FLOAT ? (double)((const float *)block)[i * width + j]
                                       : ((const double *)block)[i * width + j];
}

/* The slope of the activation at pre-activation z, activation value h. */
static double act_slope(const isw_mlp_t *net, double z, double h)
{
    switch (net->act) {
    case ISW_ACT_SIGMOID: return h * (1 - h);
    case ISW_ACT_TANH: return 1 - h * h;
    case ISW_ACT_RELU: return z > 0;
    case ISW_ACT_LEAKY_RELU: return z > 0 ? 1 : net->leaky_slope;
    default: return 1;
    }
}

/* The per-sample backward signal of the probe: for each of the first
 * ISW_PROBE_DELTA_SAMPLES samples alone, d loss / d W_l = alpha_l delta_l
 * h_{l-1}^T and d loss / d b_l = delta_l, so ||delta_l||^2 is the layer's
 * squared gradient norm over alpha_l^2 ||h_{l-1}||^2 (+ 1 with biases); then
 * chi_1 from the slope of ln delta_sq over the hidden layers. */
static void probe_signal(isw_init_probe_t *out, isw_mlp_t *net, const isw_data_t *data,
                         size_t neval)
{
    int L = net->L;
    size_t ns = neval < ISW_PROBE_DELTA_SAMPLES ? neval : ISW_PROBE_DELTA_SAMPLES;
    double norms[ISW_MAX_LAYERS];
    for (size_t i = 0; i < ns; i++) {
        isw_mlp_load_batch(net, data, NULL, i, 1);
        isw_mlp_forward(net, 1);
        isw_mlp_backward(net, 1, 1.0, 0);
        isw_mlp_grad_norms(net, norms);
        for (int l = 0; l + 1 < L; l++) {
            size_t in = (size_t)net->width[l];
            const void *h = l == 0 ? net->X : net->H[l - 1];
            double hh = 0;
            for (size_t j = 0; j < in; j++) {
                double x = act_at(net, h, 0, j, in);
                hh += x * x;
            }
            double den = net->alpha[l] * net->alpha[l] * hh + (net->bias ? 1 : 0);
            out->layer[l].delta_sq += den > 0 ? norms[l] * norms[l] / den / (double)ns : 0;
        }
    }
    /* least squares of ln delta_sq on the layer index, skipping the first
     * hidden layer (its q is still the data's, not q*) when there are three
     * or more */
    int lo = L - 1 >= 3 ? 1 : 0;
    size_t n = 0;
    double x[ISW_MAX_LAYERS], y[ISW_MAX_LAYERS];
    for (int l = lo; l + 1 < L; l++) {
        double d = out->layer[l].delta_sq;
        if (!(d > 0) || !isfinite(d)) {
            n = 0;
            break;
        }
        x[n] = l;
        y[n++] = log(d);
    }
    double c0, c1, cov00, cov01, cov11, sumsq;
    out->chi1 = n >= 2 && gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11,
                                         &sumsq) == 0 ? exp(-c1) : NAN;
}

int isw_train_probe_init(isw_init_probe_t *out, const isw_spec_t *spec, const isw_data_t *data,
                         isw_error_t *err)
{
    memset(out, 0, sizeof *out);
    int st = check_shapes(spec, data, err);
    if (st != ISW_OK)
        return st;
    run_ws_t ws;
    if ((st = ws_alloc(&ws, spec, data, 1, 0, err)) != ISW_OK)
        return st;
    isw_mlp_t *net = &ws.net;
    gsl_rng *r = isw_init_rng(spec->base_seed, spec->seed, ISW_STREAM_INIT);
    isw_init_params(net, 0, &spec->init, r, ws.scratch);
    gsl_rng_free(r);
    int L = net->L, nout = net->width[L];
    out->nlayers = L;
    double n = (double)ws.neval, thr = spec->criteria.saturation_derivative;
    /* per hidden layer: sums of z, z^2, the slope and flagged (unit, sample)
     * pairs; per output unit: sum and sum of squares over samples */
    double *osum = calloc(2 * (size_t)nout + 1, sizeof *osum);
    if (!osum) {
        ws_free(&ws);
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
    }
    double *osq = osum + nout;
    double maxp = 0, npairs = 0;
    isw_mlp_stats_reset(net);
    for (size_t first = 0; first < ws.neval; first += ws.chunk) {
        size_t B = ws.neval - first < ws.chunk ? ws.neval - first : ws.chunk;
        isw_mlp_load_batch(net, data, NULL, first, B);
        isw_mlp_forward(net, B);
        isw_mlp_stats_accumulate(net, B, thr);
        isw_mlp_backward(net, B, 1.0 / n, first > 0);
        npairs += (double)(B / 2);
        for (int l = 0; l + 1 < L; l++) {
            size_t w = (size_t)net->width[l + 1];
            isw_layer_probe_t *lp = &out->layer[l];
            /* pairs within the chunk: (first, first+1), ... */
            for (size_t i = 0; i + 1 < B; i += 2) {
                double ab = 0, aa = 0, bb = 0;
                for (size_t j = 0; j < w; j++) {
                    double a = act_at(net, net->Z[l], i, j, w), b = act_at(net, net->Z[l], i + 1, j, w);
                    ab += a * b;
                    aa += a * a;
                    bb += b * b;
                }
                lp->corr += aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
            }
            for (size_t i = 0; i < B; i++)
                for (size_t j = 0; j < w; j++) {
                    double z = act_at(net, net->Z[l], i, j, w), h = act_at(net, net->H[l], i, j, w);
                    double d = act_slope(net, z, h);
                    lp->z_mean += z;
                    lp->z_rms += z * z;
                    lp->slope_mean += d;
                    lp->flat_share += d < thr;
                }
        }
        for (size_t i = 0; i < B; i++) {
            double top = 0;
            for (int j = 0; j < nout; j++) {
                double y = act_at(net, net->H[L - 1], i, (size_t)j, (size_t)nout);
                osum[j] += y;
                osq[j] += y * y;
                top = y > top ? y : top;
            }
            maxp += top;
        }
    }
    for (int l = 0; l + 1 < L; l++) {
        isw_layer_probe_t *lp = &out->layer[l];
        double pairs = n * net->width[l + 1];
        lp->width = net->width[l + 1];
        lp->z_mean /= pairs;
        lp->z_rms = sqrt(lp->z_rms / pairs);
        lp->slope_mean /= pairs;
        lp->flat_share /= pairs;
        lp->corr = npairs > 0 ? lp->corr / npairs : NAN;
    }
    /* how much the output varies over the samples, relative to its size */
    double var = 0, mag = 0;
    for (int j = 0; j < nout; j++) {
        double m = osum[j] / n;
        var += fmax(osq[j] / n - m * m, 0);
        mag += m * m;
    }
    out->output_spread = sqrt(var) / fmax(sqrt(mag), 1e-300);
    out->output_max_mean = maxp / n;
    free(osum);
    isw_mlp_grad_norms(net, out->grad_norm);
    isw_mlp_stats_t stt;
    isw_mlp_stats_get(net, &stt);
    probe_signal(out, net, data, ws.neval);
    out->loss = stt.loss;
    out->dead_fraction = stt.dead_fraction;
    out->saturated_fraction = stt.saturated_fraction;
    out->output_saturated_fraction = stt.output_saturated_fraction;
    ws_free(&ws);
    return ISW_OK;
}

/* isw_train_check_memory for a pack of `lanes` networks: every per-network
 * size times lanes (the shared dataset and shuffle order once). */
static int check_memory(const isw_spec_t *spec, const isw_data_t *data, int lanes,
                        isw_error_t *err)
{
    const isw_model_spec_t *m = &spec->model;
    double n = (double)data->n, widths = (double)data->nin + (double)data->nout;
    double params = 0, in = (double)data->nin;
    for (int l = 0; l <= m->nhidden; l++) {
        double out = l < m->nhidden ? (double)m->hidden[l] : (double)data->nout;
        params += (in + 1) * out;
        if (l < m->nhidden)
            widths += out;
        in = out;
    }
    double B = spec->train.batch > 0 && (double)spec->train.batch < n ? (double)spec->train.batch : n;
    double rows = B > 2048 ? B : (n < 2048 ? n : 2048);
    double elem = spec->train.precision == ISW_PREC_DOUBLE ? 8 : 4;
    /* parameters, gradients, momentum, scratch; activations and their
     * gradients (pre and post) per row; history and the shuffle order */
    double bytes = (double)lanes * (elem * (4 * params + 4 * rows * widths) +
                                     32 * ((double)spec->train.epochs + 1)) +
                   8 * n;
    /* the curvature probes: per-chunk buffers in double, the estimators'
     * vectors and the Lanczos basis, each lane's eigenvector */
    if (isw_train_wants_sharpness(spec)) {
        double maxw = 0, in0 = (double)data->nin;
        for (int l = 0; l < m->nhidden; l++)
            maxw = fmax(maxw, (double)m->hidden[l]);
        maxw = fmax(maxw, (double)data->nout);
        double iters = spec->train.sharpness_method == ISW_SHARP_LANCZOS
                           ? spec->train.sharpness_iters : 0;
        double per_row = 4 * widths - 3 * in0 + (double)data->nout + 4 * maxw;
        bytes += 8 * (fmin(n, HESS_CHUNK) * per_row + (5 + iters) * params) +
                 (spec->train.sharpness_every > 0 ? 8 * (double)lanes * params : 0) +
                 (spec->train.batch_sharpness > 0 ? 8 * n : 0);
    }
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (have > 0 && bytes > have)
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "%s needs about %.3g GiB (%.3g parameters, %d epochs, %.0f "
                             "samples), but this machine has %.3g GiB: expected a smaller "
                             "model.hidden, train.epochs or dataset",
                             lanes > 1 ? "a pack" : "a run", bytes / 1073741824.0, params,
                             spec->train.epochs, n, have / 1073741824.0);
    return ISW_OK;
}

int isw_train_check_memory(const isw_spec_t *spec, const isw_data_t *data, isw_error_t *err)
{
    return check_memory(spec, data, 1, err);
}

/* ---- one run's bookkeeping ---------------------------------------------- */

/* The evaluation after `epoch` epochs, into the trajectory. */
static void observe(isw_trajectory_t *t, const isw_epoch_t *ep, double *loss, double *acc,
                    int epoch)
{
    t->layer_dead = ep->layer_dead;
    loss[epoch] = isfinite(ep->loss) ? ep->loss : INFINITY;
    acc[epoch] = ep->accuracy;
    t->n = epoch + 1;
    t->dead_fraction = ep->dead_fraction;
    t->saturated_fraction = ep->saturated_fraction;
    t->output_saturated_fraction = ep->output_saturated_fraction;
}

/* 1 when the run in `lane` ends at this evaluation: non-finite loss or
 * parameters, the loss past the divergence cap (t says which), the caller
 * asked to stop (stop), the last epoch E, or a stopping criterion met. */
static int run_ends(const isw_criteria_spec_t *cr, isw_trajectory_t *t, const isw_epoch_t *ep,
                    const isw_mlp_t *net, int lane, int epoch, int E, int stop)
{
    if (!isfinite(ep->loss) || !isw_mlp_params_finite_lane(net, lane)) {
        t->nonfinite = 1;
        return 1;
    }
    if (epoch > 0 && ep->loss > cr->diverge_ratio * t->loss[0]) {
        t->capped = 1;
        return 1;
    }
    if (stop || epoch == E)
        return 1;
    if (cr->stop_on_target && target_met(cr, t, epoch))
        return 1;
    /* The bounded rule judges the last losses of the whole budget: a
     * catapult's rising loss looks flat, and must not stop there. */
    return cr->stop_on_flat && cr->rule != ISW_RULE_BOUNDED && isw_train_is_flat(cr, t->loss, t->n);
}

/* The record of a finished trajectory: its outcome and loss summary.
 * acc[0..t->n): the accuracy per evaluation (NaN for regression, where t
 * holds none). */
/* The fractal paper's signed convergence score of a bounded-rule run
 * (Sohl-Dickstein 2024): with v_i = loss_i / loss_0 as the rule counts it
 * (non-finite as 1e6, capped there), -sum v_i over the budget when it
 * converged, sum 1 / v_i when it diverged, so the magnitude orders runs
 * within each side (how fast they converge, how fast they blow up).  The
 * evaluations after a run stopped at a non-finite or capped loss count as
 * 1e6, as the paper's do. */
static double bounded_score(const isw_trajectory_t *t, isw_outcome_t o, int budget)
{
    double sum = 0;
    int conv = o == ISW_OUTCOME_CONVERGED;
    for (int i = 0; i < t->n; i++) {
        double v = fmin(bounded_ratio(t->loss, i), BOUNDED_NONFINITE);
        sum += conv ? v : 1 / fmax(v, 1e-300);
    }
    if (!conv && budget > t->n)
        sum += (double)(budget - t->n) / BOUNDED_NONFINITE;
    return conv ? -sum : sum;
}

static void fill_record(isw_record_t *rec, const isw_criteria_spec_t *cr,
                        const isw_trajectory_t *t, const double *acc, int budget)
{
    int ec;
    rec->outcome = isw_train_classify(cr, t, &ec);
    if (cr->rule == ISW_RULE_BOUNDED)
        rec->bounded_score = bounded_score(t, rec->outcome, budget);
    rec->epoch_converged = ec;
    rec->epochs = t->n - 1;
    rec->layer_dead = t->layer_dead;
    rec->loss_final = t->loss[t->n - 1];
    rec->accuracy_final = acc[t->n - 1];
    rec->loss_best = INFINITY;
    rec->loss_max = -INFINITY;
    for (int i = 0; i < t->n; i++) {
        if (t->loss[i] < rec->loss_best)
            rec->loss_best = t->loss[i];
        if (t->loss[i] > rec->loss_max)
            rec->loss_max = t->loss[i];
    }
    /* converged although the loss rose above where it started on the way */
    rec->catapult = rec->outcome == ISW_OUTCOME_CONVERGED && rec->loss_max > t->loss[0];
    rec->dead_fraction = t->dead_fraction;
    rec->saturated_fraction = t->saturated_fraction;
    rec->output_saturated_fraction = t->output_saturated_fraction;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of x[0..m) (sorted in place); NaN when m = 0. */
static double median(double *x, int m)
{
    if (m <= 0)
        return NAN;
    qsort(x, (size_t)m, sizeof *x, cmp_double);
    return m % 2 ? x[m / 2] : 0.5 * (x[m / 2 - 1] + x[m / 2]);
}

/* The edge of stability of the run's step on a quadratic of curvature
 * lambda: lr lambda < 2 for gradient descent, < 2 (1 + beta) with heavy-ball
 * momentum beta (v = beta v + g, p -= lr v), so the edge is at
 * lambda = edge_factor(tr) / lr. */
static double edge_factor(const isw_train_spec_t *tr)
{
    return 2.0 * (1.0 + tr->momentum);
}

/* The record's early-training and sharpness-dynamics fields from the
 * trajectory and the probed lambda_t (sharp[0..t->n), NaN where not
 * probed); lr is the run's. */
static void fill_dynamics(isw_record_t *rec, const isw_train_spec_t *tr,
                          const isw_trajectory_t *t, double *sharp, double lr)
{
    double two = edge_factor(tr);
    int early = tr->early_steps < t->n - 1 ? tr->early_steps : t->n - 1;
    if (early >= 1) {
        rec->loss_early_ratio = -INFINITY;
        for (int i = 1; i <= early; i++)
            rec->loss_early_ratio = fmax(rec->loss_early_ratio, t->loss[i] / t->loss[0]);
    }
    if (tr->sharpness_every <= 0 || !isfinite(sharp[0]))
        return;
    double l0 = sharp[0], edge = two / lr;
    int m = 0;
    rec->sharpness_max = l0;
    for (int i = 0; i < t->n; i++) {
        if (isnan(sharp[i]))
            continue;
        rec->sharpness_max = fmax(rec->sharpness_max, sharp[i]);
        rec->sharpness_final = sharp[i];
        if (i >= 1 && i <= early)
            rec->sharpness_early_ratio = isnan(rec->sharpness_early_ratio)
                                             ? sharp[i] / l0
                                             : fmax(rec->sharpness_early_ratio, sharp[i] / l0);
        if (rec->eos_epoch < 0 && lr > 0 && sharp[i] >= edge)
            rec->eos_epoch = i;
        /* from the crossing on, lambda_t lr / 2 gathered at the front of
         * sharp (already read: i >= m) for the median */
        if (rec->eos_epoch >= 0)
            sharp[m++] = sharp[i] * lr / two;
    }
    rec->eos_ratio = median(sharp, m);
}

/* The batch sharpness fields from bs[0..t->n) (NaN where not probed). */
static void fill_batch_dynamics(isw_record_t *rec, const isw_train_spec_t *tr,
                                const isw_trajectory_t *t, double *bs, double lr)
{
    int m = 0, crossed = 0;
    double two = edge_factor(tr);
    for (int i = 0; i < t->n; i++) {
        if (isnan(bs[i]))
            continue;
        rec->batch_sharpness_final = bs[i];
        double r = bs[i] * lr / two;
        crossed |= r >= 1.0;
        if (crossed)
            bs[m++] = r;   /* gathered at the front (already read: i >= m) */
    }
    rec->batch_eos_ratio = median(bs, m);
}

/* ---- packs -----------------------------------------------------------------
 * A pack trains K runs as the K lanes of one net (mlp.h): one evaluation
 * pass and one step per round serve every lane.  The runs share what the
 * lanes share: the architecture, the data and its order (seed, batch,
 * shuffle), the epoch budget and the evaluation; each lane has its own
 * init, learning rates, momentum and criteria.
 *
 * Full batch: lanes need not be in step.  A lane whose run ends is refilled
 * with the pack's next run at once, so lanes are busy while runs remain.
 * Mini-batch: every lane must see its run's own batch order, which starts
 * at the seed's first shuffle, so the runs of a pack start together (a
 * round of up to K); lanes that end leave (the last lane moves into the
 * hole) and the next round starts when all have ended. */

int isw_train_pack_compatible(const isw_spec_t *a, const isw_spec_t *b)
{
    const isw_model_spec_t *ma = &a->model, *mb = &b->model;
    if (ma->nhidden != mb->nhidden || ma->activation != mb->activation ||
        ma->output != mb->output || ma->loss != mb->loss || ma->bias != mb->bias ||
        ma->parameterization != mb->parameterization || ma->leaky_slope != mb->leaky_slope ||
        ma->gain != mb->gain)
        return 0;
    for (int l = 0; l < ma->nhidden; l++)
        if (ma->hidden[l] != mb->hidden[l])
            return 0;
    const isw_train_spec_t *ta = &a->train, *tb = &b->train;
    return ta->precision == tb->precision && ta->epochs == tb->epochs &&
           ta->batch == tb->batch && ta->shuffle == tb->shuffle &&
           ta->replacement == tb->replacement && ta->epoch_steps == tb->epoch_steps &&
           ta->sharpness == tb->sharpness && ta->sharpness_iters == tb->sharpness_iters &&
           ta->sharpness_method == tb->sharpness_method && ta->lr_unit == tb->lr_unit &&
           ta->sharpness_every == tb->sharpness_every &&
           ta->batch_sharpness == tb->batch_sharpness &&
           ta->eval_samples == tb->eval_samples && ta->eval_gradient == tb->eval_gradient &&
           ta->pack == tb->pack && a->seed == b->seed && a->base_seed == b->base_seed &&
           a->criteria.saturation_derivative == b->criteria.saturation_derivative;
}

typedef struct {
    size_t run;            /* index into the pack's specs and records */
    int epoch;             /* evaluations so far - 1 */
    double lr;             /* the run's learning rate (train.lr_unit applied) */
    isw_trajectory_t t;
    double *loss, *acc;    /* (E + 1) each: the trajectory's history */
    double *sharp;         /* (E + 1) lambda_t where probed, else NaN */
    double *bsharp;        /* (E + 1) the batch sharpness where probed, else NaN */
    double *warm;          /* (nparams) the last eigenvector estimate, or NULL */
    double seconds;        /* its share of the pack's wall time so far */
} lane_t;

typedef struct {
    const isw_spec_t *specs;
    isw_record_t *recs;
    size_t n, next;        /* runs, and the next one to start */
    const isw_data_t *data;
    int full, E;
    size_t B;              /* rows per mini-batch (full batch: n) */
    run_ws_t ws;
    lane_t lane[ISW_MAX_LANES];
    isw_epoch_t ep[ISW_MAX_LANES];
    double *bl;            /* (K) batch loss sums */
    double *hist;          /* (K * 4 * (E + 1)) the lanes' loss, acc, sharpness and
                            * batch sharpness */
    size_t *bperm;         /* (n samples) the batch-sharpness probes' rows, or NULL */
    double *warm;          /* (K * nparams) the lanes' eigenvectors (sharpness_every), or NULL */
    size_t *perm;          /* (n samples) the shared batch order */
    gsl_rng *rshuf;        /* the shared shuffle stream (the seed's) */
    isw_epoch_fn fn;
    void *fn_user;
    isw_record_fn done;
    void *done_user;
    double clock;          /* isw_now() at the last share-out of wall time */
} pack_t;

int isw_train_meanfield(isw_meanfield_t *mf, double *sigma_w2, double *sigma_b2,
                        const isw_spec_t *s, const isw_data_t *data)
{
    const isw_model_spec_t *m = &s->model;
    if (m->nhidden < 1)
        return ISW_EINVAL;
    size_t fan_in = m->nhidden >= 2 ? (size_t)m->hidden[0] : data->nin;
    size_t fan_out = (size_t)m->hidden[m->nhidden >= 2 ? 1 : 0];
    isw_init_sigmas(&s->init, m->bias, isw_mlp_alpha(m, fan_in, 0), fan_in,
                    fan_out, sigma_w2, sigma_b2);
    return isw_meanfield(mf, m->activation, m->leaky_slope, *sigma_w2, *sigma_b2);
}

/* train.signal: the probe of the run's init (isw_train_probe_init: q, c and
 * the measured chi_1) and the mean-field theory of its hidden layers.  Left
 * empty when they cannot be had. */
static void record_signal(isw_record_t *rec, const isw_spec_t *s, const isw_data_t *data)
{
    int nh = s->model.nhidden;
    isw_init_probe_t *pr = malloc(sizeof *pr);
    if (pr && nh >= 1 && isw_train_probe_init(pr, s, data, NULL) == ISW_OK) {
        const isw_layer_probe_t *top = &pr->layer[nh - 1];
        rec->signal_q = top->z_rms * top->z_rms;
        rec->signal_q_ratio = rec->signal_q / (pr->layer[0].z_rms * pr->layer[0].z_rms);
        rec->signal_c = top->corr;
        rec->chi1_measured = pr->chi1;
    }
    free(pr);
    isw_meanfield_t mf;
    double sw2, sb2;
    if (isw_train_meanfield(&mf, &sw2, &sb2, s, data) != ISW_OK)
        return;
    rec->mf_q_star = mf.q_star;
    rec->mf_chi1 = mf.chi1;
    rec->mf_c_star = mf.c_star;
    rec->mf_xi_c = mf.xi_c;
}

/* Lane k takes run p->next: record, init draws, fresh momentum. */
static void start_lane(pack_t *p, int k)
{
    size_t i = p->next++;
    const isw_spec_t *s = &p->specs[i];
    lane_t *ln = &p->lane[k];
    isw_record_init(&p->recs[i], p->recs[i].task);
    if (s->train.signal)
        record_signal(&p->recs[i], s, p->data);
    ln->run = i;
    ln->epoch = 0;
    ln->lr = s->train.lr;
    ln->seconds = 0;
    ln->loss = p->hist + (size_t)k * 4 * ((size_t)p->E + 1);
    ln->acc = ln->loss + p->E + 1;
    ln->sharp = ln->acc + p->E + 1;
    ln->bsharp = ln->sharp + p->E + 1;
    for (int e = 0; e <= p->E; e++)
        ln->sharp[e] = ln->bsharp[e] = NAN;
    ln->warm = p->warm ? p->warm + (size_t)k * p->ws.net.nparams : NULL;
    memset(&ln->t, 0, sizeof ln->t);
    ln->t.loss = ln->loss;
    ln->t.acc = p->data->classes > 0 ? ln->acc : NULL;
    ln->t.uses_relu = isw_act_can_die(s->model.activation) && s->model.nhidden > 0;
    ln->t.uses_saturating = isw_act_saturates(s->model.activation) && s->model.nhidden > 0;
    ln->t.output_saturates = isw_out_probabilities(s->model.output);
    gsl_rng *r = isw_init_rng(s->base_seed, s->seed, ISW_STREAM_INIT);
    isw_init_params(&p->ws.net, k, &s->init, r, p->ws.scratch);
    gsl_rng_free(r);
    isw_mlp_lane_reset(&p->ws.net, k);
}

/* Shares the wall time since the last call among the lanes in use. */
static void share_time(pack_t *p)
{
    double now = isw_now();
    int K = p->ws.net.lanes;
    for (int k = 0; k < K; k++)
        p->lane[k].seconds += (now - p->clock) / K;
    p->clock = now;
}

/* The run in lane k has ended: its record, and the caller hears of it. */
static void finish_lane(pack_t *p, int k)
{
    lane_t *ln = &p->lane[k];
    isw_record_t *rec = &p->recs[ln->run];
    fill_record(rec, &p->specs[ln->run].criteria, &ln->t, ln->acc, p->E + 1);
    fill_dynamics(rec, &p->specs[ln->run].train, &ln->t, ln->sharp, ln->lr);
    fill_batch_dynamics(rec, &p->specs[ln->run].train, &ln->t, ln->bsharp, ln->lr);
    rec->seconds = ln->seconds;
    if (p->done)
        p->done(rec, p->done_user);
}

/* Removes lane k from use: the last lane moves into it (its state,
 * history, parameters and momentum), so the lanes in use stay
 * 0..lanes-1.  Lane k's history lives in slot k of p->hist. */
static void drop_lane(pack_t *p, int k)
{
    isw_mlp_t *net = &p->ws.net;
    int last = net->lanes - 1;
    if (k != last) {
        isw_mlp_lane_copy(net, k, last);
        lane_t *dst = &p->lane[k];
        const lane_t *src = &p->lane[last];
        double *loss = dst->loss, *acc = dst->acc, *sharp = dst->sharp, *warm = dst->warm;
        double *bsharp = dst->bsharp;
        size_t hn = ((size_t)p->E + 1) * sizeof(double);
        memcpy(loss, src->loss, hn);
        memcpy(acc, src->acc, hn);
        memcpy(sharp, src->sharp, hn);
        memcpy(bsharp, src->bsharp, hn);
        if (warm)
            memcpy(warm, src->warm, net->nparams * sizeof(double));
        *dst = *src;
        dst->loss = loss;
        dst->t.loss = loss;
        dst->acc = acc;
        dst->sharp = sharp;
        dst->bsharp = bsharp;
        dst->warm = warm;
        dst->t.acc = src->t.acc ? acc : NULL;
    }
    isw_mlp_set_lanes(net, last > 0 ? last : 1);
}

/* An earlier run of the pack with the same init draws (the same init
 * settings and seeds: the lanes of an lr axis) has the same parameters
 * at init, so the same lambda_0, bit for bit: its record's, or NaN. */
static double known_sharpness(const pack_t *p, size_t run)
{
    const isw_spec_t *s = &p->specs[run];
    for (size_t j = run; j-- > 0;) {
        const isw_spec_t *o = &p->specs[j];
        if (o->seed == s->seed && o->base_seed == s->base_seed &&
            isw_init_spec_equal(&o->init, &s->init) &&
            memcmp(o->train.lr_layer, s->train.lr_layer, sizeof s->train.lr_layer) == 0 &&
            !isnan(p->recs[j].sharpness_initial))
            return p->recs[j].sharpness_initial;
    }
    return NAN;
}

/* The batch sharpness of lane k's run after `epoch` evaluations: over
 * train.batch_sharpness mini-batches of train.batch rows drawn from the
 * run's probe stream for that epoch (not the training order, which it
 * leaves alone), in the step's metric. */
static double lane_batch_sharpness(pack_t *p, int k, const isw_spec_t *s, int epoch)
{
    run_ws_t *ws = &p->ws;
    size_t n = p->data->n, B = p->B, m = (size_t)s->train.batch_sharpness;
    if (m > n / B)
        m = n / B;
    set_step_metric(ws, s);
    gsl_rng *r = isw_init_rng(isw_seed_derive(s->base_seed, s->seed, 1), (uint64_t)epoch,
                              ISW_STREAM_PROBE);
    for (size_t i = 0; i < n; i++)
        p->bperm[i] = i;
    isw_train_shuffle(p->bperm, n, r);
    gsl_rng_free(r);
    isw_mlp_params_get_lane(&ws->net, k, ws->scratch);
    return isw_hess_batch_sharpness(&ws->hess, p->data, p->bperm, B, m, ws->scratch);
}

/* What the first evaluation of a run adds to its record. */
static void lane_initial(pack_t *p, int k)
{
    lane_t *ln = &p->lane[k];
    const isw_spec_t *s = &p->specs[ln->run];
    isw_record_t *rec = &p->recs[ln->run];
    rec->loss_initial = p->ep[k].loss;
    rec->grad_norm_initial = grad_total(&p->ep[k]);
    if (isw_train_wants_sharpness(s)) {
        /* lambda_0 of these init draws is known when a run with the same
         * draws started before (an lr sweep: every c of a seed shares it),
         * unless this run tracks the sharpness and needs the eigenvector */
        double known = ln->warm ? NAN : known_sharpness(p, ln->run);
        rec->sharpness_initial = ln->sharp[0] =
            !isnan(known) ? known : lane_sharpness(&p->ws, p->data, k, s, 0, ln->warm, NULL, 0);
    }
    /* lr in units of the curvature: c = train.lr, lr = c / lambda_0.  Without
     * a positive lambda_0 there is no such scale: the run does not move
     * (lr 0; it ends flat, `stalled`, with lr_used 0 in its record). */
    if (s->train.lr_unit == ISW_LR_SHARPNESS) {
        double l0 = rec->sharpness_initial;
        ln->lr = l0 > 0 && isfinite(l0) ? s->train.lr / l0 : 0.0;
        ln->t.unscaled = ln->lr == 0.0;
    }
    rec->lr_used = ln->lr;
}

/* The evaluation of every lane at its current epoch; then each lane's
 * bookkeeping: 1 for lanes whose run ended (ended[k]).  A lane whose last
 * epoch was cut short by a batch (mini-batch: t.capped or t.nonfinite
 * already set) counts that epoch with what it reached: a capped run is
 * evaluated where it stopped, a non-finite one has nothing to evaluate.
 * Returns the caller's stop request. */
static int pack_evaluate(pack_t *p, int *ended)
{
    isw_mlp_t *net = &p->ws.net;
    int K = net->lanes, any_initial = 0;
    for (int k = 0; k < K; k++)
        any_initial |= p->lane[k].epoch == 0;
    int with_grad = p->full || any_initial || p->ws.grad_every;
    evaluate(&p->ws, p->data, p->specs[p->lane[0].run].criteria.saturation_derivative,
             with_grad, p->ep);
    int stop = 0, reported = 0;
    for (int k = 0; k < K; k++) {
        lane_t *ln = &p->lane[k];
        isw_epoch_t *ep = &p->ep[k];
        ep->epoch = ln->epoch;
        ended[k] = 0;
        if (ln->t.nonfinite || ln->t.capped) {
            ln->loss[ln->epoch] = INFINITY;
            ln->acc[ln->epoch] = NAN;
            ln->t.n = ln->epoch + 1;
            if (ln->t.capped) {
                ln->loss[ln->epoch] = isfinite(ep->loss) ? ep->loss : INFINITY;
                ln->acc[ln->epoch] = ep->accuracy;
                if (p->fn && !reported++)
                    stop = p->fn(ep, p->fn_user);
            }
            ended[k] = 1;
            continue;
        }
        observe(&ln->t, ep, ln->loss, ln->acc, ln->epoch);
        const isw_spec_t *s = &p->specs[ln->run];
        if (ln->epoch == 0)
            lane_initial(p, k);
        else if (s->train.sharpness_every > 0 && ln->epoch % s->train.sharpness_every == 0)
            ln->sharp[ln->epoch] =
                lane_sharpness(&p->ws, p->data, k, s, ln->epoch, ln->warm, NULL, 0);
        if (p->bperm && (ln->epoch == 0 || (s->train.sharpness_every > 0 &&
                                            ln->epoch % s->train.sharpness_every == 0)))
            ln->bsharp[ln->epoch] = lane_batch_sharpness(p, k, s, ln->epoch);
        ep->sharpness = ln->sharp[ln->epoch];
        if (p->fn && !reported++)
            stop = p->fn(ep, p->fn_user);
    }
    for (int k = 0; k < K; k++) {
        lane_t *ln = &p->lane[k];
        if (!ended[k])
            ended[k] = run_ends(&p->specs[ln->run].criteria, &ln->t, &p->ep[k], net, k,
                                ln->epoch, p->E, stop);
    }
    return stop;
}

/* One epoch of mini-batches of B rows in the shared order, every lane in
 * use stepping with its own learning rates.  A lane's batch loss past its
 * cap or non-finite stops that lane's steps at once (another few hundred
 * would only overflow): its t.capped or t.nonfinite says so. */
static void minibatch_epoch(pack_t *p)
{
    isw_mlp_t *net = &p->ws.net;
    const isw_train_spec_t *tr0 = &p->specs[p->lane[0].run].train;
    /* train.replacement: every step draws its B rows uniformly from the
     * seed's shuffle stream (shared by the pack: one sequence for every run
     * of the seed), train.epoch_steps of them per evaluation; else one pass
     * over the shuffled order */
    int repl = tr0->replacement;
    size_t n = p->data->n, B = p->B;
    size_t nbatches = repl && tr0->epoch_steps > 0 ? (size_t)tr0->epoch_steps : (n + B - 1) / B;
    int K = net->lanes, live = K;
    double cap[ISW_MAX_LANES], lr[ISW_MAX_LANES];
    const double *mult[ISW_MAX_LANES];
    unsigned char go[ISW_MAX_LANES];
    /* Several lanes without momentum: the step goes straight into the
     * parameters (isw_mlp_backward_sgd); one lane keeps its own arithmetic. */
    int fused = K > 1;
    for (int k = 0; k < K; k++) {
        const lane_t *ln = &p->lane[k];
        const isw_train_spec_t *tr = &p->specs[ln->run].train;
        cap[k] = p->specs[ln->run].criteria.diverge_ratio * ln->loss[0];
        lr[k] = ln->lr;
        mult[k] = tr->lr_layer;
        fused &= tr->momentum == 0;
    }
    for (size_t b = 0; b < nbatches && live > 0; b++) {
        size_t rows = repl || b + 1 < nbatches ? B : n - b * B;
        const size_t *idx = p->perm + b * B;
        if (repl) {
            for (size_t i = 0; i < B; i++)
                p->perm[i] = (size_t)gsl_rng_uniform_int(p->rshuf, (unsigned long)n);
            idx = p->perm;
        }
        isw_mlp_load_batch(net, p->data, idx, 0, rows);
        isw_mlp_forward(net, rows);
        isw_mlp_loss_lanes(net, rows, p->bl);
        int stepping = 0;
        for (int k = 0; k < K; k++) {
            lane_t *ln = &p->lane[k];
            if (ln->t.nonfinite || ln->t.capped)
                continue;
            double bl = p->bl[k] / (double)rows;
            if (!isfinite(bl)) {
                ln->t.nonfinite = 1;
                live--;
            } else if (bl > cap[k]) {
                ln->t.capped = 1;
                live--;
            } else
                stepping = 1;
        }
        if (!stepping)
            break;
        if (fused) {
            for (int k = 0; k < K; k++)
                go[k] = !p->lane[k].t.nonfinite && !p->lane[k].t.capped;
            isw_mlp_backward_sgd(net, rows, 1.0 / (double)rows, lr, mult, go);
            continue;
        }
        isw_mlp_backward(net, rows, 1.0 / (double)rows, 0);
        for (int k = 0; k < K; k++) {
            const lane_t *ln = &p->lane[k];
            const isw_train_spec_t *tr = &p->specs[ln->run].train;
            if (!ln->t.nonfinite && !ln->t.capped)
                isw_mlp_sgd_step_lane(net, k, ln->lr, tr->lr_layer, tr->momentum);
        }
    }
}

/* Fills the lanes with the next runs (up to K of them) from a fresh start
 * of the shared batch order: identity, then the seed's shuffles. */
static int start_round(pack_t *p, int K)
{
    size_t left = p->n - p->next;
    int m = left < (size_t)K ? (int)left : K;
    if (m == 0)
        return 0;
    if (!p->full) {
        const isw_spec_t *s = &p->specs[p->next];
        gsl_rng_free(p->rshuf);
        p->rshuf = isw_init_rng(s->base_seed, s->seed, ISW_STREAM_SHUFFLE);
        if (!p->rshuf)
            return -1;
        for (size_t i = 0; i < p->data->n; i++)
            p->perm[i] = i;
    }
    isw_mlp_set_lanes(&p->ws.net, m);
    for (int k = 0; k < m; k++)
        start_lane(p, k);
    return m;
}

/* The pack's rounds until every run has ended (or the caller stopped). */
static int pack_train(pack_t *p, int K, isw_error_t *err)
{
    isw_mlp_t *net = &p->ws.net;
    int ended[ISW_MAX_LANES];
    p->clock = isw_now();
    int active = start_round(p, K);
    while (active > 0) {
        int stop = pack_evaluate(p, ended);
        share_time(p);
        /* Ended lanes: record them; full batch refills them with the next
         * runs, which are evaluated at init in the next round. */
        for (int k = net->lanes - 1; k >= 0; k--) {
            if (!ended[k])
                continue;
            finish_lane(p, k);
            if (p->full && !stop && p->next < p->n) {
                start_lane(p, k);
                ended[k] = 0;
                p->lane[k].epoch = -1;   /* not stepped: evaluated at init next */
            } else {
                ended[k] = ended[net->lanes - 1];
                drop_lane(p, k);
                active--;
            }
        }
        if (stop)
            return ISW_OK;
        if (active == 0) {
            active = start_round(p, K);
            if (active < 0)
                return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory for a run");
            continue;
        }
        /* One epoch for every lane not just (re)started. */
        if (p->full) {
            for (int k = 0; k < net->lanes; k++) {
                lane_t *ln = &p->lane[k];
                const isw_train_spec_t *tr = &p->specs[ln->run].train;
                if (ln->epoch >= 0)
                    isw_mlp_sgd_step_lane(net, k, ln->lr, tr->lr_layer, tr->momentum);
                ln->epoch++;
            }
        } else {
            const isw_train_spec_t *tr0 = &p->specs[p->lane[0].run].train;
            if (tr0->shuffle && !tr0->replacement)
                isw_train_shuffle(p->perm, p->data->n, p->rshuf);
            minibatch_epoch(p);
            for (int k = 0; k < net->lanes; k++)
                p->lane[k].epoch++;
        }
    }
    return ISW_OK;
}

int isw_train_pack(isw_record_t *recs, const isw_spec_t *specs, size_t n,
                   const isw_data_t *data, isw_epoch_fn fn, void *fn_user, isw_record_fn done,
                   void *done_user, isw_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        isw_record_init(&recs[i], recs[i].task);
    if (n == 0)
        return ISW_OK;
    const isw_spec_t *spec = &specs[0];
    for (size_t i = 1; i < n; i++)
        if (!isw_train_pack_compatible(spec, &specs[i]))
            return isw_error_set(err, ISW_EINVAL, "", 0,
                                 "run %zu of a pack differs from the first in a setting "
                                 "that lanes share (model, precision, epochs, batch, "
                                 "evaluation or seed)", i);
    int st = check_shapes(spec, data, err);
    if (st == ISW_OK)
        st = check_memory(spec, data, 1, err);
    if (st != ISW_OK)
        return st;
    /* A pack that would not fit in memory trains as smaller packs (the
     * same runs, in the same order). */
    int K = isw_train_pack_lanes(spec, data, n);
    while (K > 1 && check_memory(spec, data, K, NULL) != ISW_OK)
        K /= 2;

    pack_t p;
    memset(&p, 0, sizeof p);
    p.specs = specs;
    p.recs = recs;
    p.n = n;
    p.data = data;
    p.full = is_full_batch(spec, data);
    p.B = p.full ? data->n : (size_t)spec->train.batch;
    p.E = spec->train.epochs;
    p.fn = fn;
    p.fn_user = fn_user;
    p.done = done;
    p.done_user = done_user;
    st = ws_alloc(&p.ws, spec, data, K, isw_train_wants_sharpness(spec), err);
    if (st != ISW_OK)
        return st;
    p.ws.layer_stats = fn != NULL;
    p.bl = malloc((size_t)K * sizeof *p.bl);
    p.hist = malloc((size_t)K * 4 * ((size_t)p.E + 1) * sizeof *p.hist);
    if (!p.full && spec->train.batch_sharpness > 0 && data->n >= p.B &&
        !(p.bperm = malloc(data->n * sizeof *p.bperm)))
        st = ISW_ENOMEM;
    if (spec->train.sharpness_every > 0 &&
        !(p.warm = malloc((size_t)K * p.ws.net.nparams * sizeof *p.warm)))
        st = ISW_ENOMEM;
    p.perm = malloc(data->n * sizeof *p.perm);
    if (st != ISW_OK || !p.bl || !p.hist || !p.perm)
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory for a %d-epoch run", p.E);
    else
        st = pack_train(&p, K, err);
    gsl_rng_free(p.rshuf);
    free(p.bl);
    free(p.hist);
    free(p.warm);
    free(p.bperm);
    free(p.perm);
    ws_free(&p.ws);
    return st;
}

int isw_train_run(isw_record_t *rec, const isw_spec_t *spec, const isw_data_t *data,
                  isw_epoch_fn fn, void *user, isw_error_t *err)
{
    return isw_train_pack(rec, spec, 1, data, fn, user, NULL, NULL, err);
}
