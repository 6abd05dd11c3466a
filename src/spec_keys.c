/* The key table: every settable key is one row (dotted key, type, field,
 * range or allowed names, maximum, default, help text), so the loader,
 * isw_spec_set, the sweep axes, validation, isw_spec_get, isw_spec_write
 * and the key help all read the same facts.  Enum names come from the
 * module that owns the concept (data.h, mlp.h, init.h). */
#include "spec_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "initsweep/hessian.h"
#include "initsweep/train.h"

/* Enum fields are written through int pointers by the table-driven setter. */
_Static_assert(sizeof(isw_act_t) == sizeof(int), "enum size");
_Static_assert(sizeof(isw_dist_t) == sizeof(int), "enum size");

/* ---- names, from the modules that own them -------------------------------- */

static const char *kind_name(int v) { return isw_data_kind_name((isw_data_kind_t)v); }
static const char *gen_name(int v) { return isw_generator_name((isw_generator_t)v); }
static const char *act_name(int v) { return isw_act_name((isw_act_t)v); }
static const char *out_name(int v) { return isw_out_name((isw_out_t)v); }
static const char *loss_name(int v) { return isw_loss_name((isw_loss_t)v); }
static const char *param_name(int v) { return isw_param_name((isw_param_t)v); }
static const char *dist_name(int v) { return isw_dist_name((isw_dist_t)v); }
static const char *prec_name(int v) { return isw_prec_name((isw_prec_t)v); }
static const char *sharp_name(int v) { return isw_sharp_method_name((isw_sharp_method_t)v); }
static const char *lr_unit_name(int v) { return isw_lr_unit_name((isw_lr_unit_t)v); }
static const char *rule_name(int v) { return isw_rule_name((isw_rule_t)v); }
static const char *ibias_name(int v) { return isw_bias_init_name((isw_bias_init_t)v); }
static const char *last_name(int v) { return isw_last_dist_name(v); }

#define KINDS {ISW_NDATA_KINDS, kind_name}
#define GENS {ISW_NGENERATORS, gen_name}
#define ACTS {ISW_NACTS, act_name}
#define OUTS {ISW_NOUTS, out_name}
#define LOSSES {ISW_NLOSSES, loss_name}
#define PARAMS {ISW_NPARAMETERIZATIONS, param_name}
#define DISTS {ISW_NDISTS, dist_name}
#define PRECS {ISW_NPRECS, prec_name}
#define IBIAS {ISW_NBIAS_INITS, ibias_name}
#define LASTS {ISW_NDISTS + 1, last_name}
#define SHARPS {ISW_NSHARP_METHODS, sharp_name}
#define LRUNITS {ISW_NLR_UNITS, lr_unit_name}
#define RULES {ISW_NRULES, rule_name}
#define NONE {0, NULL}

#define FLD(m) offsetof(isw_spec_t, m), sizeof(((isw_spec_t *)0)->m)

/* Table order is the order isw_spec_write and the key help use. */
const keydef_t isw_spec_keys[] = {
    {"name", K_STR, FLD(name), R_ANY, 0, NONE, 0, "spec",
     "names the results directory (default: the file name)"},
    {"seed", K_U64, FLD(seed), R_ANY, 0, NONE, 0, "0", "base seed of every run"},
    {"data.kind", K_ENUM, FLD(data.kind), R_ANY, 0, KINDS, 0, "synthetic", "data source"},
    {"data.images", K_STR, FLD(data.images), R_ANY, 0, NONE, 0, NULL, "idx: image file"},
    {"data.labels", K_STR, FLD(data.labels), R_ANY, 0, NONE, 0, NULL, "idx: label file"},
    {"data.path", K_STR, FLD(data.path), R_ANY, 0, NONE, 0, NULL, "csv: data file"},
    {"data.header", K_BOOL, FLD(data.header), R_ANY, 0, NONE, 0, "true",
     "csv: the first line names the columns"},
    {"data.target", K_STRLIST, FLD(data.target), R_ANY, 0, NONE, 0, NULL,
     "csv: target column(s)"},
    {"data.generator", K_ENUM, FLD(data.generator), R_ANY, 0, GENS, 0, "xor",
     "synthetic: generator"},
    {"data.samples", K_LONG, FLD(data.samples), R_GE1, 0, NONE, 0, "1000",
     "synthetic: samples"},
    {"data.inputs", K_INT, FLD(data.inputs), R_GE1, 0, NONE, 0, "2",
     "synthetic: input dimensions"},
    {"data.targets", K_INT, FLD(data.targets), R_GE1, 0, NONE, 0, "1",
     "synthetic: regression outputs"},
    {"data.noise", K_DBL, FLD(data.noise), R_NONNEG, 0, NONE, 0, "0.1",
     "synthetic: noise standard deviation"},
    {"data.target_scale", K_DBL, FLD(data.target_scale), R_NONNEG, 0, NONE, 0, "1",
     "synthetic: multiplies regression targets"},
    {"data.teacher_hidden", K_INT, FLD(data.teacher_hidden), R_GE1, 0, NONE, 0, "16",
     "teacher: hidden width"},
    {"data.classes", K_INT, FLD(data.classes), R_NONNEG, 0, NONE, F_CLASSES, "0",
     "0 regression, else classes (0: the data's default)"},
    {"data.limit", K_LONG, FLD(data.limit), R_NONNEG, 0, NONE, 0, "0",
     "first N samples, 0 = all"},
    {"data.normalize", K_DBL, FLD(data.normalize), R_POS, 0, NONE, 0, "1",
     "inputs are divided by it"},
    {"data.seed", K_U64, FLD(data.seed), R_ANY, 0, NONE, F_DATASEED, NULL,
     "seed of the data (default: the base seed)"},
    {"model.hidden", K_INTLIST, FLD(model.hidden), R_GE1, ISW_MAX_WIDTH, NONE, 0, "[32]",
     "hidden widths, input side first"},
    {"model.activation", K_ENUM, FLD(model.activation), R_ANY, 0, ACTS, 0, "relu",
     "hidden activation"},
    {"model.output", K_ENUM, FLD(model.output), R_ANY, 0, OUTS, F_OUTPUT, "softmax",
     "output (default: softmax for classification, linear for regression)"},
    {"model.loss", K_ENUM, FLD(model.loss), R_ANY, 0, LOSSES, F_LOSS, "cross_entropy",
     "loss (default: cross_entropy for classification, mse for regression)"},
    {"model.bias", K_BOOL, FLD(model.bias), R_ANY, 0, NONE, 0, "true", "layers have biases"},
    {"model.parameterization", K_ENUM, FLD(model.parameterization), R_ANY, 0, PARAMS, 0,
     "standard", "pre-activation multipliers"},
    {"model.leaky_slope", K_DBL, FLD(model.leaky_slope), R_NONNEG, 0, NONE, 0, "0.01",
     "leaky_relu: slope below 0"},
    {"model.gain", K_DBL, FLD(model.gain), R_POS, 0, NONE, 0, "1",
     "hidden units compute activation(gain * z) (z without the bias: biases add after)"},
    {"model.width", K_INT, FLD(model.width), R_NONNEG, ISW_MAX_WIDTH, NONE, 0, "0",
     "every hidden layer's width (0: model.hidden's)"},
    {"model.depth", K_INT, FLD(model.depth), R_NONNEG, ISW_MAX_HIDDEN, NONE, 0, "0",
     "hidden layers of model.width (0: model.hidden's count)"},
    {"init.dist", K_ENUM, FLD(init.dist), R_ANY, 0, DISTS, F_DISTSET, "he_normal",
     "weight distribution"},
    {"init.scale", K_DBL, FLD(init.scale), R_NONNEG, 0, NONE, 0, "1",
     "multiplies every weight"},
    {"init.mean", K_DBL, FLD(init.mean), R_ANY, 0, NONE, 0, "0", "added to every weight"},
    {"init.bias", K_ENUM, FLD(init.bias), R_ANY, 0, IBIAS, F_BIASSET, "zero",
     "biases: drawn like the layer's weights, zero, or N(0, bias_scale^2)"},
    {"init.bias_scale", K_DBL, FLD(init.bias_scale), R_NONNEG, 0, NONE, 0, "1",
     "init.bias: normal: the biases' standard deviation sigma_b"},
    {"init.sigma_w2", K_DBL, FLD(init.sigma_w2), R_NONNEG, 0, NONE, F_NULL, "null",
     "weights N(0, sigma_w2 / fan_in) in every layer (lecun_normal x sqrt(sigma_w2)); "
     "null: init.dist decides"},
    {"init.sigma_b2", K_DBL, FLD(init.sigma_b2), R_NONNEG, 0, NONE, F_NULL, "null",
     "biases N(0, sigma_b2) (init.bias normal); null: init.bias decides"},
    {"init.last_dist", K_ENUM, FLD(init.last_dist), R_ANY, 0, LASTS, 0, "same",
     "the output layer's weight distribution (same: init.dist)"},
    {"init.last_scale", K_DBL, FLD(init.last_scale), R_NONNEG, 0, NONE, 0, "1",
     "extra gain of the output layer's weights (0: a zero last layer)"},
    {"train.lr", K_DBL, FLD(train.lr), R_POS, 0, NONE, 0, "0.1", "learning rate"},
    {"train.lr_layer", K_DBLLIST, FLD(train.lr_layer), R_NONNEG, 0, NONE, 0, NULL,
     "lr multiplier per weight layer (default 1 each)"},
    {"train.lr_layer.K", K_LRK, FLD(train.lr_layer), R_NONNEG, 0, NONE, 0, NULL,
     "lr multiplier of weight layer K (default 1)"},
    {"train.momentum", K_DBL, FLD(train.momentum), R_MOMENTUM, 0, NONE, 0, "0",
     "heavy-ball momentum"},
    {"train.precision", K_ENUM, FLD(train.precision), R_ANY, 0, PRECS, 0, "float",
     "arithmetic of training"},
    {"train.epochs", K_INT, FLD(train.epochs), R_NONNEG, ISW_MAX_EPOCHS, NONE, 0, "30",
     "epoch budget"},
    {"train.batch", K_LONG, FLD(train.batch), R_NONNEG, 0, NONE, 0, "32",
     "batch size, 0 = full batch"},
    {"train.shuffle", K_BOOL, FLD(train.shuffle), R_ANY, 0, NONE, 0, "true",
     "shuffle every epoch"},
    {"train.replacement", K_BOOL, FLD(train.replacement), R_ANY, 0, NONE, 0, "false",
     "each step draws its batch uniformly with replacement (one sequence per seed)"},
    {"train.epoch_steps", K_INT, FLD(train.epoch_steps), R_NONNEG, 1000000000, NONE, 0, "0",
     "with train.replacement: steps between evaluations (0: n / batch; 1: the full-data loss "
     "at every step)"},
    {"train.sharpness", K_BOOL, FLD(train.sharpness), R_ANY, 0, NONE, 0, "false",
     "compute sharpness_initial"},
    {"train.sharpness_iters", K_INT, FLD(train.sharpness_iters), R_GE1, 1000, NONE, 0, "20",
     "power iterations or Lanczos steps of sharpness"},
    {"train.sharpness_method", K_ENUM, FLD(train.sharpness_method), R_ANY, 0, SHARPS, 0,
     "power", "top Hessian eigenvalue by power iteration or Lanczos"},
    {"train.sharpness_every", K_INT, FLD(train.sharpness_every), R_NONNEG, ISW_MAX_EPOCHS, NONE,
     0, "0", "probe the sharpness every K evaluations (steps with full batch), 0 never"},
    {"train.batch_sharpness", K_INT, FLD(train.batch_sharpness), R_NONNEG, 4096, NONE, 0, "0",
     "mini-batches averaged into the batch sharpness at each probe (SGD), 0 none"},
    {"train.early_steps", K_INT, FLD(train.early_steps), R_NONNEG, ISW_MAX_EPOCHS, NONE, 0, "10",
     "evaluations of loss_early_ratio and sharpness_early_ratio"},
    {"train.lr_unit", K_ENUM, FLD(train.lr_unit), R_ANY, 0, LRUNITS, 0, "absolute",
     "train.lr as given, or in units of 1/sharpness_initial (c = lr * lambda_0)"},
    {"train.eval_samples", K_LONG, FLD(train.eval_samples), R_NONNEG, 0, NONE, 0, "0",
     "evaluation samples, 0 = all"},
    {"train.eval_gradient", K_BOOL, FLD(train.eval_gradient), R_ANY, 0, NONE, 0, "false",
     "full-data gradient at every evaluation, not only at initialisation"},
    {"train.signal", K_BOOL, FLD(train.signal), R_ANY, 0, NONE, 0, "false",
     "signal propagation at init in the record: q and c of the last hidden layer, the "
     "measured per-layer gradient factor chi_1, and the mean-field q*, chi_1, c*, xi_c"},
    {"train.pack", K_INT, FLD(train.pack), R_NONNEG, 0, NONE, 0, "0",
     "networks trained together as one pack: 0 = chosen from the shapes, 1 = one at a time"},
    {"criteria.target_accuracy", K_DBL, FLD(criteria.target_accuracy), R_UNIT, 0, NONE,
     F_TARGET, "null", "target (default: accuracy 0.9 for classification)"},
    {"criteria.target_loss", K_DBL, FLD(criteria.target_loss), R_NONNEG, 0, NONE, F_TARGET,
     "null", "target: absolute loss"},
    {"criteria.target_loss_ratio", K_DBL, FLD(criteria.target_loss_ratio), R_POS, 0, NONE,
     F_TARGET, "null", "target (default: loss ratio 0.01 for regression)"},
    {"criteria.stop_on_target", K_BOOL, FLD(criteria.stop_on_target), R_ANY, 0, NONE, 0,
     "true", "stop at the target"},
    {"criteria.patience", K_INT, FLD(criteria.patience), R_GE1, 0, NONE, 0, "5",
     "epochs of the flatness window"},
    {"criteria.min_improvement", K_DBL, FLD(criteria.min_improvement), R_NONNEG, 0, NONE, 0,
     "1e-3", "relative improvement that is not flat"},
    {"criteria.stop_on_flat", K_BOOL, FLD(criteria.stop_on_flat), R_ANY, 0, NONE, 0, "true",
     "stop when flat for patience epochs"},
    {"criteria.diverge_ratio", K_DBL, FLD(criteria.diverge_ratio), R_GT1, 0, NONE, 0, "1e10",
     "loss / initial loss that is divergence"},
    {"criteria.diverge_end_ratio", K_DBL, FLD(criteria.diverge_end_ratio), R_GT1, 0, NONE, 0,
     "10", "final / initial loss that is divergence"},
    {"criteria.dead_fraction", K_DBL, FLD(criteria.dead_fraction), R_FRAC, 0, NONE, 0, "0.5",
     "dead units that label a run dead"},
    {"criteria.saturated_fraction", K_DBL, FLD(criteria.saturated_fraction), R_FRAC, 0, NONE,
     0, "0.5", "saturated units that label a run saturated"},
    {"criteria.saturation_derivative", K_DBL, FLD(criteria.saturation_derivative), R_POS, 0,
     NONE, 0, "1e-3", "derivative below which a unit is saturated"},
    {"criteria.rule", K_ENUM, FLD(criteria.rule), R_ANY, 0, RULES, 0, "target",
     "converged: at the target at the end, or bounded (mean loss/loss_0 of the last window < 1)"},
    {"criteria.bounded_window", K_INT, FLD(criteria.bounded_window), R_GE1, 0, NONE, 0, "20",
     "evaluations the bounded rule averages"},
};
const size_t isw_spec_nkeys = sizeof isw_spec_keys / sizeof isw_spec_keys[0];
_Static_assert(sizeof isw_spec_keys / sizeof isw_spec_keys[0] <= ISW_SPEC_MAX_KEYS,
               "ISW_SPEC_MAX_KEYS");

const char *const isw_spec_sections[] = {"data", "model", "init", "train", "criteria", NULL};

const keydef_t *isw_spec_key_find(const char *key, int *layer)
{
    *layer = -1;
    size_t np = sizeof ISW_SPEC_LRK_PREFIX - 1;
    if (strncmp(key, ISW_SPEC_LRK_PREFIX, np) == 0) {
        const char *p = key + np;
        /* one spelling per layer: lr_layer.00 is not a second lr_layer.0 */
        if (!*p || strlen(p) > 6 || (p[0] == '0' && p[1]))
            return NULL;
        for (const char *q = p; *q; q++)
            if (!isdigit((unsigned char)*q))
                return NULL;
        *layer = atoi(p);
        for (size_t i = 0; i < isw_spec_nkeys; i++)
            if (isw_spec_keys[i].type == K_LRK)
                return &isw_spec_keys[i];
        return NULL;
    }
    for (size_t i = 0; i < isw_spec_nkeys; i++)
        if (isw_spec_keys[i].type != K_LRK && strcmp(isw_spec_keys[i].key, key) == 0)
            return &isw_spec_keys[i];
    return NULL;
}

int isw_spec_key_numeric(const keydef_t *d)
{
    return d->type == K_INT || d->type == K_LONG || d->type == K_U64 || d->type == K_DBL ||
           d->type == K_LRK;
}

int isw_spec_enum_find(const keydef_t *d, const char *name)
{
    for (int v = 0; v < d->names.n; v++)
        if (strcmp(d->names.name(v), name) == 0)
            return v;
    return -1;
}

int isw_spec_section_keys(const char *section, const char **out, int max)
{
    int n = 0;
    size_t sl = strlen(section);
    for (size_t i = 0; i < isw_spec_nkeys && n < max - 1; i++)
        if (strncmp(isw_spec_keys[i].key, section, sl) == 0 && isw_spec_keys[i].key[sl] == '.')
            out[n++] = isw_spec_keys[i].key + sl + 1;
    out[n] = NULL;
    return n;
}

/* ---- ranges and their texts ----------------------------------------------- */

int isw_spec_range_ok(krange_t r, double x)
{
    switch (r) {
    case R_ANY: return 1;
    case R_POS: return x > 0;
    case R_NONNEG: return x >= 0;
    case R_GE1: return x >= 1;
    case R_GT1: return x > 1;
    case R_UNIT: return x > 0 && x <= 1;
    case R_MOMENTUM: return x >= 0 && x < 1;
    case R_FRAC: return x >= 0 && x <= 1;
    case R_OPEN01: return x > 0 && x < 1;
    }
    return 0;
}

static const char *range_text(krange_t r, int integer)
{
    if (integer) {
        switch (r) {
        case R_GE1: return "an integer >= 1";
        case R_NONNEG: return "an integer >= 0";
        default: return "an integer";
        }
    }
    switch (r) {
    case R_ANY: return "a number";
    case R_POS: return "a positive number";
    case R_NONNEG: return "a number >= 0";
    case R_GE1: return "a number >= 1";
    case R_GT1: return "a number > 1";
    case R_UNIT: return "a number in (0, 1]";
    case R_MOMENTUM: return "a number in [0, 1)";
    case R_FRAC: return "a number in [0, 1]";
    case R_OPEN01: return "a number in (0, 1)";
    }
    return "a number";
}

/* Smallest integer of an integer range (R_GE1, R_NONNEG). */
static long range_min(krange_t r) { return r == R_GE1 ? 1 : 0; }

/* The names of an enum key, ", "-separated. */
static void enum_list(char *buf, size_t size, const keydef_t *d)
{
    isw_sb_t b;
    isw_sb_fixed(&b, buf, size);
    for (int v = 0; v < d->names.n; v++)
        isw_sb_printf(&b, "%s%s", v ? ", " : "", d->names.name(v));
}

void isw_spec_expect_text(char *buf, size_t size, const keydef_t *d)
{
    switch (d->type) {
    case K_STR:
        snprintf(buf, size, "a string of at most %zu characters", d->size - 1);
        break;
    case K_BOOL:
        snprintf(buf, size, "true or false");
        break;
    case K_INT:
    case K_LONG:
        snprintf(buf, size, "%s", range_text(d->range, 1));
        break;
    case K_U64:
        snprintf(buf, size, "a non-negative integer below 2^64");
        break;
    case K_DBL:
    case K_LRK:
        snprintf(buf, size, "%s%s", range_text(d->range, 0),
                 (d->flags & (F_TARGET | F_NULL)) ? " (or null to unset)" : "");
        break;
    case K_ENUM: {
        char list[400];
        enum_list(list, sizeof list, d);
        snprintf(buf, size, "one of %s%s", list,
                 (d->flags & (F_OUTPUT | F_LOSS)) ? " (or auto)" : "");
        break;
    }
    case K_INTLIST:
        snprintf(buf, size, "a list of at most %d integers >= 1, e.g. [32, 32]", ISW_MAX_HIDDEN);
        break;
    case K_DBLLIST:
        snprintf(buf, size, "a list of numbers >= 0, one per weight layer, e.g. [1, 0.5]");
        break;
    case K_STRLIST:
        snprintf(buf, size, "a column name or 0-based index, or a list of at most %d of them",
                 ISW_MAX_TARGETS);
        break;
    }
}

/* ---- values as text -------------------------------------------------------- */

/* Shortest %g text that reads back as exactly x. */
static void fmt_double(char *buf, size_t size, double x)
{
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

void isw_spec_put_double(isw_sb_t *b, double x)
{
    char num[64];
    fmt_double(num, sizeof num, x);
    isw_sb_puts(b, num);
}

static void put_list(isw_sb_t *b, const isw_spec_t *s, const keydef_t *d, int yaml)
{
    isw_sb_putn(b, "[", 1);
    if (d->type == K_INTLIST) {
        for (int l = 0; l < s->model.nhidden; l++)
            isw_sb_printf(b, "%s%d", l ? ", " : "", s->model.hidden[l]);
    } else if (d->type == K_DBLLIST) {
        int n = yaml ? s->train.lr_layer_list : isw_spec_layers(s);
        for (int l = 0; l < n && l < ISW_MAX_LAYERS; l++) {
            isw_sb_puts(b, l ? ", " : "");
            isw_spec_put_double(b, s->train.lr_layer[l]);
        }
    } else {
        for (int i = 0; i < s->data.ntargets && i < ISW_MAX_TARGETS; i++) {
            isw_sb_puts(b, i ? ", " : "");
            isw_yaml_put_scalar(b, s->data.target[i], strlen(s->data.target[i]));
        }
    }
    isw_sb_putn(b, "]", 1);
}

void isw_spec_value_text(isw_sb_t *b, const isw_spec_t *s, const keydef_t *d, int layer,
                         int yaml)
{
    const char *field = (const char *)s + d->off;
    switch (d->type) {
    case K_STR:
        if (yaml)
            isw_yaml_put_scalar(b, field, strlen(field));
        else
            isw_sb_puts(b, field);
        break;
    case K_BOOL:
        isw_sb_puts(b, *(const int *)field ? "true" : "false");
        break;
    case K_INT:
        isw_sb_printf(b, "%d", *(const int *)field);
        break;
    case K_LONG:
        isw_sb_printf(b, "%ld", *(const long *)field);
        break;
    case K_U64:
        isw_sb_printf(b, "%" PRIu64, *(const uint64_t *)field);
        break;
    case K_DBL:
        if (!isnan(*(const double *)field))
            isw_spec_put_double(b, *(const double *)field);
        break;
    case K_LRK:
        isw_spec_put_double(b, s->train.lr_layer[layer]);
        break;
    case K_ENUM: {
        int v = *(const int *)field;
        isw_sb_puts(b, v >= 0 && v < d->names.n ? d->names.name(v) : "?");
        break;
    }
    case K_STRLIST:
        if (!yaml && s->data.ntargets == 1) {
            isw_sb_puts(b, s->data.target[0]);
            break;
        }
        /* fall through */
    case K_INTLIST:
    case K_DBLLIST:
        put_list(b, s, d, yaml);
        break;
    }
}

int isw_spec_get(const isw_spec_t *spec, const char *key, char *buf, size_t size)
{
    int layer;
    const keydef_t *d = isw_spec_key_find(key, &layer);
    if (!d || (d->type == K_LRK && layer >= ISW_MAX_LAYERS) || !size)
        return ISW_EINVAL;
    isw_sb_t b = {0};
    isw_sb_puts(&b, "");
    isw_spec_value_text(&b, spec, d, layer, 0);
    int st = b.oom ? ISW_ENOMEM : b.len < size ? ISW_OK : ISW_EINVAL;
    snprintf(buf, size, "%s", b.s ? b.s : "");
    free(b.s);
    return st;
}

/* ---- the field validator ---------------------------------------------------- */

/* An integer field against its row: range, then the maximum. */
static int check_integer(const keydef_t *d, long v, const vctx_t *c)
{
    if (isw_spec_range_ok(d->range, (double)v) && (d->max == 0 || v <= d->max))
        return ISW_OK;
    if (d->max)
        return isw_spec_verr(c, d->key, "found %ld, expected an integer %ld..%ld", v,
                             range_min(d->range), d->max);
    return isw_spec_verr(c, d->key, "found %ld, expected %s", v, range_text(d->range, 1));
}

static int check_lists(const isw_spec_t *s, const keydef_t *d, const vctx_t *c)
{
    if (d->type == K_INTLIST) {
        const isw_model_spec_t *m = &s->model;
        if (m->nhidden < 0 || m->nhidden > ISW_MAX_HIDDEN)
            return isw_spec_verr(c, d->key, "found %d layers, expected at most %d", m->nhidden,
                                 ISW_MAX_HIDDEN);
        for (int l = 0; l < m->nhidden; l++)
            if (m->hidden[l] < 1 || m->hidden[l] > d->max)
                return isw_spec_verr(c, d->key, "found width %d in layer %d, expected widths "
                                     "1..%ld", m->hidden[l], l, d->max);
    } else if (d->type == K_DBLLIST) {
        const isw_train_spec_t *t = &s->train;
        if (t->lr_layer_list < 0 || t->lr_layer_list > ISW_MAX_LAYERS ||
            t->lr_layer_keys < 0 || t->lr_layer_keys > ISW_MAX_LAYERS)
            return isw_spec_verr(c, d->key, "inconsistent multiplier counts %d, %d",
                                 t->lr_layer_list, t->lr_layer_keys);
        for (int l = 0; l < ISW_MAX_LAYERS; l++)
            if (!(isfinite(t->lr_layer[l]) && isw_spec_range_ok(d->range, t->lr_layer[l])))
                return isw_spec_verr(c, d->key, "found %g for layer %d, expected %s",
                                     t->lr_layer[l], l, range_text(d->range, 0));
    } else if (d->type == K_STRLIST) {
        if (s->data.ntargets < 0 || s->data.ntargets > ISW_MAX_TARGETS)
            return isw_spec_verr(c, d->key, "found %d targets, expected at most %d",
                                 s->data.ntargets, ISW_MAX_TARGETS);
    }
    return ISW_OK;
}

/* One field against its row. */
static int check_field(const isw_spec_t *s, const keydef_t *d, const vctx_t *c)
{
    const char *field = (const char *)s + d->off;
    switch (d->type) {
    case K_INT:
        return check_integer(d, *(const int *)field, c);
    case K_LONG:
        return check_integer(d, *(const long *)field, c);
    case K_DBL: {
        double x = *(const double *)field;
        if ((d->flags & (F_TARGET | F_NULL)) && isnan(x))
            return ISW_OK;
        if (isfinite(x) && isw_spec_range_ok(d->range, x))
            return ISW_OK;
        return isw_spec_verr(c, d->key, "found %g, expected %s", x, range_text(d->range, 0));
    }
    case K_ENUM: {
        int v = *(const int *)field;
        if (v >= 0 && v < d->names.n)
            return ISW_OK;
        char list[400];
        enum_list(list, sizeof list, d);
        return isw_spec_verr(c, d->key, "found %d, expected one of %s", v, list);
    }
    case K_INTLIST:
    case K_DBLLIST:
    case K_STRLIST:
        return check_lists(s, d, c);
    case K_STR:
    case K_BOOL:
    case K_U64:
    case K_LRK:   /* its entries are train.lr_layer's */
        break;
    }
    return ISW_OK;
}

int isw_spec_check_fields(const isw_spec_t *s, const char *section, const vctx_t *v)
{
    size_t sl = strlen(section);
    for (size_t i = 0; i < isw_spec_nkeys; i++) {
        const keydef_t *d = &isw_spec_keys[i];
        const char *dot = strchr(d->key, '.');
        int in = sl ? strncmp(d->key, section, sl) == 0 && d->key[sl] == '.' : !dot;
        int st = in ? check_field(s, d, v) : ISW_OK;
        if (st)
            return st;
    }
    return ISW_OK;
}

/* ---- the key help ------------------------------------------------------------ */

static const char *type_name(ktype_t t)
{
    switch (t) {
    case K_STR: return "string";
    case K_BOOL: return "bool";
    case K_INT:
    case K_LONG:
    case K_U64: return "integer";
    case K_DBL:
    case K_LRK: return "number";
    case K_ENUM: return "name";
    case K_INTLIST:
    case K_DBLLIST: return "list";
    case K_STRLIST: return "names";
    }
    return "?";
}

size_t isw_spec_key_count(void)
{
    return isw_spec_nkeys;
}

void isw_spec_key_describe(size_t i, isw_key_text_t *t)
{
    const keydef_t *d = &isw_spec_keys[i];
    t->key = d->key;
    t->type = type_name(d->type);
    t->def = d->def ? d->def : "-";
    t->help = d->help;
    isw_spec_expect_text(t->expect, sizeof t->expect, d);
    if (d->max && (d->type == K_INT || d->type == K_LONG))
        snprintf(t->expect, sizeof t->expect, "an integer %ld..%ld", range_min(d->range), d->max);
    else if (d->max && d->type == K_INTLIST)
        snprintf(t->expect, sizeof t->expect, "a list of at most %d widths 1..%ld",
                 ISW_MAX_HIDDEN, d->max);
}

void isw_spec_keys_help(FILE *out)
{
    int wk = 3, wt = 4, wd = 7;
    isw_key_text_t t;
    for (size_t i = 0; i < isw_spec_nkeys; i++) {
        isw_spec_key_describe(i, &t);
        int k = (int)strlen(t.key), ty = (int)strlen(t.type), df = (int)strlen(t.def);
        wk = k > wk ? k : wk;
        wt = ty > wt ? ty : wt;
        wd = df > wd ? df : wd;
    }
    fprintf(out, "%-*s  %-*s  %-*s  %s\n", wk, "key", wt, "type", wd, "default",
            "range or names: meaning");
    for (size_t i = 0; i < isw_spec_nkeys; i++) {
        isw_spec_key_describe(i, &t);
        fprintf(out, "%-*s  %-*s  %-*s  %s: %s\n", wk, t.key, wt, t.type, wd, t.def, t.expect,
                t.help);
    }
}
