/* Weight and bias initialisation.
 *
 * Common random numbers (DESIGN.md): every parameter consumes exactly one
 * uniform draw u in (0,1) from the run's RNG, in parameter order, and every
 * family is a monotone transform of u times init.scale, plus init.mean:
 *   uniform            s * (2u - 1)            U[-s, s]
 *   uniform_positive   s * u                   U[0, s)
 *   normal             s * Phi^-1(u)           N(0, s^2)
 *   truncated_normal   s * Phi^-1(Phi(-2) + u (Phi(2) - Phi(-2)))   cut at 2 sigma
 *   xavier_uniform     s * sqrt(6/(fan_in+fan_out)) * (2u - 1)
 *   xavier_normal      s * sqrt(2/(fan_in+fan_out)) * Phi^-1(u)
 *   he_uniform         s * sqrt(6/fan_in) * (2u - 1)
 *   he_normal          s * sqrt(2/fan_in) * Phi^-1(u)
 *   lecun_uniform      s * sqrt(3/fan_in) * (2u - 1)
 *   lecun_normal       s * sqrt(1/fan_in) * Phi^-1(u)
 *   zero               0
 * so runs that differ only in scale or family are paired draw by draw, and
 * a power-of-two scale scales every weight exactly (the scale multiplies
 * last).  Biases (init.bias: same) use the family with the layer's fan_in
 * and fan_out; init.bias: zero sets them to 0 but still consumes their draws,
 * so switching it leaves the weights unchanged; init.bias: normal draws
 * them N(0, bias_scale^2) (sigma_b of mean-field theory) from the same draw.
 * The output layer may have its own family and gain (init.last_dist,
 * init.last_scale): its weights are that family times init.scale times
 * last_scale (zero: the zero-initialised last layer of Kalra & Barkeshli
 * 2023), and with init.bias: same its biases follow its family.
 *
 * In mean-field terms (Poole et al. 2016): init.sigma_w2 gives every weight
 * layer N(0, sigma_w^2 / fan_in), i.e. lecun_normal times sqrt(sigma_w^2)
 * (times init.scale, and the output layer's last_dist/last_scale when
 * given); init.sigma_b2 gives the biases N(0, sigma_b^2).  Validation sets
 * init.dist to lecun_normal and init.bias to normal for them, so records
 * name the family that was drawn; the draws stay one uniform per parameter,
 * so a sigma_w2 axis is paired draw by draw like an init.scale axis. */
#ifndef ISW_INIT_H
#define ISW_INIT_H

#include <gsl/gsl_rng.h>

#include "initsweep/common.h"
#include "initsweep/mlp.h"

/* The families, in the order of init.c's table (name, transform, moments):
 * adding one is an enum value here (ISW_NDISTS follows the last) and a row
 * there. */
typedef enum {
    ISW_DIST_UNIFORM, ISW_DIST_UNIFORM_POSITIVE, ISW_DIST_NORMAL,
    ISW_DIST_TRUNCATED_NORMAL, ISW_DIST_XAVIER_UNIFORM, ISW_DIST_XAVIER_NORMAL,
    ISW_DIST_HE_UNIFORM, ISW_DIST_HE_NORMAL, ISW_DIST_LECUN_NORMAL,
    ISW_DIST_LECUN_UNIFORM, ISW_DIST_ZERO
} isw_dist_t;
#define ISW_NDISTS (ISW_DIST_ZERO + 1)

/* Name as specs and runs.csv spell it; "?" for a value outside the enum. */
const char *isw_dist_name(isw_dist_t d);

/* The init part of a spec (the spec's `init` section). */
typedef struct {
    isw_dist_t dist;                     /* default he_normal */
    double scale;                        /* default 1 */
    double mean;                         /* offset added to every weight, default 0 */
    int bias;                            /* isw_bias_init_t, default zero */
    double bias_scale;                   /* init.bias: normal: sigma_b, default 1 */
    int last_dist;                       /* output layer: 0 = init.dist, else isw_dist_t + 1 */
    double last_scale;                   /* output layer's extra gain, default 1 */
    double sigma_w2;                     /* init.sigma_w2: Var(w) fan_in; NaN: not given */
    double sigma_b2;                     /* init.sigma_b2: Var(b); NaN: not given */
    int dist_set, bias_set;              /* init.dist / init.bias given since the last
                                          * validation (which checks and clears them) */
} isw_init_spec_t;

/* init.bias: drawn like the layer's weights, zero, or N(0, bias_scale^2). */
typedef enum { ISW_BIAS_SAME, ISW_BIAS_ZERO, ISW_BIAS_NORMAL, ISW_NBIAS_INITS } isw_bias_init_t;
const char *isw_bias_init_name(isw_bias_init_t b);
/* init.last_dist's names: "same", then the families. */
const char *isw_last_dist_name(int v);

/* 1 when a and b draw the same parameters from the same stream (every
 * field equal). */
int isw_init_spec_equal(const isw_init_spec_t *a, const isw_init_spec_t *b);

/* One weight from a uniform draw u in (0,1). */
double isw_init_value(const isw_init_spec_t *init, double u, size_t fan_in, size_t fan_out);

/* Standard deviation of the family (before the mean offset), for tests. */
double isw_init_stddev(const isw_init_spec_t *init, size_t fan_in, size_t fan_out);

/* The mean-field variances of a hidden layer of fan_in inputs and fan_out
 * units whose pre-activations are multiplied by alpha (mlp.h): sigma_w^2 =
 * alpha^2 Var(w) fan_in and sigma_b^2 = Var(b) (0 without biases). */
void isw_init_sigmas(const isw_init_spec_t *init, int bias, double alpha, size_t fan_in,
                     size_t fan_out, double *sigma_w2, double *sigma_b2);

/* Initialises all parameters of one lane of net from r (lane 0 of a net
 * with one).  scratch holds nparams doubles. */
void isw_init_params(isw_mlp_t *net, int lane, const isw_init_spec_t *init, gsl_rng *r,
                     double *scratch);

/* The run's RNG for a stream (ISW_STREAM_*) seeded from (base, seed) only. */
enum { ISW_STREAM_INIT = 1, ISW_STREAM_SHUFFLE = 2, ISW_STREAM_DATA = 3,
       ISW_STREAM_PROBE = 4 };
gsl_rng *isw_init_rng(uint64_t base_seed, uint64_t seed, int stream);

#endif
