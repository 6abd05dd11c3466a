/* The diagnosis of one run and its counterfactuals (explain.h). */
#include "initsweep/explain.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "initsweep/init.h"
#include "initsweep/mlp.h"

/* Appends printf text to a fixed buffer (truncating, never overflowing). */
static void add(char *buf, size_t size, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, size - n, fmt, ap);
    va_end(ap);
}

static isw_mechanism_t *mechanism(isw_explain_t *ex, const char *name)
{
    if (ex->nmech >= ISW_EXPLAIN_MAX_MECH)
        return NULL;
    isw_mechanism_t *m = &ex->mech[ex->nmech++];
    m->name = name;
    m->text[0] = '\0';
    return m;
}

static int has(const isw_explain_t *ex, const char *name)
{
    for (int i = 0; i < ex->nmech; i++)
        if (strcmp(ex->mech[i].name, name) == 0)
            return 1;
    return 0;
}

/* A counterfactual, once: a second with the same assignment is dropped. */
static void try_cf(isw_explain_t *ex, const char *why, const char *fmt, ...)
{
    char set[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(set, sizeof set, fmt, ap);
    va_end(ap);
    for (int i = 0; i < ex->ncf; i++)
        if (strcmp(ex->cf[i].set, set) == 0)
            return;
    if (ex->ncf >= ISW_EXPLAIN_MAX_CF)
        return;
    isw_counterfactual_t *c = &ex->cf[ex->ncf++];
    memset(c, 0, sizeof *c);
    snprintf(c->set, sizeof c->set, "%s", set);
    snprintf(c->why, sizeof c->why, "%s", why);
    c->status = -1;
}

/* Class frequencies over the evaluation rows, and the loss of the best
 * constant output: mse (1/2 sum_j (o_j - y_j)^2) 1/2 (1 - sum p_c^2) at
 * o = p; cross-entropy the entropy -sum p_c ln p_c.  NaN for regression or
 * an output that cannot be constant at p (sigmoid outputs can). */
static double constant_loss(const isw_spec_t *spec, const isw_data_t *data)
{
    if (data->classes <= 0 || data->nout == 0)
        return NAN;
    size_t n = data->n;
    if (spec->train.eval_samples > 0 && (size_t)spec->train.eval_samples < n)
        n = (size_t)spec->train.eval_samples;
    double p[256] = {0};
    size_t k = data->nout < 256 ? data->nout : 256;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            p[j] += data->Y[i * data->nout + j];
    double sq = 0, ent = 0;
    for (size_t j = 0; j < k; j++) {
        p[j] /= (double)n;
        sq += p[j] * p[j];
        ent -= p[j] > 0 ? p[j] * log(p[j]) : 0;
    }
    return spec->model.loss == ISW_LOSS_MSE ? 0.5 * (1 - sq) : ent;
}

/* The smallest input value of the evaluation rows, and the mean input. */
static void input_range(const isw_data_t *data, double *min, double *mean)
{
    double lo = INFINITY, s = 0;
    size_t m = data->n * data->nin;
    for (size_t i = 0; i < m; i++) {
        double x = data->X[i];
        lo = x < lo ? x : lo;
        s += x;
    }
    *min = lo;
    *mean = m ? s / (double)m : NAN;
}

static const char *fan_family(isw_act_t a)
{
    return a == ISW_ACT_RELU || a == ISW_ACT_LEAKY_RELU ? "he_normal" : "xavier_uniform";
}

/* The fan-based family to try, unless the run already uses one. */
static void try_fan(isw_explain_t *ex, const isw_spec_t *spec)
{
    isw_dist_t d = spec->init.dist;
    if (d == ISW_DIST_XAVIER_UNIFORM || d == ISW_DIST_XAVIER_NORMAL || d == ISW_DIST_HE_UNIFORM ||
        d == ISW_DIST_HE_NORMAL || d == ISW_DIST_LECUN_NORMAL || d == ISW_DIST_LECUN_UNIFORM)
        return;
    try_cf(ex, "a fan-based family", "init.dist=%s", fan_family(spec->model.activation));
}

/* ---- the mechanisms ------------------------------------------------------- */

static void saturated_units(isw_explain_t *ex, const isw_spec_t *spec, const isw_data_t *data)
{
    const isw_init_probe_t *p = &ex->probe;
    int worst = -1;
    for (int l = 0; l + 1 < p->nlayers; l++)
        if (worst < 0 || p->layer[l].flat_share > p->layer[worst].flat_share)
            worst = l;
    int at_init = worst >= 0 && p->layer[worst].flat_share >= 0.5;
    int at_end = ex->rec.saturated_fraction >= spec->criteria.saturated_fraction;
    if (!isw_act_saturates(spec->model.activation) || (!at_init && !at_end))
        return;
    isw_mechanism_t *m = mechanism(ex, "saturated_units");
    if (!m)
        return;
    add(m->text, sizeof m->text, "Saturated units:");
    for (int l = 0; l + 1 < p->nlayers; l++) {
        const isw_layer_probe_t *lp = &p->layer[l];
        if (lp->flat_share < 0.5)
            continue;
        add(m->text, sizeof m->text,
            " at init hidden layer %d (%d %s units) has mean pre-activation %+.3g (RMS %.3g) "
            "and mean %s' %.2g; %.0f %% of its unit-sample pairs have %s' < %g.", l + 1,
            lp->width, isw_act_name(spec->model.activation), lp->z_mean, lp->z_rms,
            spec->model.activation == ISW_ACT_TANH ? "tanh" : "sigma", lp->slope_mean,
            100 * lp->flat_share, spec->model.activation == ISW_ACT_TANH ? "tanh" : "sigma",
            spec->criteria.saturation_derivative);
    }
    if (at_end)
        add(m->text, sizeof m->text, " At the end %.0f %% of the hidden units are saturated.",
            100 * ex->rec.saturated_fraction);
    double xmin, xmean;
    input_range(data, &xmin, &xmean);
    int positive = spec->init.dist == ISW_DIST_UNIFORM_POSITIVE || spec->init.mean > 0;
    if (positive && xmin >= 0 && p->layer[0].z_mean > 0) {
        double wmean = spec->init.dist == ISW_DIST_UNIFORM_POSITIVE
                           ? spec->init.scale / 2 + spec->init.mean : spec->init.mean;
        add(m->text, sizeof m->text,
            " The cause: the inputs are non-negative (mean %.3g) and the weights positive "
            "(%s x %g, mean %.3g), so every pre-activation of layer 1 is a sum of %zu positive "
            "terms, about %zu x %.3g x %.3g = %.3g%s.", xmean, isw_dist_name(spec->init.dist),
            spec->init.scale, wmean, data->nin, data->nin, xmean, wmean,
            (double)data->nin * xmean * wmean,
            spec->init.bias == ISW_BIAS_SAME ? " plus a positive bias" : "");
    }
    if (p->output_spread < 1e-3) {
        add(m->text, sizeof m->text,
            " The output is the same for every input (relative spread %.2g over the samples): "
            "the network can at best learn the best constant output", p->output_spread);
        if (isfinite(ex->plateau))
            add(m->text, sizeof m->text, ", whose loss is %s = %.4g for these classes; the run "
                "ended at %.4g", spec->model.loss == ISW_LOSS_MSE ? "1/2 (1 - sum p_c^2)"
                                                                 : "the class entropy",
                ex->plateau, ex->rec.loss_final);
        add(m->text, sizeof m->text, ".");
    }
}

static void dead_relu(isw_explain_t *ex, const isw_spec_t *spec)
{
    const isw_record_t *r = &ex->rec;
    if (!isw_act_can_die(spec->model.activation) ||
        !(r->layer_dead || r->dead_fraction >= spec->criteria.dead_fraction))
        return;
    isw_mechanism_t *m = mechanism(ex, "dead_relu");
    if (!m)
        return;
    int died = -1;
    double peak = 0;
    for (int i = 0; i < ex->nep; i++) {
        if (ex->ep[i].loss > peak || !isfinite(ex->ep[i].loss))
            peak = ex->ep[i].loss;
        if (died < 0 && (ex->ep[i].layer_dead ||
                         ex->ep[i].dead_fraction >= spec->criteria.dead_fraction))
            died = i;
    }
    add(m->text, sizeof m->text, "Dead ReLUs: %.0f %% of the hidden units are dead at the end "
        "(inactive on every sample)%s.", 100 * r->dead_fraction,
        r->layer_dead ? ", a whole hidden layer among them, so the output no longer depends "
                        "on the input" : "");
    if (died > 0)
        add(m->text, sizeof m->text, " They were alive at init (%.0f %% dead) and died by "
            "epoch %d", 100 * ex->probe.dead_fraction, ex->ep[died].epoch);
    else if (died == 0)
        add(m->text, sizeof m->text, " They were dead already at init");
    if (died > 0 && r->loss_max > 1.5 * r->loss_initial)
        add(m->text, sizeof m->text, ", while the loss rose to %.3g x its start: large updates "
            "pushed their pre-activations below zero for every sample", r->loss_max /
                                                                          r->loss_initial);
    if (isfinite(ex->c))
        add(m->text, sizeof m->text, " (lr lambda_0 = %.3g)", ex->c);
    add(m->text, sizeof m->text, ".");
}

static void saturated_softmax(isw_explain_t *ex, const isw_spec_t *spec)
{
    double at_init = ex->probe.output_saturated_fraction, at_end = ex->rec.output_saturated_fraction;
    if (spec->model.output != ISW_OUT_SOFTMAX || spec->model.loss != ISW_LOSS_MSE ||
        !(at_init >= 0.5 || at_end >= 0.5))
        return;
    isw_mechanism_t *m = mechanism(ex, "saturated_softmax_mse");
    if (!m)
        return;
    double g1 = ex->nep > 1 ? 0 : NAN, g0 = 0;
    for (int l = 0; l < ex->probe.nlayers; l++)
        g0 += ex->probe.grad_norm[l] * ex->probe.grad_norm[l];
    if (ex->nep > 1)
        for (int l = 0; l < ex->ep[1].nlayers; l++)
            g1 += ex->ep[1].grad_norm[l] * ex->ep[1].grad_norm[l];
    add(m->text, sizeof m->text,
        "A saturated softmax under mse: at init the softmax is saturated (max p > 0.999) on "
        "%.0f %% of the samples (mean max p %.3f), %.0f %% at the end. Through a saturated "
        "softmax the mse gradient is multiplied by its Jacobian p (delta - p), which is ~0 "
        "when p is one-hot, so a confidently wrong output barely moves: |grad| %.3g at init",
        100 * at_init, ex->probe.output_max_mean, 100 * at_end, sqrt(g0));
    if (ex->nep > 1 && isfinite(g1))
        add(m->text, sizeof m->text, ", %.3g after epoch %d", sqrt(g1), ex->ep[1].epoch);
    add(m->text, sizeof m->text, ". Cross-entropy's gradient p - y does not vanish there.");
    const isw_init_probe_t *p = &ex->probe;
    if (p->nlayers > 1)
        add(m->text, sizeof m->text, " The logits are large because the signal grows through "
            "the layers: pre-activation RMS %.3g in layer 1, %.3g in layer %d.",
            p->layer[0].z_rms, p->layer[p->nlayers - 2].z_rms, p->nlayers - 1);
}

static void curvature(isw_explain_t *ex)
{
    const isw_record_t *r = &ex->rec;
    int diverged = r->outcome == ISW_OUTCOME_DIVERGED;
    if (!isfinite(ex->c) || (!diverged && ex->c <= 2))
        return;
    isw_mechanism_t *m = mechanism(ex, "curvature");
    if (!m)
        return;
    if (ex->c > 2)
        add(m->text, sizeof m->text,
            "The learning rate is beyond the curvature limit: lr lambda_0 = %.3g x %.3g = %.3g "
            "> 2, where gradient descent on the local quadratic grows along the top "
            "eigendirection by |1 - lr lambda_0| = %.3g per step%s.", r->lr_used,
            r->sharpness_initial, ex->c, fabs(1 - ex->c),
            ex->c > 4 ? "; above 4 even the catapult (the loss spikes, the curvature drops, "
                        "training recovers) cannot save it"
                      : diverged ? "; between 2 and 4 a network can still catapult back (the "
                                   "loss spikes, the curvature drops), this one did not"
                                 : "; between 2 and 4 a network can still catapult back (the "
                                   "loss spikes, the curvature drops)");
    else
        add(m->text, sizeof m->text,
            "Diverged although lr lambda_0 = %.3g < 2 at init: the curvature grew during "
            "training (progressive sharpening) or the steps left the quadratic region.", ex->c);
    if (diverged)
        add(m->text, sizeof m->text, " The loss reached %.3g x its start.",
            r->loss_max / r->loss_initial);
}

static void gradient_depth(isw_explain_t *ex)
{
    const isw_init_probe_t *p = &ex->probe;
    int L = p->nlayers;
    if (L < 3 || !(p->grad_norm[0] > 0) || !(p->grad_norm[L - 1] > 0))
        return;
    double ratio = pow(p->grad_norm[0] / p->grad_norm[L - 1], 1.0 / (L - 1));
    if (ratio >= 0.5 && ratio <= 2)
        return;
    isw_mechanism_t *m = mechanism(ex, ratio < 0.5 ? "vanishing_gradient" : "exploding_gradient");
    if (!m)
        return;
    add(m->text, sizeof m->text, "%s gradients with depth: at init the gradient norm changes "
        "by x%.3g per layer toward the input (layer 1 gets %.3g of the last layer's %.3g; a "
        "well-scaled init keeps this near 1):", ratio < 0.5 ? "Vanishing" : "Exploding", ratio,
        p->grad_norm[0], p->grad_norm[L - 1]);
    for (int l = 0; l < L; l++)
        add(m->text, sizeof m->text, " %.3g", p->grad_norm[l]);
    add(m->text, sizeof m->text, ".");
}

static void collapsed_layer(isw_explain_t *ex, const isw_spec_t *spec)
{
    const isw_record_t *r = &ex->rec;
    int L = ex->probe.nlayers, n = ex->nep;
    if (spec->model.activation != ISW_ACT_SIGMOID || r->outcome == ISW_OUTCOME_CONVERGED ||
        n < 2 || L < 2)
        return;
    /* the layer and evaluation furthest from 1/2 among those that started
     * near it */
    int layer = -1, at = -1;
    double worst = 0.4;                  /* |mean - 1/2| > 0.4: below 0.1 or above 0.9 */
    for (int l = 0; l + 1 < L; l++) {
        double a0 = ex->ep[0].act_mean[l];
        if (!(fabs(a0 - 0.5) < 0.2))
            continue;
        for (int e = 1; e < n; e++) {
            double d = fabs(ex->ep[e].act_mean[l] - 0.5);
            if (d > worst) {
                worst = d;
                layer = l;
                at = e;
            }
        }
    }
    if (layer < 0)
        return;
    /* the first evaluation past 0.1 / 0.9 */
    int first = at;
    while (first > 1 && fabs(ex->ep[first - 1].act_mean[layer] - 0.5) > 0.4)
        first--;
    isw_mechanism_t *m = mechanism(ex, "collapsed_layer");
    if (!m)
        return;
    double a = ex->ep[first].act_mean[layer];
    add(m->text, sizeof m->text, "Collapsed layer: hidden layer %d's mean sigmoid activation "
        "went from %.3g at init to %.3g after epoch %d (%.3g at the end), where sigma' = a(1 - a) "
        "is about %.2g against 0.25 at 1/2; the other hidden layers after epoch %d:", layer + 1,
        ex->ep[0].act_mean[layer], a, ex->ep[first].epoch, ex->ep[n - 1].act_mean[layer],
        a * (1 - a), ex->ep[first].epoch);
    for (int l = 0; l + 1 < L; l++)
        if (l != layer)
            add(m->text, sizeof m->text, " layer %d %.3g", l + 1, ex->ep[first].act_mean[l]);
    add(m->text, sizeof m->text, ". The output layer fits the class frequencies fastest by "
        "driving its inputs to %s, where the sigmoid is flat, and they leave it only slowly "
        "(Glorot & Bengio 2010)", a < 0.5 ? "0" : "1");
    if (isfinite(r->accuracy_final))
        add(m->text, sizeof m->text, "; accuracy %.3f at the end", r->accuracy_final);
    add(m->text, sizeof m->text, ".");
}

static void slow(isw_explain_t *ex, const isw_spec_t *spec)
{
    const isw_record_t *r = &ex->rec;
    int n = ex->nep;
    if (n < 2 || (r->outcome != ISW_OUTCOME_SLOW && r->outcome != ISW_OUTCOME_STALLED))
        return;
    /* per-epoch factor of the loss over the last few evaluations */
    int k = n - 1 < 5 ? n - 1 : 5;
    double a = ex->ep[n - 1 - k].loss, b = ex->ep[n - 1].loss;
    double rate = a > 0 && b > 0 ? pow(b / a, 1.0 / k) : NAN;
    double g0 = 0;
    for (int l = 0; l < ex->probe.nlayers; l++)
        g0 += ex->probe.grad_norm[l] * ex->probe.grad_norm[l];
    g0 = sqrt(g0);
    int tiny = g0 * r->lr_used < 1e-4;   /* the first step moves the weights by < 1e-4 */
    if (r->outcome == ISW_OUTCOME_STALLED && !tiny &&
        !(rate < 1 - spec->criteria.min_improvement / 4))
        return;
    isw_mechanism_t *m = mechanism(ex, "slow");
    if (!m)
        return;
    add(m->text, sizeof m->text, "Slow: the loss went from %.6g to %.6g in %d epochs, x%.6g "
        "per epoch at the end", r->loss_initial, r->loss_final, r->epochs, rate);
    if (spec->criteria.target_loss > 0 && rate < 1 && b > spec->criteria.target_loss)
        add(m->text, sizeof m->text, "; at that rate target_loss %g needs about %.0f more "
            "epochs", spec->criteria.target_loss, log(spec->criteria.target_loss / b) / log(rate));
    add(m->text, sizeof m->text, ". |grad| at init %.3g with lr %g%s.", g0, r->lr_used,
        tiny ? ": the steps are tiny (a small init makes a small gradient, and the lr does not "
               "make up for it), so the loss moves too little for the rules to see" : "");
}

void isw_explain_diagnose(isw_explain_t *ex, const isw_spec_t *spec, const isw_data_t *data)
{
    const isw_record_t *r = &ex->rec;
    ex->nmech = ex->ncf = 0;
    ex->note[0] = '\0';
    ex->c = r->sharpness_initial > 0 ? r->lr_used * r->sharpness_initial : NAN;
    ex->plateau = constant_loss(spec, data);
    saturated_units(ex, spec, data);
    saturated_softmax(ex, spec);
    dead_relu(ex, spec);
    curvature(ex);
    gradient_depth(ex);
    collapsed_layer(ex, spec);
    slow(ex, spec);
    if (r->outcome == ISW_OUTCOME_CONVERGED && ex->nmech == 0) {
        isw_mechanism_t *m = mechanism(ex, "healthy");
        add(m->text, sizeof m->text, "Healthy: converged at epoch %d (loss %.4g -> %.4g",
            r->epoch_converged, r->loss_initial, r->loss_final);
        if (isfinite(r->accuracy_final))
            add(m->text, sizeof m->text, ", accuracy %.3f", r->accuracy_final);
        add(m->text, sizeof m->text, "); no saturated or dead units");
        if (isfinite(ex->c))
            add(m->text, sizeof m->text, ", lr lambda_0 = %.3g < 2", ex->c);
        add(m->text, sizeof m->text, ".");
    }
    if (ex->nmech == 0) {
        isw_mechanism_t *m = mechanism(ex, "unexplained");
        add(m->text, sizeof m->text, "No mechanism found: outcome %s with no saturated or dead "
            "units, no curvature or depth problem at init; the loss went %.4g -> %.4g.",
            isw_outcome_name(r->outcome), r->loss_initial, r->loss_final);
    }

    /* labels that are right by the rules but mislead */
    int saturated = has(ex, "saturated_units") || has(ex, "saturated_softmax_mse") ||
                    has(ex, "collapsed_layer");
    if (saturated && (r->outcome == ISW_OUTCOME_SLOW || r->outcome == ISW_OUTCOME_STALLED))
        add(ex->note, sizeof ex->note, "Labelled %s by the rules, but it is a saturated crawl: "
            "the units or outputs are saturated, so more epochs or a smaller lr change little. ",
            isw_outcome_name(r->outcome));
    for (int i = 0; i < ex->nmech; i++)
        if (r->outcome == ISW_OUTCOME_STALLED && !saturated &&
            strcmp(ex->mech[i].name, "slow") == 0)
            add(ex->note, sizeof ex->note, "Labelled stalled by the rules, but it is only too "
                "slow: %s. ", strstr(ex->mech[i].text, "steps are tiny")
                                  ? "its steps are tiny, not blocked"
                                  : "the loss still falls");

    /* counterfactuals, from the mechanisms first */
    double s = spec->init.scale, lr = spec->train.lr;
    if (has(ex, "saturated_units")) {
        if (spec->init.dist == ISW_DIST_UNIFORM_POSITIVE)
            try_cf(ex, "a symmetric family: positive and negative weights", "init.dist=uniform");
        try_fan(ex, spec);
        if (spec->init.bias != ISW_BIAS_ZERO)
            try_cf(ex, "zero biases", "init.bias=zero");
        try_cf(ex, "half the init scale", "init.scale=%g", s / 2);
    }
    if (has(ex, "saturated_softmax_mse")) {
        try_cf(ex, "cross-entropy instead of mse", "model.loss=cross_entropy");
        try_cf(ex, "half the init scale (logits ~2^L smaller)", "init.scale=%g", s / 2);
        try_cf(ex, "a 10x smaller learning rate", "train.lr=%g", lr / 10);
        try_fan(ex, spec);
    }
    if (has(ex, "dead_relu") || has(ex, "curvature")) {
        try_cf(ex, "a 10x smaller learning rate", "train.lr=%g", lr / 10);
        try_cf(ex, "half the init scale (lower curvature)", "init.scale=%g", s / 2);
        try_fan(ex, spec);
    }
    if (has(ex, "collapsed_layer")) {
        try_cf(ex, "a zero-mean activation", "model.activation=tanh");
        try_fan(ex, spec);
        try_cf(ex, "a 3x larger learning rate (out of the plateau sooner)", "train.lr=%g", lr * 3);
    }
    if (has(ex, "vanishing_gradient")) {
        try_fan(ex, spec);
        try_cf(ex, "twice the init scale", "init.scale=%g", s * 2);
    }
    if (has(ex, "exploding_gradient")) {
        try_fan(ex, spec);
        try_cf(ex, "half the init scale", "init.scale=%g", s / 2);
    }
    if (has(ex, "slow")) {
        try_cf(ex, "a 10x larger learning rate", "train.lr=%g", lr * 10);
        if (s < 0.5)
            try_cf(ex, "the family's own scale", "init.scale=1");
        try_cf(ex, "a 100x larger learning rate", "train.lr=%g", lr * 100);
        try_cf(ex, "twice the init scale", "init.scale=%g", s * 2);
    }
    /* then the margins: how far the run is from the edges either way */
    try_cf(ex, "a 10x larger learning rate", "train.lr=%g", lr * 10);
    try_cf(ex, "a 10x smaller learning rate", "train.lr=%g", lr / 10);
    try_cf(ex, "twice the init scale", "init.scale=%g", s * 2);
    try_cf(ex, "half the init scale", "init.scale=%g", s / 2);
}

static const isw_counterfactual_t *find_cf(const isw_explain_t *ex, const char *prefix)
{
    for (int i = 0; i < ex->ncf; i++)
        if (strncmp(ex->cf[i].set, prefix, strlen(prefix)) == 0)
            return &ex->cf[i];
    return NULL;
}

static int fixes(const isw_counterfactual_t *c)
{
    return c && c->status == 0 && c->rec.outcome == ISW_OUTCOME_CONVERGED;
}

void isw_explain_conclude(isw_explain_t *ex, const isw_spec_t *spec)
{
    int any = 0;
    for (int i = 0; i < ex->ncf; i++)
        any |= fixes(&ex->cf[i]);
    if (ex->rec.outcome != ISW_OUTCOME_CONVERGED) {
        if (any) {
            add(ex->note, sizeof ex->note, "Fixed by:");
            for (int i = 0, first = 1; i < ex->ncf; i++)
                if (fixes(&ex->cf[i])) {
                    add(ex->note, sizeof ex->note, "%s %s (converged at epoch %d)",
                        first ? "" : ",", ex->cf[i].set, ex->cf[i].rec.epoch_converged);
                    first = 0;
                }
            add(ex->note, sizeof ex->note, ". ");
        } else {
            add(ex->note, sizeof ex->note, "None of the single changes tried fixes it. ");
        }
    }
    if (has(ex, "saturated_softmax_mse")) {
        char lrset[64];
        snprintf(lrset, sizeof lrset, "train.lr=%g", spec->train.lr / 10);
        const isw_counterfactual_t *small = NULL, *ce = find_cf(ex, "model.loss=cross_entropy");
        for (int i = 0; i < ex->ncf; i++)
            if (strcmp(ex->cf[i].set, lrset) == 0)
                small = &ex->cf[i];
        if (small && small->status == 0 && !fixes(small) && fixes(ce))
            add(ex->note, sizeof ex->note, "A smaller learning rate does not rescue this init "
                "under mse (%s: %s); a report that it does implies cross-entropy, under which "
                "the same init trains. ", small->set, isw_outcome_name(small->rec.outcome));
    }
    /* the stable lr moves with the init scale through the curvature */
    const isw_counterfactual_t *half = NULL;
    char hset[64];
    snprintf(hset, sizeof hset, "init.scale=%g", spec->init.scale / 2);
    for (int i = 0; i < ex->ncf; i++)
        if (strcmp(ex->cf[i].set, hset) == 0)
            half = &ex->cf[i];
    if (half && half->status == 0 && half->rec.sharpness_initial > 0 &&
        ex->rec.sharpness_initial > 0) {
        double ratio = ex->rec.sharpness_initial / half->rec.sharpness_initial;
        if (fabs(ratio - 1) < 0.05)
            add(ex->note, sizeof ex->note, "Halving the init scale leaves lambda_0 at %.3g: "
                "the stable learning rate does not move with the scale here. ",
                ex->rec.sharpness_initial);
        else
            add(ex->note, sizeof ex->note, "Halving the init scale changes lambda_0 from %.3g "
                "to %.3g, so the stable learning rate (< 2 / lambda_0) moves by x%.3g. ",
                ex->rec.sharpness_initial, half->rec.sharpness_initial, ratio);
    }
}

/* ---- printing --------------------------------------------------------------- */

static void json_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.9g", v);
    else
        fputs("null", out);
}

/* Text wrapped at 78 columns with an indent after the first line. */
static void wrapped(FILE *out, const char *head, const char *text)
{
    int col = fprintf(out, "%-11s", head), fresh = 1;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        int w = (int)(end - p);
        if (w == 0)
            break;
        if (!fresh && col + 1 + w > 78) {
            fprintf(out, "\n%11s", "");
            col = 11;
            fresh = 1;
        }
        col += fprintf(out, "%s%.*s", fresh ? "" : " ", w, p);
        fresh = 0;
        p = end;
    }
    fputc('\n', out);
}

static void shape(char *buf, size_t size, const isw_spec_t *spec, const isw_explain_t *ex)
{
    (void)ex;
    buf[0] = '\0';
    if (spec->model.nhidden == 0)
        add(buf, size, "no hidden layer");
    else {
        add(buf, size, "%d hidden layer%s [", spec->model.nhidden,
            spec->model.nhidden == 1 ? "" : "s");
        for (int l = 0; l < spec->model.nhidden; l++)
            add(buf, size, "%s%d", l ? ", " : "", spec->model.hidden[l]);
        add(buf, size, "] %s", isw_act_name(spec->model.activation));
    }
    add(buf, size, ", %s output, %s; %s x %g, bias %s; lr %g, %d epochs, batch %ld",
        isw_out_name(spec->model.output),
        isw_loss_name(spec->model.loss), isw_dist_name(spec->init.dist), spec->init.scale,
        isw_bias_init_name((isw_bias_init_t)spec->init.bias), spec->train.lr,
        spec->train.epochs, spec->train.batch);
}

void isw_explain_print(FILE *out, const isw_explain_t *ex, const isw_spec_t *spec,
                       const char *spec_path, int json)
{
    const isw_record_t *r = &ex->rec;
    char what[400];
    shape(what, sizeof what, spec, ex);
    if (json) {
        fputs("{\"spec\": ", out);
        isw_json_string(out, spec_path);
        fputs(", \"run\": ", out);
        isw_json_string(out, what);
        fprintf(out, ", \"outcome\": \"%s\", \"epochs\": %d, \"epoch_converged\": ",
                isw_outcome_name(r->outcome), r->epochs);
        if (r->epoch_converged >= 0)
            fprintf(out, "%d", r->epoch_converged);
        else
            fputs("null", out);
        const struct {
            const char *k;
            double v;
        } nums[] = {{"loss_initial", r->loss_initial}, {"loss_final", r->loss_final},
                    {"accuracy_final", r->accuracy_final}, {"lambda_0", r->sharpness_initial},
                    {"lr_lambda_0", ex->c}, {"constant_output_loss", ex->plateau},
                    {"output_spread_initial", ex->probe.output_spread},
                    {"output_saturated_initial", ex->probe.output_saturated_fraction}};
        for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
            fprintf(out, ", \"%s\": ", nums[i].k);
            json_number(out, nums[i].v);
        }
        fputs(", \"layers\": [", out);
        for (int l = 0; l + 1 < ex->probe.nlayers; l++) {
            const isw_layer_probe_t *lp = &ex->probe.layer[l];
            fprintf(out, "%s{\"width\": %d, \"z_mean\": ", l ? ", " : "", lp->width);
            json_number(out, lp->z_mean);
            fputs(", \"z_rms\": ", out);
            json_number(out, lp->z_rms);
            fputs(", \"slope_mean\": ", out);
            json_number(out, lp->slope_mean);
            fputs(", \"flat_share\": ", out);
            json_number(out, lp->flat_share);
            fputc('}', out);
        }
        fputs("], \"grad_norm_initial\": [", out);
        for (int l = 0; l < ex->probe.nlayers; l++) {
            fputs(l ? ", " : "", out);
            json_number(out, ex->probe.grad_norm[l]);
        }
        fputs("], \"mechanisms\": [", out);
        for (int i = 0; i < ex->nmech; i++) {
            fputs(i ? ", {\"name\": " : "{\"name\": ", out);
            isw_json_string(out, ex->mech[i].name);
            fputs(", \"text\": ", out);
            isw_json_string(out, ex->mech[i].text);
            fputc('}', out);
        }
        fputs("], \"note\": ", out);
        isw_json_string(out, ex->note);
        fputs(", \"counterfactuals\": [", out);
        for (int i = 0; i < ex->ncf; i++) {
            const isw_counterfactual_t *c = &ex->cf[i];
            fputs(i ? ", {\"set\": " : "{\"set\": ", out);
            isw_json_string(out, c->set);
            fputs(", \"why\": ", out);
            isw_json_string(out, c->why);
            if (c->status != 0) {
                fputs(", \"error\": ", out);
                isw_json_string(out, c->error);
            } else {
                fprintf(out, ", \"outcome\": \"%s\", \"epochs\": %d, \"epoch_converged\": ",
                        isw_outcome_name(c->rec.outcome), c->rec.epochs);
                if (c->rec.epoch_converged >= 0)
                    fprintf(out, "%d", c->rec.epoch_converged);
                else
                    fputs("null", out);
                fputs(", \"loss_final\": ", out);
                json_number(out, c->rec.loss_final);
                fputs(", \"accuracy_final\": ", out);
                json_number(out, c->rec.accuracy_final);
                fputs(", \"lr_lambda_0\": ", out);
                json_number(out, c->rec.sharpness_initial > 0
                                     ? c->rec.lr_used * c->rec.sharpness_initial : NAN);
                fprintf(out, ", \"fixes\": %s", fixes(c) ? "true" : "false");
            }
            fputc('}', out);
        }
        fputs("]}\n", out);
        return;
    }
    fprintf(out, "initsweep explain: %s\n", spec_path);
    wrapped(out, "run", what);
    char line[400];
    snprintf(line, sizeof line, "%s after %d epochs: loss %.4g -> %.4g", isw_outcome_name(r->outcome),
             r->epochs, r->loss_initial, r->loss_final);
    if (isfinite(r->accuracy_final))
        add(line, sizeof line, ", accuracy %.3f", r->accuracy_final);
    if (isfinite(ex->c))
        add(line, sizeof line, "; lambda_0 %.4g, lr lambda_0 = %.3g", r->sharpness_initial, ex->c);
    wrapped(out, "outcome", line);
    for (int i = 0; i < ex->nmech; i++)
        wrapped(out, i ? "" : "mechanism", ex->mech[i].text);
    if (ex->note[0])
        wrapped(out, "verdict", ex->note);
    fprintf(out, "\ncounterfactuals (one change each)\n  %-30s %-10s %6s %9s %11s %8s %9s\n",
            "change", "outcome", "epochs", "converged", "loss_final", "accuracy", "lr*lam0");
    for (int i = 0; i < ex->ncf; i++) {
        const isw_counterfactual_t *c = &ex->cf[i];
        if (c->status != 0) {
            fprintf(out, "  %-30s not run: %s\n", c->set, c->error);
            continue;
        }
        char conv[16] = "-", acc[16] = "-", cc[16] = "-";
        if (c->rec.epoch_converged >= 0)
            snprintf(conv, sizeof conv, "%d", c->rec.epoch_converged);
        if (isfinite(c->rec.accuracy_final))
            snprintf(acc, sizeof acc, "%.3f", c->rec.accuracy_final);
        if (c->rec.sharpness_initial > 0)
            snprintf(cc, sizeof cc, "%.3g", c->rec.lr_used * c->rec.sharpness_initial);
        fprintf(out, "  %-30s %-10s %6d %9s %11.4g %8s %9s%s\n", c->set,
                isw_outcome_name(c->rec.outcome), c->rec.epochs, conv, c->rec.loss_final, acc,
                cc, fixes(c) && r->outcome != ISW_OUTCOME_CONVERGED ? "  fixes it" : "");
    }
}
