/* Validation: every field against its key-table row (isw_spec_check_fields),
 * then the rules between fields, one function each, with the rules about
 * data, models and inits asked of the modules that own them (data.c's
 * rules, mlp.c's output and loss facts).  Validation also resolves the
 * defaults that depend on other fields: data.classes, model.output and
 * model.loss from the data's task, and the default target. */
#include "spec_internal.h"

#include <math.h>
#include <string.h>

int isw_spec_is_classification(const isw_spec_t *spec)
{
    return isw_data_spec_classes(&spec->data) > 0;
}

/* "regression data (generator linear)" and the like, for messages. */
static void describe_data(char *buf, size_t size, const isw_spec_t *s)
{
    const isw_data_spec_t *d = &s->data;
    const char *task = isw_spec_is_classification(s) ? "classification" : "regression";
    if (d->kind == ISW_DATA_SYNTHETIC)
        snprintf(buf, size, "%s data (generator %s)", task, isw_generator_name(d->generator));
    else if (d->kind == ISW_DATA_CSV && !d->classes)
        snprintf(buf, size, "regression data (csv without data.classes)");
    else
        snprintf(buf, size, "%s data (kind %s)", task, isw_data_kind_name(d->kind));
}

/* The name names the results directory. */
static int rule_name(const isw_spec_t *s, const vctx_t *v)
{
    if (!s->name[0] || strchr(s->name, '/') || !strcmp(s->name, ".") || !strcmp(s->name, ".."))
        return isw_spec_verr(v, "name", "found \"%s\", expected a non-empty name without '/' "
                             "(it names the results directory)", s->name);
    return ISW_OK;
}

/* data.c's rules for the kind; then data.classes takes the data's default
 * (idx 10, xor 2, spirals and blobs 3) when it is 0. */
static int rule_data(isw_spec_t *s, const vctx_t *v)
{
    isw_data_spec_t *d = &s->data;
    isw_error_t e;
    const char *key = "data";
    if (isw_data_spec_check(d, &key, &e) != ISW_OK)
        return isw_error_set(v->err, ISW_EINVAL, v->file, isw_spec_kline(v->kl, key), "%s",
                             e.text);
    int k = isw_data_spec_classes(d);
    if (d->classes == 0 && k > 0) {
        d->classes = k;
        d->classes_default = 1;
    }
    return ISW_OK;
}

/* Output and loss default to the data's task; the output must suit the
 * classes, the loss the output (mlp.c's facts). */
static int rule_model(isw_spec_t *s, const vctx_t *v)
{
    isw_model_spec_t *m = &s->model;
    int cls = isw_spec_is_classification(s);
    if (!m->output_set)
        m->output = cls ? ISW_OUT_SOFTMAX : ISW_OUT_LINEAR;
    if (!m->loss_set)
        m->loss = cls ? ISW_LOSS_CROSS_ENTROPY : ISW_LOSS_MSE;
    char what[160];
    describe_data(what, sizeof what, s);
    int need = isw_out_min_classes(m->output);
    if (need > 0 && !(cls && s->data.classes >= need))
        return isw_spec_verr(v, "model.output", "%s needs classification data with at least %d "
                             "classes, but the spec has %s; use sigmoid or linear",
                             isw_out_name(m->output), need, what);
    if (!isw_mlp_loss_fits(m->loss, m->output))
        return isw_spec_verr(v, "model.loss", "%s needs a softmax or sigmoid output, found "
                             "model.output %s%s", isw_loss_name(m->loss), isw_out_name(m->output),
                             m->output_set ? "" : " (the default for regression)");
    return ISW_OK;
}

/* model.width and model.depth, when given, make model.hidden: depth copies
 * of width, the missing one from model.hidden (its first width, its
 * length; one layer when it is empty). */
static int rule_shape(isw_spec_t *s, const vctx_t *v)
{
    isw_model_spec_t *m = &s->model;
    if (m->width == 0 && m->depth == 0)
        return ISW_OK;
    int W = m->width > 0 ? m->width : m->nhidden > 0 ? m->hidden[0] : 0;
    int D = m->depth > 0 ? m->depth : m->nhidden > 0 ? m->nhidden : 1;
    if (W == 0)
        return isw_spec_verr(v, "model.depth", "found %d layers but no width: expected "
                             "model.width, or a model.hidden list to take it from", m->depth);
    m->nhidden = D;
    for (int l = 0; l < D; l++)
        m->hidden[l] = W;
    return ISW_OK;
}

/* The lr multipliers match the depth: a list has one per weight layer, a
 * train.lr_layer.K key names an existing layer. */
static int rule_lr_layer(const isw_spec_t *s, const vctx_t *v)
{
    const isw_train_spec_t *t = &s->train;
    int layers = isw_spec_layers(s);
    if (t->lr_layer_list > 0 && t->lr_layer_list != layers)
        return isw_spec_verr(v, "train.lr_layer",
                             "found %d multipliers, expected %d (one per weight layer: "
                             "model.hidden has %d hidden layers)", t->lr_layer_list, layers,
                             s->model.nhidden);
    if (t->lr_layer_keys > layers) {
        char key[64];
        snprintf(key, sizeof key, "%s%d", ISW_SPEC_LRK_PREFIX, t->lr_layer_keys - 1);
        return isw_spec_verr(v, key, "layer %d does not exist: the model has %d weight layers "
                             "(0..%d)", t->lr_layer_keys - 1, layers, layers - 1);
    }
    return ISW_OK;
}

/* init.sigma_w2 and sigma_b2 fix the family they draw from (init.h):
 * lecun_normal weights and normal biases, set here so records name them;
 * a different family given beside them is a contradiction. */
static int rule_init(isw_spec_t *s, const vctx_t *v)
{
    isw_init_spec_t *in = &s->init;
    if (!isnan(in->sigma_w2)) {
        if (in->dist_set && in->dist != ISW_DIST_LECUN_NORMAL)
            return isw_spec_verr(v, "init.dist", "found %s beside init.sigma_w2, which draws "
                                 "the weights N(0, sigma_w2 / fan_in): expected lecun_normal "
                                 "or no init.dist", isw_dist_name(in->dist));
        in->dist = ISW_DIST_LECUN_NORMAL;
    }
    if (!isnan(in->sigma_b2)) {
        if (in->bias_set && in->bias != ISW_BIAS_NORMAL)
            return isw_spec_verr(v, "init.bias", "found %s beside init.sigma_b2, which draws "
                                 "the biases N(0, sigma_b2): expected normal or no init.bias",
                                 isw_bias_init_name((isw_bias_init_t)in->bias));
        if (!s->model.bias && in->sigma_b2 > 0)
            return isw_spec_verr(v, "init.sigma_b2", "found %g, but model.bias is false (the "
                                 "layers have no biases): expected no init.sigma_b2 or "
                                 "model.bias: true", in->sigma_b2);
        in->bias = ISW_BIAS_NORMAL;
    }
    /* The flags say what was given since the last validation (a grid
     * point's axis values, a file's keys); validated specs compare equal
     * with memcmp whatever they were loaded from. */
    in->dist_set = in->bias_set = 0;
    return ISW_OK;
}

/* train.epoch_steps counts draws with replacement: without them an epoch
 * is one pass, and with full batch there are no draws. */
static int rule_steps(const isw_spec_t *s, const vctx_t *v)
{
    const isw_train_spec_t *t = &s->train;
    if (t->epoch_steps > 0 && !t->replacement)
        return isw_spec_verr(v, "train.epoch_steps", "found %d, but train.replacement is false "
                             "(an epoch is one pass over the shuffled data): expected 0, or "
                             "train.replacement: true", t->epoch_steps);
    if (t->replacement && t->batch <= 0)
        return isw_spec_verr(v, "train.replacement", "needs mini-batches, found train.batch "
                             "%ld (full batch): expected a train.batch > 0", t->batch);
    return ISW_OK;
}

/* A pack holds at most ISW_MAX_LANES networks (mlp.h). */
static int rule_pack(const isw_spec_t *s, const vctx_t *v)
{
    if (s->train.pack > ISW_MAX_LANES)
        return isw_spec_verr(v, "train.pack", "found %d, expected 0..%d", s->train.pack,
                             ISW_MAX_LANES);
    return ISW_OK;
}

/* At most one target, accuracy only for classification; with none, the
 * default target of the data's task. */
static int rule_target(isw_spec_t *s, const vctx_t *v)
{
    isw_criteria_spec_t *c = &s->criteria;
    if (c->target_default) {
        c->target_accuracy = c->target_loss = c->target_loss_ratio = NAN;
        c->target_default = 0;
    }
    const char *given[3];
    int n = 0;
    if (!isnan(c->target_accuracy))
        given[n++] = "criteria.target_accuracy";
    if (!isnan(c->target_loss))
        given[n++] = "criteria.target_loss";
    if (!isnan(c->target_loss_ratio))
        given[n++] = "criteria.target_loss_ratio";
    if (n > 1) {
        int l0 = isw_spec_kline(v->kl, given[0]);
        char first[80] = "";
        if (l0 > 0)
            snprintf(first, sizeof first, " (line %d)", l0);
        return isw_spec_verr(v, given[1], "at most one target may be given, found %s%s and %s",
                             given[0], first, given[1]);
    }
    int cls = isw_spec_is_classification(s);
    if (!isnan(c->target_accuracy) && !cls) {
        char what[160];
        describe_data(what, sizeof what, s);
        return isw_spec_verr(v, "criteria.target_accuracy", "needs classification data, but "
                             "the spec has %s; use target_loss or target_loss_ratio", what);
    }
    if (n == 0) {
        if (cls)
            c->target_accuracy = 0.9;
        else
            c->target_loss_ratio = 0.01;
        c->target_default = 1;
    }
    return ISW_OK;
}

int isw_spec_validate_at(isw_spec_t *s, const char *file, const keylines_t *kl,
                         isw_error_t *err)
{
    vctx_t v = {file ? file : "", kl, err};
    isw_data_spec_t *d = &s->data;
    if (d->classes_default) {
        /* re-resolved below: a changed kind or generator gets its own default */
        d->classes = 0;
        d->classes_default = 0;
    }
    int st;
    if ((st = rule_name(s, &v)) || (st = isw_spec_check_fields(s, "data", &v)) ||
        (st = rule_data(s, &v)) || (st = isw_spec_check_fields(s, "model", &v)) ||
        (st = rule_model(s, &v)) || (st = rule_shape(s, &v)) || (st = isw_spec_check_fields(s, "init", &v)) || (st = rule_init(s, &v)) ||
        (st = isw_spec_check_fields(s, "train", &v)) || (st = rule_lr_layer(s, &v)) ||
        (st = rule_pack(s, &v)) || (st = rule_steps(s, &v)) ||
        (st = rule_target(s, &v)) || (st = isw_spec_check_fields(s, "criteria", &v)))
        return st;
    return ISW_OK;
}

int isw_spec_validate(isw_spec_t *spec, const char *file, isw_error_t *err)
{
    return isw_spec_validate_at(spec, file, NULL, err);
}
