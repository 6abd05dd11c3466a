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

#include <gsl/gsl_rng.h>

#include "initsweep/init.h"
#include "initsweep/mlp.h"

/* Rows per evaluation chunk: large enough for efficient gemm, small enough
 * that the activations of a wide net stay within a few tens of MB. */
#define EVAL_CHUNK 2048

static const char *const outcome_names[ISW_NOUTCOMES] = {
    "converged", "diverged", "dead", "saturated", "stalled", "slow"};

const char *isw_outcome_name(int outcome)
{
    if (outcome < 0 || outcome >= ISW_NOUTCOMES)
        return "unknown";
    return outcome_names[outcome];
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
    if (!isfinite(loss))
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

isw_outcome_t isw_train_classify(const isw_criteria_spec_t *c, const isw_trajectory_t *t,
                                 int *epoch_converged)
{
    *epoch_converged = -1;
    int last = t->n - 1;
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

/* ---- the run --------------------------------------------------------- */

typedef struct {
    isw_mlp_t net;
    size_t neval;          /* evaluation rows: the first neval samples */
    size_t chunk;          /* rows per evaluation chunk */
    int grad_every;        /* train.eval_gradient: every evaluation runs backward */
    double *scratch;       /* (nparams) doubles: init draws, Hessian probes */
    double *probe;         /* (4 * nparams) doubles: theta, v, Hv, a second gradient */
} run_ws_t;

static void ws_free(run_ws_t *ws)
{
    isw_mlp_free(&ws->net);
    free(ws->scratch);
    free(ws->probe);
    memset(ws, 0, sizeof *ws);
}

static int ws_alloc(run_ws_t *ws, const isw_spec_t *spec, const isw_data_t *data,
                    int full_batch, size_t batch, int want_probe, isw_error_t *err)
{
    memset(ws, 0, sizeof *ws);
    size_t n = data->n;
    ws->neval = n;
    if (!full_batch && spec->train.eval_samples > 0 && (size_t)spec->train.eval_samples < n)
        ws->neval = (size_t)spec->train.eval_samples;
    ws->chunk = ws->neval < EVAL_CHUNK ? ws->neval : EVAL_CHUNK;
    ws->grad_every = spec->train.eval_gradient;
    size_t max_batch = full_batch ? ws->chunk : (batch > ws->chunk ? batch : ws->chunk);
    int st = isw_mlp_alloc(&ws->net, &spec->model, data->nin, data->nout,
                           spec->train.precision, max_batch);
    if (st != ISW_OK)
        return isw_error_set(err, st, "", 0, "cannot allocate a %zu-input network: %s",
                             data->nin, isw_strerror(st));
    ws->net.classification = data->classes > 0;
    ws->scratch = malloc(ws->net.nparams * sizeof(double));
    if (want_probe)
        ws->probe = malloc(4 * ws->net.nparams * sizeof(double));
    if (!ws->scratch || (want_probe && !ws->probe)) {
        ws_free(ws);
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory for run workspace");
    }
    return ISW_OK;
}

/* One evaluation pass at the current parameters: loss, accuracy and
 * diagnostics into ep; with_grad: also the mean-loss gradient over the
 * evaluation rows into net->grads and its norms into ep->grad_norm (else
 * those are NaN and net->grads is left as it was). */
static void evaluate(run_ws_t *ws, const isw_data_t *data, double sat_derivative,
                     int with_grad, isw_epoch_t *ep)
{
    isw_mlp_t *net = &ws->net;
    double scale = 1.0 / (double)ws->neval;
    isw_mlp_stats_reset(net);
    for (size_t first = 0; first < ws->neval; first += ws->chunk) {
        size_t B = ws->neval - first < ws->chunk ? ws->neval - first : ws->chunk;
        isw_mlp_load_batch(net, data, NULL, first, B);
        isw_mlp_forward(net, B);
        isw_mlp_stats_accumulate(net, B, sat_derivative);
        if (with_grad)
            isw_mlp_backward(net, B, scale, first > 0);
    }
    isw_mlp_stats_t st;
    isw_mlp_stats_get(net, &st);
    ep->loss = st.loss;
    ep->accuracy = st.accuracy;
    ep->dead_fraction = st.dead_fraction;
    ep->saturated_fraction = st.saturated_fraction;
    ep->output_saturated_fraction = st.output_saturated_fraction;
    ep->nlayers = net->L;
    ep->layer_dead = st.layer_dead;
    if (with_grad)
        isw_mlp_grad_norms(net, ep->grad_norm);
    else
        for (int l = 0; l < net->L; l++)
            ep->grad_norm[l] = NAN;
}

static double vec_norm(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i] * v[i];
    return sqrt(s);
}

static double vec_dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Mean-loss gradient over the evaluation rows at parameters theta, into g. */
static void grad_at(run_ws_t *ws, const isw_data_t *data, const double *theta, double *g)
{
    isw_mlp_t *net = &ws->net;
    double scale = 1.0 / (double)ws->neval;
    isw_mlp_params_set(net, theta);
    for (size_t first = 0; first < ws->neval; first += ws->chunk) {
        size_t B = ws->neval - first < ws->chunk ? ws->neval - first : ws->chunk;
        isw_mlp_load_batch(net, data, NULL, first, B);
        isw_mlp_forward(net, B);
        isw_mlp_backward(net, B, scale, first > 0);
    }
    isw_mlp_grads_get(net, g);
}

/* H v by central differences of the gradient: (g(t + e v) - g(t - e v)) / 2e
 * with |v| = 1.  e balances truncation (O(e^2)) against rounding
 * (O(macheps / e)): about macheps^(1/3) relative to |theta|. */
static void hvp(run_ws_t *ws, const isw_data_t *data, const double *theta, const double *v,
                double *hv, double *tmp_theta, double *tmp_g)
{
    size_t n = ws->net.nparams;
    double macheps = ws->net.prec == ISW_PREC_FLOAT ? 1.2e-7 : 2.2e-16;
    double tn = vec_norm(theta, n);
    double e = cbrt(macheps) * (tn > 1.0 ? tn : 1.0);
    for (size_t i = 0; i < n; i++)
        tmp_theta[i] = theta[i] + e * v[i];
    grad_at(ws, data, tmp_theta, hv);
    for (size_t i = 0; i < n; i++)
        tmp_theta[i] = theta[i] - e * v[i];
    grad_at(ws, data, tmp_theta, tmp_g);
    for (size_t i = 0; i < n; i++)
        hv[i] = (hv[i] - tmp_g[i]) / (2.0 * e);
}

/* Largest eigenvalue of H at the current parameters.  Power iteration finds
 * the eigenvalue largest in magnitude; if that is negative, a second run on
 * H - mu I (mu that negative value) finds the top of the spectrum.  The
 * parameters are restored afterwards. */
static double sharpness(run_ws_t *ws, const isw_data_t *data, int iters, uint64_t seed)
{
    size_t n = ws->net.nparams;
    double *theta = ws->probe, *v = ws->probe + n, *hv = ws->probe + 2 * n;
    double *tmp_g = ws->probe + 3 * n, *tmp_theta = ws->scratch;
    isw_mlp_params_get(&ws->net, theta);
    gsl_rng *r = isw_init_rng(seed, 0, ISW_STREAM_PROBE);
    double lambda = NAN, shift = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++)
            v[i] = gsl_rng_uniform_pos(r) - 0.5;
        double vn = vec_norm(v, n);
        for (size_t i = 0; i < n; i++)
            v[i] /= vn;
        double rq = 0.0;
        for (int it = 0; it < iters; it++) {
            hvp(ws, data, theta, v, hv, tmp_theta, tmp_g);
            for (size_t i = 0; i < n; i++)
                hv[i] -= shift * v[i];
            rq = vec_dot(v, hv, n);
            double hn = vec_norm(hv, n);
            if (!(hn > 0.0) || !isfinite(hn))
                break;
            for (size_t i = 0; i < n; i++)
                v[i] = hv[i] / hn;
        }
        lambda = rq + shift;
        if (lambda >= 0.0 || pass == 1)
            break;
        shift = lambda;
    }
    gsl_rng_free(r);
    isw_mlp_params_set(&ws->net, theta);
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

int isw_train_sharpness(double *lambda, const isw_spec_t *spec, const isw_data_t *data,
                        int iters, isw_error_t *err)
{
    int st = check_shapes(spec, data, err);
    if (st != ISW_OK)
        return st;
    run_ws_t ws;
    st = ws_alloc(&ws, spec, data, 1, data->n, 1, err);
    if (st != ISW_OK)
        return st;
    gsl_rng *r = isw_init_rng(spec->base_seed, spec->seed, ISW_STREAM_INIT);
    isw_init_params(&ws.net, &spec->init, r, ws.scratch);
    gsl_rng_free(r);
    *lambda = sharpness(&ws, data, iters, isw_seed_derive(spec->base_seed, spec->seed, 0));
    ws_free(&ws);
    return ISW_OK;
}

int isw_train_check_memory(const isw_spec_t *spec, const isw_data_t *data, isw_error_t *err)
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
    double bytes = elem * (4 * params + 4 * rows * widths) + 16 * ((double)spec->train.epochs + 1) +
                   8 * n;
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (have > 0 && bytes > have)
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "a run needs about %.3g GiB (%.3g parameters, %d epochs, %.0f "
                             "samples), but this machine has %.3g GiB: expected a smaller "
                             "model.hidden, train.epochs or dataset",
                             bytes / 1073741824.0, params, spec->train.epochs, n,
                             have / 1073741824.0);
    return ISW_OK;
}

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

/* 1 when the run ends at this evaluation: non-finite loss or parameters,
 * the loss past the divergence cap (t says which), the caller asked to
 * stop (stop), the last epoch E, or a stopping criterion met. */
static int run_ends(const isw_criteria_spec_t *cr, isw_trajectory_t *t, const isw_epoch_t *ep,
                    const isw_mlp_t *net, int epoch, int E, int stop)
{
    if (!isfinite(ep->loss) || !isw_mlp_params_finite(net)) {
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
    return cr->stop_on_flat && isw_train_is_flat(cr, t->loss, t->n);
}

/* One epoch of minibatches of B rows in perm's order.  A batch loss past
 * cap or non-finite ends the run at once (another few hundred steps would
 * only overflow): t->capped or t->nonfinite says so. */
static void minibatch_epoch(isw_mlp_t *net, const isw_data_t *data, const isw_train_spec_t *tr,
                            const size_t *perm, size_t B, double cap, isw_trajectory_t *t)
{
    size_t n = data->n, nbatches = (n + B - 1) / B;
    for (size_t b = 0; b < nbatches && !t->nonfinite && !t->capped; b++) {
        size_t rows = b + 1 < nbatches ? B : n - b * B;
        isw_mlp_load_batch(net, data, perm + b * B, 0, rows);
        isw_mlp_forward(net, rows);
        double bl = isw_mlp_loss(net, rows) / (double)rows;
        if (!isfinite(bl))
            t->nonfinite = 1;
        else if (bl > cap)
            t->capped = 1;
        else {
            isw_mlp_backward(net, rows, 1.0 / (double)rows, 0);
            isw_mlp_sgd_step(net, tr->lr, tr->lr_layer, tr->momentum);
        }
    }
}

/* The epoch after `epoch` was cut short by a batch: it counts, with what it
 * reached (a capped run is evaluated where it stopped; a non-finite one
 * has nothing to evaluate). */
static void cut_short(run_ws_t *ws, const isw_data_t *data, const isw_criteria_spec_t *cr,
                      isw_epoch_t *ep, isw_trajectory_t *t, double *loss, double *acc,
                      int epoch, isw_epoch_fn fn, void *user)
{
    loss[epoch + 1] = INFINITY;
    acc[epoch + 1] = NAN;
    t->n = epoch + 2;
    if (!t->capped)
        return;
    evaluate(ws, data, cr->saturation_derivative, ws->grad_every, ep);
    loss[epoch + 1] = isfinite(ep->loss) ? ep->loss : INFINITY;
    acc[epoch + 1] = ep->accuracy;
    ep->epoch = epoch + 1;
    if (fn)
        fn(ep, user);
}

/* The record of a finished trajectory: its outcome and loss summary.
 * acc[0..t->n): the accuracy per evaluation (NaN for regression, where t
 * holds none). */
static void fill_record(isw_record_t *rec, const isw_criteria_spec_t *cr,
                        const isw_trajectory_t *t, const double *acc)
{
    int ec;
    rec->outcome = isw_train_classify(cr, t, &ec);
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
    rec->dead_fraction = t->dead_fraction;
    rec->saturated_fraction = t->saturated_fraction;
    rec->output_saturated_fraction = t->output_saturated_fraction;
}

int isw_train_run(isw_record_t *rec, const isw_spec_t *spec, const isw_data_t *data,
                  isw_epoch_fn fn, void *user, isw_error_t *err)
{
    double t0 = isw_now();
    uint64_t task = rec->task;
    isw_record_init(rec, task);
    int st = check_shapes(spec, data, err);
    if (st == ISW_OK)
        st = isw_train_check_memory(spec, data, err);
    if (st != ISW_OK)
        return st;

    const isw_train_spec_t *tr = &spec->train;
    const isw_criteria_spec_t *cr = &spec->criteria;
    size_t n = data->n;
    int full = tr->batch <= 0 || (size_t)tr->batch >= n;
    size_t B = full ? n : (size_t)tr->batch;
    int E = tr->epochs;

    run_ws_t ws;
    st = ws_alloc(&ws, spec, data, full, B, tr->sharpness, err);
    if (st != ISW_OK)
        return st;
    isw_mlp_t *net = &ws.net;
    size_t *perm = malloc(n * sizeof *perm);
    double *loss = malloc(((size_t)E + 1) * sizeof *loss);
    double *acc = malloc(((size_t)E + 1) * sizeof *acc);
    gsl_rng *rinit = isw_init_rng(spec->base_seed, spec->seed, ISW_STREAM_INIT);
    gsl_rng *rshuf = isw_init_rng(spec->base_seed, spec->seed, ISW_STREAM_SHUFFLE);
    if (!perm || !loss || !acc || !rinit || !rshuf) {
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory for a %d-epoch run", E);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    isw_init_params(net, &spec->init, rinit, ws.scratch);

    isw_trajectory_t t = {.loss = loss, .acc = data->classes > 0 ? acc : NULL};
    t.uses_relu = isw_act_can_die(spec->model.activation) && spec->model.nhidden > 0;
    t.uses_saturating = isw_act_saturates(spec->model.activation) && spec->model.nhidden > 0;
    t.output_saturates = isw_out_probabilities(spec->model.output);

    isw_epoch_t ep = {0};
    for (int epoch = 0;; epoch++) {
        /* Evaluate at the parameters after `epoch` epochs. */
        ep.epoch = epoch;
        evaluate(&ws, data, cr->saturation_derivative, full || epoch == 0 || ws.grad_every,
                 &ep);
        observe(&t, &ep, loss, acc, epoch);
        if (epoch == 0) {
            rec->loss_initial = ep.loss;
            rec->grad_norm_initial = grad_total(&ep);
            if (tr->sharpness)
                rec->sharpness_initial =
                    sharpness(&ws, data, tr->sharpness_iters,
                              isw_seed_derive(spec->base_seed, spec->seed, 0));
        }
        int stop = fn && fn(&ep, user);
        if (run_ends(cr, &t, &ep, net, epoch, E, stop))
            break;

        /* One epoch.  Full batch: the evaluation just computed the gradient
         * over all n rows at these parameters. */
        if (full) {
            isw_mlp_sgd_step(net, tr->lr, tr->lr_layer, tr->momentum);
            continue;
        }
        if (tr->shuffle)
            isw_train_shuffle(perm, n, rshuf);
        minibatch_epoch(net, data, tr, perm, B, cr->diverge_ratio * loss[0], &t);
        if (t.nonfinite || t.capped) {
            cut_short(&ws, data, cr, &ep, &t, loss, acc, epoch, fn, user);
            break;
        }
    }
    fill_record(rec, cr, &t, acc);
    st = ISW_OK;
done:
    gsl_rng_free(rinit);
    gsl_rng_free(rshuf);
    free(perm);
    free(loss);
    free(acc);
    ws_free(&ws);
    rec->seconds = isw_now() - t0;
    return st;
}
