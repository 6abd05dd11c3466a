/* Mean-field fixed points by Gauss-Hermite quadrature (meanfield.h). */
#include "initsweep/meanfield.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_integration.h>

static double phi(isw_act_t a, double leaky, double x)
{
    switch (a) {
    case ISW_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case ISW_ACT_TANH: return tanh(x);
    case ISW_ACT_RELU: return x > 0 ? x : 0;
    case ISW_ACT_LEAKY_RELU: return x > 0 ? x : leaky * x;
    default: return x;
    }
}

static double dphi(isw_act_t a, double leaky, double x)
{
    switch (a) {
    case ISW_ACT_SIGMOID: {
        double s = 1 / (1 + exp(-x));
        return s * (1 - s);
    }
    case ISW_ACT_TANH: {
        double t = tanh(x);
        return 1 - t * t;
    }
    case ISW_ACT_RELU: return x > 0;
    case ISW_ACT_LEAKY_RELU: return x > 0 ? 1 : leaky;
    default: return 1;
    }
}

/* Standard normal nodes and weights: E[f(z)] = sum w[i] f(z[i]). */
typedef struct {
    double z[ISW_MF_NODES], w[ISW_MF_NODES];
} rule_t;

static int make_rule(rule_t *r)
{
    gsl_integration_fixed_workspace *ws =
        gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, ISW_MF_NODES, 0.0, 1.0, 0.0, 0.0);
    if (!ws)
        return ISW_ENOMEM;
    const double *x = gsl_integration_fixed_nodes(ws), *w = gsl_integration_fixed_weights(ws);
    /* the rule integrates against exp(-x^2): z = sqrt(2) x, weight / sqrt(pi) */
    for (int i = 0; i < ISW_MF_NODES; i++) {
        r->z[i] = M_SQRT2 * x[i];
        r->w[i] = w[i] / sqrt(M_PI);
    }
    gsl_integration_fixed_free(ws);
    return ISW_OK;
}

/* E[g(phi or phi')(u1) (.)(u2)] with u1 = s z1, u2 = s (c z1 + sqrt(1 - c^2) z2). */
static double expect2(const rule_t *r, isw_act_t a, double leaky, double s, double c, int deriv)
{
    double sc = sqrt(fmax(0, 1 - c * c)), sum = 0;
    for (int i = 0; i < ISW_MF_NODES; i++) {
        double u1 = s * r->z[i];
        double f1 = deriv ? dphi(a, leaky, u1) : phi(a, leaky, u1), inner = 0;
        for (int j = 0; j < ISW_MF_NODES; j++) {
            double u2 = s * (c * r->z[i] + sc * r->z[j]);
            inner += r->w[j] * (deriv ? dphi(a, leaky, u2) : phi(a, leaky, u2));
        }
        sum += r->w[i] * f1 * inner;
    }
    return sum;
}

/* One step of the length map: sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2. */
static double length_step(const rule_t *r, isw_act_t act, double leaky, double sigma_w2,
                          double sigma_b2, double q)
{
    double s = sqrt(q), e = 0;
    for (int i = 0; i < ISW_MF_NODES; i++) {
        double f = phi(act, leaky, s * r->z[i]);
        e += r->w[i] * f * f;
    }
    return sigma_w2 * e + sigma_b2;
}

/* The length map's fixed point q* (+inf if none) and chi_1 with rule r. */
static void length_map(const rule_t *r, isw_act_t act, double leaky, double sigma_w2,
                       double sigma_b2, double *q_star, double *chi1)
{
    /* monotone from q = 1, to q* or off to infinity */
    double q = 1, next = 1;
    int finite = 0;
    for (int it = 0; it < 100000 && q < 1e12; it++) {
        next = length_step(r, act, leaky, sigma_w2, sigma_b2, q);
        if (fabs(next - q) <= 1e-13 * (1 + q)) {
            q = next;
            finite = 1;
            break;
        }
        if (it + 1 < 100000)
            q = next;
    }
    /* Still falling after the iterations: the approach is algebraic, not
     * geometric (the map touches the diagonal, e.g. tanh at sigma_w2 = 1
     * without biases, where q_l ~ 1/(2l)).  A fixed point lies in [0, q):
     * 0 itself when the map fixes it (no biases, phi(0) = 0), else the
     * root of map(q) - q found by bisection. */
    if (!finite && next < q) {
        double g0 = length_step(r, act, leaky, sigma_w2, sigma_b2, 0);
        if (g0 == 0) {
            q = 0;
        } else {
            double lo = 0, hi = q;       /* map - q: > 0 at lo, < 0 at hi */
            for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
                double mid = 0.5 * (lo + hi);
                if (length_step(r, act, leaky, sigma_w2, sigma_b2, mid) > mid)
                    lo = mid;
                else
                    hi = mid;
            }
            q = 0.5 * (lo + hi);
        }
        finite = 1;
    }
    *q_star = finite ? q : INFINITY;
    *chi1 = NAN;
    if (!finite)
        return;
    double s = sqrt(q), e = 0;
    for (int i = 0; i < ISW_MF_NODES; i++) {
        double d = dphi(act, leaky, s * r->z[i]);
        e += r->w[i] * d * d;
    }
    *chi1 = sigma_w2 * e;
}

/* The arguments checked and the quadrature rule made (*r freed by the caller). */
static int start(rule_t **r, double sigma_w2, double sigma_b2)
{
    *r = NULL;
    if (!(sigma_w2 >= 0) || !(sigma_b2 >= 0))
        return ISW_EINVAL;
    *r = malloc(sizeof **r);
    if (!*r || make_rule(*r) != ISW_OK) {
        free(*r);
        *r = NULL;
        return ISW_ENOMEM;
    }
    return ISW_OK;
}

int isw_meanfield_length(double *q_star, double *chi1, isw_act_t act, double leaky,
                         double sigma_w2, double sigma_b2)
{
    *q_star = *chi1 = NAN;
    rule_t *r;
    int st = start(&r, sigma_w2, sigma_b2);
    if (st != ISW_OK)
        return st;
    length_map(r, act, leaky, sigma_w2, sigma_b2, q_star, chi1);
    free(r);
    return ISW_OK;
}

int isw_meanfield(isw_meanfield_t *out, isw_act_t act, double leaky, double sigma_w2,
                  double sigma_b2)
{
    out->q_star = out->chi1 = out->c_star = out->chi_c = out->xi_c = NAN;
    rule_t *r;
    int st = start(&r, sigma_w2, sigma_b2);
    if (st != ISW_OK)
        return st;
    double q;
    length_map(r, act, leaky, sigma_w2, sigma_b2, &q, &out->chi1);
    out->q_star = q;
    if (isinf(q)) {
        out->xi_c = INFINITY;
        free(r);
        return ISW_OK;
    }
    double s = sqrt(q);
    if (q <= 0) {                         /* sigma_b2 = 0 and an odd map: all zero */
        out->c_star = 1;
        out->chi_c = out->chi1;
    } else if (out->chi1 <= 1) {
        out->c_star = 1;                  /* ordered: c = 1 is the stable fixed point */
        out->chi_c = out->chi1;
    } else {
        double c = 0.5;                   /* chaotic: iterate to c* < 1 */
        for (int it = 0; it < 2000; it++) {
            double next = (sigma_w2 * expect2(r, act, leaky, s, c, 0) + sigma_b2) / q;
            next = fmin(next, 1.0);
            if (fabs(next - c) < 1e-12) {
                c = next;
                break;
            }
            c = next;
        }
        out->c_star = c;
        out->chi_c = sigma_w2 * expect2(r, act, leaky, s, c, 1);
    }
    out->xi_c = out->chi_c < 1 && out->chi_c > 0 ? -1 / log(out->chi_c) : INFINITY;
    free(r);
    return ISW_OK;
}
