/* Weight and bias initialisation: one uniform draw per parameter, in
 * parameter order, turned into every family by a monotone transform (see
 * init.h), so runs that differ only in family or scale are paired. */
#include "initsweep/init.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

/* The family at scale 1 as a function of u in (0,1): fan factor times the
 * unit draw (2u - 1 or Phi^-1(u)). */
static double init_unit(isw_dist_t dist, double u, size_t fan_in, size_t fan_out)
{
    double fi = (double)fan_in, fio = (double)(fan_in + fan_out);
    switch (dist) {
    case ISW_DIST_UNIFORM: return 2 * u - 1;
    case ISW_DIST_UNIFORM_POSITIVE: return u;
    case ISW_DIST_NORMAL: return gsl_cdf_ugaussian_Pinv(u);
    case ISW_DIST_TRUNCATED_NORMAL: {
        double lo = gsl_cdf_ugaussian_P(-2.0), hi = gsl_cdf_ugaussian_P(2.0);
        return gsl_cdf_ugaussian_Pinv(lo + u * (hi - lo));
    }
    case ISW_DIST_XAVIER_UNIFORM: return sqrt(6.0 / fio) * (2 * u - 1);
    case ISW_DIST_XAVIER_NORMAL: return sqrt(2.0 / fio) * gsl_cdf_ugaussian_Pinv(u);
    case ISW_DIST_HE_UNIFORM: return sqrt(6.0 / fi) * (2 * u - 1);
    case ISW_DIST_HE_NORMAL: return sqrt(2.0 / fi) * gsl_cdf_ugaussian_Pinv(u);
    case ISW_DIST_LECUN_UNIFORM: return sqrt(3.0 / fi) * (2 * u - 1);
    case ISW_DIST_LECUN_NORMAL: return sqrt(1.0 / fi) * gsl_cdf_ugaussian_Pinv(u);
    case ISW_DIST_ZERO: return 0;
    }
    return 0;
}

double isw_init_value(const isw_init_spec_t *init, double u, size_t fan_in, size_t fan_out)
{
    /* The scale multiplies last, so a power-of-two scale is exact. */
    return init->scale * init_unit(init->dist, u, fan_in, fan_out) + init->mean;
}

double isw_init_stddev(const isw_init_spec_t *init, size_t fan_in, size_t fan_out)
{
    double s = fabs(init->scale), fi = (double)fan_in, fio = (double)(fan_in + fan_out);
    switch (init->dist) {
    case ISW_DIST_UNIFORM: return s / sqrt(3.0);
    case ISW_DIST_UNIFORM_POSITIVE: return s / sqrt(12.0);
    case ISW_DIST_NORMAL: return s;
    case ISW_DIST_TRUNCATED_NORMAL: {
        /* variance of N(0,1) cut at +-2: 1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2)) */
        double phi2 = gsl_ran_ugaussian_pdf(2.0);
        double mass = gsl_cdf_ugaussian_P(2.0) - gsl_cdf_ugaussian_P(-2.0);
        return s * sqrt(1 - 4 * phi2 / mass);
    }
    case ISW_DIST_XAVIER_UNIFORM:
    case ISW_DIST_XAVIER_NORMAL: return s * sqrt(2.0 / fio);
    case ISW_DIST_HE_UNIFORM:
    case ISW_DIST_HE_NORMAL: return s * sqrt(2.0 / fi);
    case ISW_DIST_LECUN_UNIFORM:
    case ISW_DIST_LECUN_NORMAL: return s * sqrt(1.0 / fi);
    case ISW_DIST_ZERO: return 0;
    }
    return 0;
}

void isw_init_params(isw_mlp_t *net, const isw_init_spec_t *init, gsl_rng *r,
                     double *scratch)
{
    /* Layer l occupies [woff, woff + lsize): W_l (out * in) then b_l (out),
     * so walking k upward draws in layout order W_0, b_0, W_1, b_1, ... */
    for (int l = 0; l < net->L; l++) {
        size_t fan_in = (size_t)net->width[l], fan_out = (size_t)net->width[l + 1];
        size_t end_w = net->woff[l] + fan_in * fan_out;
        for (size_t k = net->woff[l]; k < net->woff[l] + net->lsize[l]; k++) {
            double u = gsl_rng_uniform_pos(r);
            int is_bias = k >= end_w;
            scratch[k] = is_bias && init->bias_zero ? 0.0
                                                    : isw_init_value(init, u, fan_in, fan_out);
        }
    }
    isw_mlp_params_set(net, scratch);
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
