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
    [ISW_PARAM_STANDARD] = "standard", [ISW_PARAM_MEAN_FIELD] = "mean_field",
    [ISW_PARAM_NTK] = "ntk", [ISW_PARAM_MUP] = "mup"};
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
#define GEMV cblas_sgemv
#define V_EXP isw_vexp_f
#define V_TANH isw_vtanh_f
#define V_SIGMOID isw_vsigmoid_f
#define KN(name) name##_f
#include "mlp_kernels.h"
#undef real
#undef GEMM
#undef GEMV
#undef V_EXP
#undef V_TANH
#undef V_SIGMOID
#undef KN

#define real double
#define GEMM cblas_dgemm
#define GEMV cblas_dgemv
#define V_EXP isw_vexp_d
#define V_TANH isw_vtanh_d
#define V_SIGMOID isw_vsigmoid_d
#define KN(name) name##_d
#include "mlp_kernels.h"
#undef real
#undef GEMM
#undef GEMV
#undef V_EXP
#undef V_TANH
#undef V_SIGMOID
#undef KN

/* ---- layout ------------------------------------------------------------- */

/* Buffer sizes in elements (acts, params) or counters (stats), for all lanes. */
typedef struct {
    size_t nparams;    /* lanes * one lane's parameters */
    size_t nacts;      /* X, Y, Z[l], H[l], dA, dB */
    size_t nstats;     /* st_active and st_saturated: 2 per hidden unit and lane */
} mlp_sizes_t;

/* Fills the shape fields of net (widths, alpha, offsets, sizes) from the
 * model spec, for `lanes` lanes; ISW_EINVAL for an impossible shape. */
static int mlp_layout(isw_mlp_t *net, mlp_sizes_t *sz, const isw_model_spec_t *m,
                      size_t nin, size_t nout, size_t max_batch, int lanes)
{
    if (m->nhidden < 0 || m->nhidden > ISW_MAX_HIDDEN || nin == 0 || nout == 0 ||
        nin > INT32_MAX || nout > INT32_MAX || max_batch > INT32_MAX || lanes < 1 ||
        lanes > ISW_MAX_LANES)
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
    net->nlanes = net->lanes = lanes;

    size_t off = 0, units = 0, maxw = 0, K = (size_t)lanes;
    for (int l = 0; l < net->L; l++) {
        size_t in = (size_t)net->width[l], out = (size_t)net->width[l + 1];
        int last = l == net->L - 1;
        net->alpha[l] = isw_mlp_alpha(m, in, last);
        net->lr_scale[l] = 1.0;
        /* muP: the input layer of a net with hidden layers: lr x its width */
        if (m->parameterization == ISW_PARAM_MUP)
            net->lr_scale[l] = l == 0 && !last ? (double)out : 1.0;
        net->woff[l] = off;
        net->boff[l] = off + out * in;
        net->lsize[l] = out * in + (net->bias ? out : 0);
        /* storage: W_l of every lane, then b_l of every lane */
        net->sw[l] = K * off;
        net->sb[l] = K * off + K * out * in;
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
    sz->nparams = K * off;
    sz->nacts = max_batch * (nin + nout + K * (2 * sum_widths + 2 * maxw));
    sz->nstats = 2 * K * units;
    return ISW_OK;
}

double isw_mlp_alpha(const isw_model_spec_t *m, size_t fan_in, int last)
{
    double a = 1.0;
    switch (m->parameterization) {
    case ISW_PARAM_MEAN_FIELD: a = !last ? 1.0 / sqrt((double)fan_in) : 1.0 / (double)fan_in; break;
    case ISW_PARAM_NTK: a = 1.0 / sqrt((double)fan_in); break;
    case ISW_PARAM_MUP: a = last ? 1.0 / sqrt((double)fan_in) : 1.0; break;
    default: break;
    }
    /* the activation gain: phi(gain z) on hidden layers, folded into the
     * weight term (biases are added after it); 0 is a model spec built
     * without the key, gain 1 (the key itself must be positive) */
    return last || !(m->gain > 0) ? a : a * m->gain;
}

size_t isw_mlp_nparams(const isw_model_spec_t *m, size_t nin, size_t nout)
{
    isw_mlp_t net;
    mlp_sizes_t sz;
    return mlp_layout(&net, &sz, m, nin, nout, 1, 1) == ISW_OK ? sz.nparams : 0;
}

size_t isw_mlp_nbytes(const isw_model_spec_t *m, size_t nin, size_t nout,
                      isw_prec_t prec, size_t max_batch, int lanes)
{
    isw_mlp_t net;
    mlp_sizes_t sz;
    if (mlp_layout(&net, &sz, m, nin, nout, max_batch, lanes) != ISW_OK)
        return 0;
    size_t el = prec == ISW_PREC_FLOAT ? sizeof(float) : sizeof(double);
    return (3 * sz.nparams + sz.nacts) * el + sz.nstats * sizeof(uint32_t) +
           (size_t)lanes * (sizeof(double) + 2 * sizeof(size_t) + sizeof(double));
}

double isw_mlp_flops(const isw_model_spec_t *m, size_t nin, size_t nout, size_t B)
{
    isw_mlp_t net;
    mlp_sizes_t sz;
    if (mlp_layout(&net, &sz, m, nin, nout, 1, 1) != ISW_OK)
        return 0;
    double macs = 0;
    for (int l = 0; l < net.L; l++)
        macs += (double)net.width[l] * (double)net.width[l + 1];
    return 6.0 * (double)B * macs;
}

int isw_mlp_alloc(isw_mlp_t *net, const isw_model_spec_t *m, size_t nin, size_t nout,
                  isw_prec_t prec, size_t max_batch)
{
    return isw_mlp_alloc_lanes(net, m, nin, nout, prec, max_batch, 1);
}

int isw_mlp_alloc_lanes(isw_mlp_t *net, const isw_model_spec_t *m, size_t nin, size_t nout,
                        isw_prec_t prec, size_t max_batch, int lanes)
{
    mlp_sizes_t sz;
    if (max_batch == 0 || mlp_layout(net, &sz, m, nin, nout, max_batch, lanes) != ISW_OK) {
        memset(net, 0, sizeof *net);
        return ISW_EINVAL;
    }
    net->prec = prec;
    net->elsize = prec == ISW_PREC_FLOAT ? sizeof(float) : sizeof(double);
    size_t el = net->elsize, K = (size_t)lanes;
    net->params = calloc(sz.nparams, el);
    net->grads = calloc(sz.nparams, el);
    net->velocity = calloc(sz.nparams, el);
    net->acts = calloc(sz.nacts, el);
    net->st_active = calloc(sz.nstats ? sz.nstats : 1, sizeof(uint32_t));
    net->st_loss = calloc(2 * K, sizeof(double));
    net->st_correct = calloc(2 * K, sizeof(size_t));
    if (!net->params || !net->grads || !net->velocity || !net->acts || !net->st_active ||
        !net->st_loss || !net->st_correct) {
        isw_mlp_free(net);
        return ISW_ENOMEM;
    }
    net->st_saturated = net->st_active + K * net->nhidden_units;
    net->lane_tmp = net->st_loss + K;
    net->st_out_saturated = net->st_correct + K;

    /* Carve the activation block: X, Y, then Z[l], H[l] per layer, dA, dB. */
    char *p = net->acts;
    net->X = p;
    p += max_batch * nin * el;
    net->Y = p;
    p += max_batch * nout * el;
    for (int l = 0; l < net->L; l++) {
        size_t bytes = max_batch * K * (size_t)net->width[l + 1] * el;
        net->Z[l] = p;
        p += bytes;
        net->H[l] = p;
        p += bytes;
    }
    net->dA = p;
    p += max_batch * K * net->max_width * el;
    net->dB = p;
    return ISW_OK;
}

void isw_mlp_set_lanes(isw_mlp_t *net, int n)
{
    assert(n >= 1 && n <= net->nlanes);
    net->lanes = n;
}

void isw_mlp_lane_copy(isw_mlp_t *net, int dst, int src)
{
    assert(dst >= 0 && dst < net->nlanes && src >= 0 && src < net->nlanes);
    if (dst == src)
        return;
    if (net->prec == ISW_PREC_FLOAT)
        lane_copy_f(net, dst, src);
    else
        lane_copy_d(net, dst, src);
}

void isw_mlp_lane_reset(isw_mlp_t *net, int lane)
{
    assert(lane >= 0 && lane < net->nlanes);
    /* All-zero bytes are 0.0 in float and double alike. */
    char *v = net->velocity;
    size_t el = net->elsize;
    for (int l = 0; l < net->L; l++) {
        size_t out = (size_t)net->width[l + 1], nw = out * (size_t)net->width[l];
        memset(v + (net->sw[l] + (size_t)lane * nw) * el, 0, nw * el);
        if (net->bias)
            memset(v + (net->sb[l] + (size_t)lane * out) * el, 0, out * el);
    }
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
    free(net->st_loss);
    free(net->st_correct);
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

void isw_mlp_loss_lanes(const isw_mlp_t *net, size_t B, double *sums)
{
    if (net->prec == ISW_PREC_FLOAT)
        loss_f(net, B, sums);
    else
        loss_d(net, B, sums);
}

double isw_mlp_loss(const isw_mlp_t *net, size_t B)
{
    isw_mlp_loss_lanes(net, B, net->lane_tmp);
    return net->lane_tmp[0];
}

void isw_mlp_backward(isw_mlp_t *net, size_t B, double scale, int accumulate)
{
    if (B == 0) {
        if (!accumulate)
            memset(net->grads, 0, (size_t)net->nlanes * net->nparams * net->elsize);
        return;
    }
    if (net->prec == ISW_PREC_FLOAT)
        backward_f(net, B, scale, accumulate);
    else
        backward_d(net, B, scale, accumulate);
}

void isw_mlp_backward_sgd(isw_mlp_t *net, size_t B, double scale, const double *lr,
                          const double *const *lr_mult, const unsigned char *step)
{
    if (B == 0)
        return;
    if (net->prec == ISW_PREC_FLOAT)
        backward_sgd_f(net, B, scale, lr, lr_mult, step);
    else
        backward_sgd_d(net, B, scale, lr, lr_mult, step);
}

void isw_mlp_sgd_step_lane(isw_mlp_t *net, int lane, double lr, const double *lr_mult,
                           double momentum)
{
    assert(lane >= 0 && lane < net->lanes);
    if (net->prec == ISW_PREC_FLOAT)
        sgd_step_f(net, lane, lr, lr_mult, momentum);
    else
        sgd_step_d(net, lane, lr, lr_mult, momentum);
}

void isw_mlp_sgd_step(isw_mlp_t *net, double lr, const double *lr_mult, double momentum)
{
    isw_mlp_sgd_step_lane(net, 0, lr, lr_mult, momentum);
}

void isw_mlp_stats_reset(isw_mlp_t *net)
{
    size_t K = (size_t)net->nlanes;
    memset(net->st_loss, 0, K * sizeof *net->st_loss);
    memset(net->st_correct, 0, K * sizeof *net->st_correct);
    memset(net->st_out_saturated, 0, K * sizeof *net->st_out_saturated);
    net->st_n = 0;
    memset(net->st_active, 0, 2 * K * net->nhidden_units * sizeof(uint32_t));
}

void isw_mlp_stats_accumulate(isw_mlp_t *net, size_t B, double sat_derivative)
{
    if (net->prec == ISW_PREC_FLOAT)
        stats_accumulate_f(net, B, sat_derivative);
    else
        stats_accumulate_d(net, B, sat_derivative);
}

void isw_mlp_stats_get_lane(const isw_mlp_t *net, int lane, isw_mlp_stats_t *out)
{
    double n = (double)net->st_n;
    memset(out, 0, sizeof *out);
    out->n = net->st_n;
    out->loss = net->st_n ? net->st_loss[lane] / n : NAN;
    out->accuracy = net->classification && net->st_n ? (double)net->st_correct[lane] / n : NAN;
    out->output_saturated_fraction =
        net->st_n ? (double)net->st_out_saturated[lane] / n : 0;

    size_t dead = 0, saturated = 0, unit = 0;
    for (int l = 0; l < net->L - 1; l++) {
        size_t width = (size_t)net->width[l + 1], layer_dead = 0;
        size_t first = (size_t)net->nlanes * unit + (size_t)lane * width;
        for (size_t j = first; j < first + width; j++) {
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

void isw_mlp_stats_get(const isw_mlp_t *net, isw_mlp_stats_t *out)
{
    isw_mlp_stats_get_lane(net, 0, out);
}

void isw_mlp_grad_norms_lane(const isw_mlp_t *net, int lane, double *norms)
{
    if (net->prec == ISW_PREC_FLOAT)
        grad_norms_f(net, lane, norms);
    else
        grad_norms_d(net, lane, norms);
}

void isw_mlp_grad_norms(const isw_mlp_t *net, double *norms)
{
    isw_mlp_grad_norms_lane(net, 0, norms);
}

int isw_mlp_params_finite_lane(const isw_mlp_t *net, int lane)
{
    return net->prec == ISW_PREC_FLOAT ? lane_finite_f(net, lane) : lane_finite_d(net, lane);
}

int isw_mlp_params_finite(const isw_mlp_t *net)
{
    return isw_mlp_params_finite_lane(net, 0);
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

/* Lane `lane` of buffer buf <-> one lane's vector v. */
static void lane_vector(const isw_mlp_t *net, const void *buf, int lane, double *v, int to_vec)
{
    assert(lane >= 0 && lane < net->nlanes);
    if (net->prec == ISW_PREC_FLOAT)
        lane_vector_f(net, (float *)buf, lane, v, to_vec);
    else
        lane_vector_d(net, (double *)buf, lane, v, to_vec);
}

void isw_mlp_params_get_lane(const isw_mlp_t *net, int lane, double *dst)
{
    lane_vector(net, net->params, lane, dst, 1);
}

void isw_mlp_params_set_lane(isw_mlp_t *net, int lane, const double *src)
{
    lane_vector(net, net->params, lane, (double *)src, 0);
}

void isw_mlp_grads_get_lane(const isw_mlp_t *net, int lane, double *dst)
{
    lane_vector(net, net->grads, lane, dst, 1);
}

void isw_mlp_params_get(const isw_mlp_t *net, double *dst) { isw_mlp_params_get_lane(net, 0, dst); }
void isw_mlp_params_set(isw_mlp_t *net, const double *src) { isw_mlp_params_set_lane(net, 0, src); }
void isw_mlp_grads_get(const isw_mlp_t *net, double *dst) { isw_mlp_grads_get_lane(net, 0, dst); }

double isw_mlp_output_lane(const isw_mlp_t *net, int lane, size_t i, size_t j)
{
    double v;
    size_t n = (size_t)net->width[net->L];
    size_t k = (i * (size_t)net->lanes + (size_t)lane) * n + j;
    buf_get(net, &v, (const char *)net->H[net->L - 1] + k * net->elsize, 1);
    return v;
}

double isw_mlp_output(const isw_mlp_t *net, size_t i, size_t j)
{
    return isw_mlp_output_lane(net, 0, i, j);
}

void isw_mlp_set_input(isw_mlp_t *net, size_t i, size_t j, double v)
{
    buf_set(net, (char *)net->X + (i * (size_t)net->width[0] + j) * net->elsize, &v, 1);
}

void isw_mlp_set_target(isw_mlp_t *net, size_t i, size_t j, double v)
{
    buf_set(net, (char *)net->Y + (i * (size_t)net->width[net->L] + j) * net->elsize, &v, 1);
}
