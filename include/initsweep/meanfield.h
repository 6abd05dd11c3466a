/* Mean-field signal propagation at init (Poole et al. 2016, Schoenholz et
 * al. 2017): a deep, wide net whose weights are N(0, sigma_w2 / fan_in) and
 * biases N(0, sigma_b2) carries an input's pre-activation variance q and two
 * inputs' correlation c through the layers by
 *   q' = sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2              (z ~ N(0, 1))
 *   c' = (sigma_w2 E[phi(u1) phi(u2)] + sigma_b2) / q*,
 *        u1 = sqrt(q*) z1, u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2),
 * with fixed points q* and c*.  chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2] is the
 * slope of the c-map at c = 1 and the per-layer factor of the squared
 * gradient norm: chi_1 < 1 ordered (c* = 1, gradients vanish), > 1 chaotic
 * (c* < 1, they explode).  chi_c = sigma_w2 E[phi'(u1) phi'(u2)] at c*, and
 * the depth scale of correlations is xi_c = -1 / ln chi_c (= -1 / ln chi_1
 * in the ordered phase; infinite at the order-chaos line chi_1 = 1).
 * Expectations by Gauss-Hermite quadrature (GSL, ISW_MF_NODES nodes per
 * dimension). */
#ifndef ISW_MEANFIELD_H
#define ISW_MEANFIELD_H

#include "initsweep/mlp.h"

#define ISW_MF_NODES 160

typedef struct {
    double q_star;       /* +inf when the length map has no finite fixed point */
    double chi1;
    double c_star;       /* 1 in the ordered phase */
    double chi_c;
    double xi_c;         /* +inf at chi_c >= 1 */
} isw_meanfield_t;

/* The fixed points and slopes for activation act (leaky: its negative
 * slope) at (sigma_w2, sigma_b2).  ISW_EINVAL for negative variances;
 * ISW_ENOMEM when the quadrature cannot be allocated. */
int isw_meanfield(isw_meanfield_t *out, isw_act_t act, double leaky, double sigma_w2,
                  double sigma_b2);

/* The length map alone (cheap: no correlation map): q* and chi_1. */
int isw_meanfield_length(double *q_star, double *chi1, isw_act_t act, double leaky,
                         double sigma_w2, double sigma_b2);

#endif
