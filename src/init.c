/* Weight and bias initialisation: one uniform draw per parameter, in
 * parameter order, turned into every family by a monotone transform (see
 * init.h), so runs that differ only in family or scale are paired. */
#include "initsweep/init.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

/* Every family is a fan factor sqrt(gain / fan) times a unit draw of one
 * shape, so a family is one row: its name, shape, fan and gain. */
typedef enum {
    SHAPE_SYMMETRIC,   /* 2u - 1, U[-1, 1] */
    SHAPE_POSITIVE,    /* u, U[0, 1) */
    SHAPE_NORMAL,      /* Phi^-1(u), N(0, 1) */
    SHAPE_TRUNCATED,   /* Phi^-1(Phi(-2) + u (Phi(2) - Phi(-2))), N(0, 1) cut at 2 */
    SHAPE_ZERO         /* 0 */
} shape_t;

typedef enum {
    FAN_NONE,          /* factor 1 */
    FAN_IN,            /* fan_in */
    FAN_SUM            /* fan_in + fan_out */
} fan_t;

static const struct {
    const char *name;                    /* as specs and runs.csv spell it */
    shape_t shape;
    fan_t fan;
    double gain;
} dist_table[ISW_NDISTS] = {
    [ISW_DIST_UNIFORM] = {"uniform", SHAPE_SYMMETRIC, FAN_NONE, 1},
    [ISW_DIST_UNIFORM_POSITIVE] = {"uniform_positive", SHAPE_POSITIVE, FAN_NONE, 1},
    [ISW_DIST_NORMAL] = {"normal", SHAPE_NORMAL, FAN_NONE, 1},
    [ISW_DIST_TRUNCATED_NORMAL] = {"truncated_normal", SHAPE_TRUNCATED, FAN_NONE, 1},
    [ISW_DIST_XAVIER_UNIFORM] = {"xavier_uniform", SHAPE_SYMMETRIC, FAN_SUM, 6},
    [ISW_DIST_XAVIER_NORMAL] = {"xavier_normal", SHAPE_NORMAL, FAN_SUM, 2},
    [ISW_DIST_HE_UNIFORM] = {"he_uniform", SHAPE_SYMMETRIC, FAN_IN, 6},
    [ISW_DIST_HE_NORMAL] = {"he_normal", SHAPE_NORMAL, FAN_IN, 2},
    [ISW_DIST_LECUN_NORMAL] = {"lecun_normal", SHAPE_NORMAL, FAN_IN, 1},
    [ISW_DIST_LECUN_UNIFORM] = {"lecun_uniform", SHAPE_SYMMETRIC, FAN_IN, 3},
    [ISW_DIST_ZERO] = {"zero", SHAPE_ZERO, FAN_NONE, 0},
};

const char *isw_dist_name(isw_dist_t d)
{
    return (unsigned)d < ISW_NDISTS ? dist_table[d].name : "?";
}

/* sqrt(gain / fan) of a family; exactly 1 without a fan. */
static double fan_factor(isw_dist_t dist, size_t fan_in, size_t fan_out)
{
    switch (dist_table[dist].fan) {
    case FAN_IN: return sqrt(dist_table[dist].gain / (double)fan_in);
    case FAN_SUM: return sqrt(dist_table[dist].gain / (double)(fan_in + fan_out));
    case FAN_NONE: break;
    }
    return 1.0;
}

/* The unit draw of a shape from u in (0,1). */
static double shape_draw(shape_t shape, double u)
{
    switch (shape) {
    case SHAPE_SYMMETRIC: return 2 * u - 1;
    case SHAPE_POSITIVE: return u;
    case SHAPE_NORMAL: return gsl_cdf_ugaussian_Pinv(u);
    case SHAPE_TRUNCATED: {
        double lo = gsl_cdf_ugaussian_P(-2.0), hi = gsl_cdf_ugaussian_P(2.0);
        return gsl_cdf_ugaussian_Pinv(lo + u * (hi - lo));
    }
    case SHAPE_ZERO: break;
    }
    return 0;
}

/* Standard deviation of a shape's unit draw. */
static double shape_stddev(shape_t shape)
{
    switch (shape) {
    case SHAPE_SYMMETRIC: return 1 / sqrt(3.0);
    case SHAPE_POSITIVE: return 1 / sqrt(12.0);
    case SHAPE_NORMAL: return 1;
    case SHAPE_TRUNCATED: {
        /* variance of N(0,1) cut at +-2: 1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2)) */
        double phi2 = gsl_ran_ugaussian_pdf(2.0);
        double mass = gsl_cdf_ugaussian_P(2.0) - gsl_cdf_ugaussian_P(-2.0);
        return sqrt(1 - 4 * phi2 / mass);
    }
    case SHAPE_ZERO: break;
    }
    return 0;
}

/* The spec with init.sigma_w2 / sigma_b2 folded in: lecun_normal whose
 * scale carries sqrt(sigma_w^2), biases N(0, sigma_b^2). */
static isw_init_spec_t folded(const isw_init_spec_t *in)
{
    isw_init_spec_t f = *in;
    if (!isnan(in->sigma_w2)) {
        f.dist = ISW_DIST_LECUN_NORMAL;
        f.scale = in->scale * sqrt(in->sigma_w2);
        f.sigma_w2 = NAN;
    }
    if (!isnan(in->sigma_b2)) {
        f.bias = ISW_BIAS_NORMAL;
        f.bias_scale = sqrt(in->sigma_b2);
        f.sigma_b2 = NAN;
    }
    return f;
}

double isw_init_value(const isw_init_spec_t *spec, double u, size_t fan_in, size_t fan_out)
{
    isw_init_spec_t f = folded(spec);
    const isw_init_spec_t *init = &f;
    isw_dist_t d = (unsigned)init->dist < ISW_NDISTS ? init->dist : ISW_DIST_ZERO;
    double unit = dist_table[d].shape == SHAPE_ZERO
                      ? 0.0
                      : fan_factor(d, fan_in, fan_out) * shape_draw(dist_table[d].shape, u);
    /* The scale multiplies last, so a power-of-two scale is exact. */
    return init->scale * unit + init->mean;
}

double isw_init_stddev(const isw_init_spec_t *spec, size_t fan_in, size_t fan_out)
{
    isw_init_spec_t f = folded(spec);
    isw_dist_t d = (unsigned)f.dist < ISW_NDISTS ? f.dist : ISW_DIST_ZERO;
    return fabs(f.scale) * fan_factor(d, fan_in, fan_out) * shape_stddev(dist_table[d].shape);
}

void isw_init_sigmas(const isw_init_spec_t *spec, int bias, double alpha, size_t fan_in,
                     size_t fan_out, double *sigma_w2, double *sigma_b2)
{
    isw_init_spec_t f = folded(spec);
    double sd = isw_init_stddev(&f, fan_in, fan_out);
    *sigma_w2 = alpha * alpha * sd * sd * (double)fan_in;
    *sigma_b2 = !bias ? 0
                : f.bias == ISW_BIAS_NORMAL ? f.bias_scale * f.bias_scale
                : f.bias == ISW_BIAS_SAME ? sd * sd : 0;
}

/* NaN (not given) equals NaN here. */
static int same_real(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

int isw_init_spec_equal(const isw_init_spec_t *a, const isw_init_spec_t *b)
{
    return a->dist == b->dist && a->scale == b->scale && a->mean == b->mean &&
           a->bias == b->bias && a->bias_scale == b->bias_scale &&
           a->last_dist == b->last_dist && a->last_scale == b->last_scale &&
           same_real(a->sigma_w2, b->sigma_w2) && same_real(a->sigma_b2, b->sigma_b2);
}

const char *isw_bias_init_name(isw_bias_init_t b)
{
    static const char *const names[ISW_NBIAS_INITS] = {"same", "zero", "normal"};
    return (unsigned)b < ISW_NBIAS_INITS ? names[b] : "?";
}

const char *isw_last_dist_name(int v)
{
    return v == 0 ? "same" : v > 0 && v <= ISW_NDISTS ? isw_dist_name((isw_dist_t)(v - 1)) : "?";
}

void isw_init_params(isw_mlp_t *net, int lane, const isw_init_spec_t *spec, gsl_rng *r,
                     double *scratch)
{
    isw_init_spec_t f = folded(spec);
    const isw_init_spec_t *init = &f;
    /* the output layer's family and gain */
    isw_init_spec_t last = *init;
    if (init->last_dist > 0)
        last.dist = (isw_dist_t)(init->last_dist - 1);
    last.scale = init->scale * init->last_scale;
    /* the offset scales with the layer's gain, and a zero layer is zero */
    last.mean = init->last_dist == ISW_DIST_ZERO + 1 ? 0.0 : init->mean * init->last_scale;
    /* Layer l occupies [woff, woff + lsize): W_l (out * in) then b_l (out),
     * so walking k upward draws in layout order W_0, b_0, W_1, b_1, ... */
    for (int l = 0; l < net->L; l++) {
        const isw_init_spec_t *li = l == net->L - 1 ? &last : init;
        size_t fan_in = (size_t)net->width[l], fan_out = (size_t)net->width[l + 1];
        size_t end_w = net->woff[l] + fan_in * fan_out;
        for (size_t k = net->woff[l]; k < net->woff[l] + net->lsize[l]; k++) {
            double u = gsl_rng_uniform_pos(r);
            if (k < end_w || init->bias == ISW_BIAS_SAME)
                scratch[k] = isw_init_value(li, u, fan_in, fan_out);
            else if (init->bias == ISW_BIAS_NORMAL)
                scratch[k] = init->bias_scale * gsl_cdf_ugaussian_Pinv(u);
            else
                scratch[k] = 0.0;
        }
    }
    isw_mlp_params_set_lane(net, lane, scratch);
}

gsl_rng *isw_init_rng(uint64_t base_seed, uint64_t seed, int stream)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return NULL;
    /* mt19937 keeps the low 32 bits of the seed; isw_seed_derive mixes all
     * 64 input bits into every output bit. */
    gsl_rng_set(r, (unsigned long)isw_seed_derive(base_seed, seed, (uint64_t)stream));
    return r;
}
