/* The multilayer perceptron: layout, allocation and the public entry points,
 * which dispatch on net->prec to the kernels of mlp_kernels.h (written once,
 * instantiated for float and double below).  The only file that calls BLAS. */
#include "initsweep/mlp.h"
#include "initsweep/vmath.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the concepts: names and facts, one row per enum value -------------- */

static const struct {
    const char *name;
    int can_die, saturates, kinked;      /* see isw_act_can_die ... in mlp.h */
} act_table[ISW_NACTS] = {
    [ISW_ACT_SIGMOID] = {"sigmoid", 0, 1, 0},
    [ISW_ACT_TANH] = {"tanh", 0, 1, 0},
    [ISW_ACT_RELU] = {"relu", 1, 0, 1},
    [ISW_ACT_LEAKY_RELU] = {"leaky_relu", 0, 0, 1},
    [ISW_ACT_LINEAR] = {"linear", 0, 0, 0},
};

static const struct {
    const char *name;
    int probabilities, min_classes;
} out_table[ISW_NOUTS] = {
    [ISW_OUT_SIGMOID] = {"sigmoid", 1, 0},
    [ISW_OUT_SOFTMAX] = {"softmax", 1, 2},
    [ISW_OUT_LINEAR] = {"linear", 0, 0},
};

static const struct {
    const char *name;
    int needs_probabilities;
} loss_table[ISW_NLOSSES] = {
    [ISW_LOSS_MSE] = {"mse", 0},
    [ISW_LOSS_CROSS_ENTROPY] = {"cross_entropy", 1},
};

static const char *const param_names[ISW_NPARAMETERIZATIONS] = {
    [ISW_PARAM_STANDARD] = "standard", [ISW_PARAM_MEAN_FIELD] = "mean_field"};
static const char *const prec_names[ISW_NPRECS] = {
    [ISW_PREC_FLOAT] = "float", [ISW_PREC_DOUBLE] = "double"};

#define IN_ENUM(v, n) ((unsigned)(v) < (unsigned)(n))

const char *isw_act_name(isw_act_t a) { return IN_ENUM(a, ISW_NACTS) ? act_table[a].name : "?"; }
const char *isw_out_name(isw_out_t o) { return IN_ENUM(o, ISW_NOUTS) ? out_table[o].name : "?"; }
const char *isw_loss_name(isw_loss_t l)
{
    return IN_ENUM(l, ISW_NLOSSES) ? loss_table[l].name : "?";
}
const char *isw_param_name(isw_param_t p)
{
    return IN_ENUM(p, ISW_NPARAMETERIZATIONS) ? param_names[p] : "?";
}
const char *isw_prec_name(isw_prec_t p) { return IN_ENUM(p, ISW_NPRECS) ? prec_names[p] : "?"; }

int isw_act_can_die(isw_act_t a) { return IN_ENUM(a, ISW_NACTS) && act_table[a].can_die; }
int isw_act_saturates(isw_act_t a) { return IN_ENUM(a, ISW_NACTS) && act_table[a].saturates; }
int isw_act_kinked(isw_act_t a) { return IN_ENUM(a, ISW_NACTS) && act_table[a].kinked; }
int isw_out_probabilities(isw_out_t o)
{
    return IN_ENUM(o, ISW_NOUTS) && out_table[o].probabilities;
}
int isw_out_min_classes(isw_out_t o) { return IN_ENUM(o, ISW_NOUTS) ? out_table[o].min_classes : 0; }
int isw_mlp_loss_fits(isw_loss_t l, isw_out_t o)
{
    return IN_ENUM(l, ISW_NLOSSES) && IN_ENUM(o, ISW_NOUTS) &&
           (!loss_table[l].needs_probabilities || out_table[o].probabilities);
}

/* ---- kernels, once per precision ---------------------------------------- */

#define real float
#define GEMM cblas_sgemm
#define V_EXP isw_vexp_f
#define V_TANH isw_vtanh_f
#define V_SIGMOID isw_vsigmoid_f
#define KN(name) name##_f
#include "mlp_kernels.h"
#undef real
#undef GEMM
#undef V_EXP
#undef V_TANH
#undef V_SIGMOID
#undef KN

#define real double
#define GEMM cblas_dgemm
#define V_EXP isw_vexp_d
#define V_TANH isw_vtanh_d
#define V_SIGMOID isw_vsigmoid_d
#define KN(name) name##_d
#include "mlp_kernels.h"
#undef real
#undef GEMM
#undef V_EXP
#undef V_TANH
#undef V_SIGMOID
#undef KN

/* ---- layout ------------------------------------------------------------- */

/* Buffer sizes in elements (acts, params) or counters (stats). */
typedef struct {
    size_t nparams;
    size_t nacts;      /* X, Y, Z[l], H[l], dA, dB */
    size_t nstats;     /* st_active and st_saturated: 2 per hidden unit */
} mlp_sizes_t;

/* Fills the shape fields of net (widths, alpha, offsets, sizes) from the
 * model and returns the buffer sizes in *sz.  Touches no buffer: a pure
 * function of its arguments, shared by alloc, nparams and nbytes. */
static int mlp_layout(isw_mlp_t *net, mlp_sizes_t *sz, const isw_model_spec_t *m,
                      size_t nin, size_t nout, size_t max_batch)
{
    if (m->nhidden < 0 || m->nhidden > ISW_MAX_HIDDEN || nin == 0 || nout == 0 ||
        nin > INT32_MAX || nout > INT32_MAX || max_batch > INT32_MAX)
        return ISW_EINVAL;
    if (!isw_mlp_loss_fits(m->loss, m->output))
        return ISW_EINVAL;
    memset(net, 0, sizeof *net);
    net->L = m->nhidden + 1;
    net->width[0] = (int)nin;
    for (int l = 0; l < m->nhidden; l++) {
        if (m->hidden[l] <= 0)
            return ISW_EINVAL;
        net->width[l + 1] = m->hidden[l];
    }
    net->width[net->L] = (int)nout;
    net->act = m->activation;
    net->out = m->output;
    net->loss = m->loss;
    net->bias = m->bias != 0;
    net->leaky_slope = m->leaky_slope;
    net->max_batch = max_batch;

    size_t off = 0, units = 0, maxw = 0;
    for (int l = 0; l < net->L; l++) {
        size_t in = (size_t)net->width[l], out = (size_t)net->width[l + 1];
        if (m->parameterization == ISW_PARAM_MEAN_FIELD)
            net->alpha[l] = l < net->L - 1 ? 1.0 / sqrt((double)in) : 1.0 / (double)in;
        else
            net->alpha[l] = 1.0;
        net->woff[l] = off;
        net->boff[l] = off + out * in;
        net->lsize[l] = out * in + (net->bias ? out : 0);
        off += net->lsize[l];
        units += l < net->L - 1 ? out : 0;
        maxw = out > maxw ? out : maxw;
    }
    net->nparams = off;
    net->nhidden_units = units;
    net->max_width = maxw;

    size_t sum_widths = 0;
    for (int l = 1; l <= net->L; l++)
        sum_widths += (size_t)net->width[l];
    sz->nparams = off;
    sz->nacts = max_batch * (nin + nout + 2 * sum_widths + 2 * maxw);
    sz->nstats = 2 * units;
    return ISW_OK;
}

size_t isw_mlp_nparams(const isw_model_spec_t *m, size_t nin, size_t nout)
{
    isw_mlp_t net;
    mlp_sizes_t sz;
    return mlp_layout(&net, &sz, m, nin, nout, 1) == ISW_OK ? sz.nparams : 0;
}

size_t isw_mlp_nbytes(const isw_model_spec_t *m, size_t nin, size_t nout,
                      isw_prec_t prec, size_t max_batch)
{
    isw_mlp_t net;
    mlp_sizes_t sz;
    if (mlp_layout(&net, &sz, m, nin, nout, max_batch) != ISW_OK)
        return 0;
    size_t el = prec == ISW_PREC_FLOAT ? sizeof(float) : sizeof(double);
    return (3 * sz.nparams + sz.nacts) * el + sz.nstats * sizeof(uint32_t);
}

double isw_mlp_flops(const isw_model_spec_t *m, size_t nin, size_t nout, size_t B)
{
    isw_mlp_t net;
    mlp_sizes_t sz;
    if (mlp_layout(&net, &sz, m, nin, nout, 1) != ISW_OK)
        return 0;
    double macs = 0;
    for (int l = 0; l < net.L; l++)
        macs += (double)net.width[l] * (double)net.width[l + 1];
    return 6.0 * (double)B * macs;
}

int isw_mlp_alloc(isw_mlp_t *net, const isw_model_spec_t *m, size_t nin, size_t nout,
                  isw_prec_t prec, size_t max_batch)
{
    mlp_sizes_t sz;
    if (max_batch == 0 || mlp_layout(net, &sz, m, nin, nout, max_batch) != ISW_OK) {
        memset(net, 0, sizeof *net);
        return ISW_EINVAL;
    }
    net->prec = prec;
    net->elsize = prec == ISW_PREC_FLOAT ? sizeof(float) : sizeof(double);
    size_t el = net->elsize;
    net->params = calloc(sz.nparams, el);
    net->grads = calloc(sz.nparams, el);
    net->velocity = calloc(sz.nparams, el);
    net->acts = calloc(sz.nacts, el);
    net->st_active = calloc(sz.nstats ? sz.nstats : 1, sizeof(uint32_t));
    if (!net->params || !net->grads || !net->velocity || !net->acts || !net->st_active) {
        isw_mlp_free(net);
        return ISW_ENOMEM;
    }
    net->st_saturated = net->st_active + net->nhidden_units;

    /* Carve the activation block: X, Y, then Z[l], H[l] per layer, dA, dB. */
    char *p = net->acts;
    net->X = p;
    p += max_batch * nin * el;
    net->Y = p;
    p += max_batch * nout * el;
    for (int l = 0; l < net->L; l++) {
        size_t bytes = max_batch * (size_t)net->width[l + 1] * el;
        net->Z[l] = p;
        p += bytes;
        net->H[l] = p;
        p += bytes;
    }
    net->dA = p;
    p += max_batch * net->max_width * el;
    net->dB = p;
    return ISW_OK;
}

void isw_mlp_free(isw_mlp_t *net)
{
    if (!net)
        return;
    free(net->params);
    free(net->grads);
    free(net->velocity);
    free(net->acts);
    free(net->st_active);
    memset(net, 0, sizeof *net);
}

void isw_mlp_blas_threads(int n)
{
    openblas_set_num_threads(n);
}

const char *isw_mlp_blas_core(void)
{
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}

/* ---- dispatch ------------------------------------------------------------- */

void isw_mlp_load_batch(isw_mlp_t *net, const isw_data_t *data, const size_t *idx,
                        size_t first, size_t B)
{
    assert(B <= net->max_batch && data->nin == (size_t)net->width[0] &&
           data->nout == (size_t)net->width[net->L]);
    if (net->prec == ISW_PREC_FLOAT)
        load_batch_f(net, data, idx, first, B);
    else
        load_batch_d(net, data, idx, first, B);
}

void isw_mlp_forward(isw_mlp_t *net, size_t B)
{
    assert(B <= net->max_batch);
    if (B == 0)
        return;
    if (net->prec == ISW_PREC_FLOAT)
        forward_f(net, B);
    else
        forward_d(net, B);
}

double isw_mlp_loss(const isw_mlp_t *net, size_t B)
{
    return net->prec == ISW_PREC_FLOAT ? loss_f(net, B) : loss_d(net, B);
}

void isw_mlp_backward(isw_mlp_t *net, size_t B, double scale, int accumulate)
{
    if (B == 0) {
        if (!accumulate)
            memset(net->grads, 0, net->nparams * net->elsize);
        return;
    }
    if (net->prec == ISW_PREC_FLOAT)
        backward_f(net, B, scale, accumulate);
    else
        backward_d(net, B, scale, accumulate);
}

void isw_mlp_sgd_step(isw_mlp_t *net, double lr, const double *lr_mult, double momentum)
{
    if (net->prec == ISW_PREC_FLOAT)
        sgd_step_f(net, lr, lr_mult, momentum);
    else
        sgd_step_d(net, lr, lr_mult, momentum);
}

void isw_mlp_stats_reset(isw_mlp_t *net)
{
    net->st_loss = 0;
    net->st_correct = 0;
    net->st_n = 0;
    net->st_out_saturated = 0;
    memset(net->st_active, 0, 2 * net->nhidden_units * sizeof(uint32_t));
}

void isw_mlp_stats_accumulate(isw_mlp_t *net, size_t B, double sat_derivative)
{
    if (net->prec == ISW_PREC_FLOAT)
        stats_accumulate_f(net, B, sat_derivative);
    else
        stats_accumulate_d(net, B, sat_derivative);
}

void isw_mlp_stats_get(const isw_mlp_t *net, isw_mlp_stats_t *out)
{
    double n = (double)net->st_n;
    memset(out, 0, sizeof *out);
    out->n = net->st_n;
    out->loss = net->st_n ? net->st_loss / n : NAN;
    out->accuracy = net->classification && net->st_n ? (double)net->st_correct / n : NAN;
    out->output_saturated_fraction = net->st_n ? (double)net->st_out_saturated / n : 0;

    size_t dead = 0, saturated = 0, unit = 0;
    for (int l = 0; l < net->L - 1; l++) {
        size_t width = (size_t)net->width[l + 1], layer_dead = 0;
        for (size_t j = unit; j < unit + width; j++) {
            layer_dead += net->st_active[j] == 0;
            /* saturated on >= 99 % of the samples, in integers */
            saturated += 100 * (size_t)net->st_saturated[j] >= 99 * net->st_n;
        }
        dead += layer_dead;
        if (layer_dead == width)
            out->layer_dead = 1;
        unit += width;
    }
    double units = (double)net->nhidden_units;
    if (!isw_act_can_die(net->act) || net->st_n == 0) {
        dead = 0;
        out->layer_dead = 0;
    }
    if (!isw_act_saturates(net->act) || net->st_n == 0)
        saturated = 0;
    out->dead_fraction = units > 0 ? (double)dead / units : 0;
    out->saturated_fraction = units > 0 ? (double)saturated / units : 0;
}

void isw_mlp_grad_norms(const isw_mlp_t *net, double *norms)
{
    if (net->prec == ISW_PREC_FLOAT)
        grad_norms_f(net, norms);
    else
        grad_norms_d(net, norms);
}

int isw_mlp_params_finite(const isw_mlp_t *net)
{
    return net->prec == ISW_PREC_FLOAT ? all_finite_f(net->params, net->nparams)
                                       : all_finite_d(net->params, net->nparams);
}

/* ---- conversions to and from double -------------------------------------- */

static void buf_get(const isw_mlp_t *net, double *dst, const void *src, size_t n)
{
    if (net->prec == ISW_PREC_FLOAT)
        to_double_f(dst, src, n);
    else
        to_double_d(dst, src, n);
}

static void buf_set(const isw_mlp_t *net, void *dst, const double *src, size_t n)
{
    if (net->prec == ISW_PREC_FLOAT)
        from_double_f(dst, src, n);
    else
        from_double_d(dst, src, n);
}

void isw_mlp_params_get(const isw_mlp_t *net, double *dst)
{
    buf_get(net, dst, net->params, net->nparams);
}

void isw_mlp_params_set(isw_mlp_t *net, const double *src)
{
    buf_set(net, net->params, src, net->nparams);
}

void isw_mlp_grads_get(const isw_mlp_t *net, double *dst)
{
    buf_get(net, dst, net->grads, net->nparams);
}

double isw_mlp_output(const isw_mlp_t *net, size_t i, size_t j)
{
    double v;
    size_t k = i * (size_t)net->width[net->L] + j;
    buf_get(net, &v, (const char *)net->H[net->L - 1] + k * net->elsize, 1);
    return v;
}

void isw_mlp_set_input(isw_mlp_t *net, size_t i, size_t j, double v)
{
    buf_set(net, (char *)net->X + (i * (size_t)net->width[0] + j) * net->elsize, &v, 1);
}

void isw_mlp_set_target(isw_mlp_t *net, size_t i, size_t j, double v)
{
    buf_set(net, (char *)net->Y + (i * (size_t)net->width[net->L] + j) * net->elsize, &v, 1);
}
