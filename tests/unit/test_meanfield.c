/* Mean-field fixed points (meanfield.h) against closed forms (linear and
 * ReLU nets: q* = sigma_b2 / (1 - sigma_w2 E[phi'^2]), chi_1 = sigma_w2
 * and sigma_w2 / 2), against adaptive quadrature of the tanh length map,
 * and against the published tanh numbers at sigma_b2 = 0.05: chi_1 = 0.759,
 * 0.939, 1.00, 1.134, 1.342 at sigma_w2 = 1, 1.5, 1.76, 2.5, 4, the
 * order-chaos line at sigma_w2 = 1.761 with q* = 0.570. */
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include "check.h"
#include "initsweep/meanfield.h"

static double tanh_sq(double z, void *p)
{
    double q = *(const double *)p, t = tanh(sqrt(q) * z);
    return t * t * exp(-z * z / 2) / sqrt(2 * M_PI);
}

static void test_closed_forms(void)
{
    isw_meanfield_t m;
    CHECK_INT(isw_meanfield(&m, ISW_ACT_LINEAR, 0, 0.8, 0.1), ISW_OK);
    CHECK_NEAR(m.q_star, 0.1 / (1 - 0.8), 1e-10);
    CHECK_NEAR(m.chi1, 0.8, 1e-12);
    CHECK_NEAR(m.c_star, 1, 0);
    CHECK_NEAR(m.xi_c, -1 / log(0.8), 1e-9);
    CHECK_INT(isw_meanfield(&m, ISW_ACT_RELU, 0, 1.5, 0.1), ISW_OK);
    CHECK_NEAR(m.q_star, 0.1 / (1 - 0.75), 1e-10);    /* E[relu(sqrt(q) z)^2] = q / 2 */
    CHECK_NEAR(m.chi1, 0.75, 1e-12);                  /* sigma_w2 P(z > 0) */
    CHECK_INT(isw_meanfield(&m, ISW_ACT_LEAKY_RELU, 0.1, 1.5, 0.1), ISW_OK);
    CHECK_NEAR(m.chi1, 1.5 * (1 + 0.01) / 2, 1e-12);
    CHECK_NEAR(m.q_star, 0.1 / (1 - 1.5 * (1 + 0.01) / 2), 1e-10);
    /* ReLU past sigma_w2 = 2: the length map has no finite fixed point */
    CHECK_INT(isw_meanfield(&m, ISW_ACT_RELU, 0, 2.5, 0.1), ISW_OK);
    CHECK(isinf(m.q_star) && isinf(m.xi_c) && isnan(m.chi1));
    /* tanh without biases: q* = 0, chi_1 = sigma_w2 (tanh'(0) = 1), and at
     * sigma_w2 = 1 the map touches the diagonal (q_l ~ 1/(2l)): still a
     * fixed point at 0, the critical line, xi_c infinite */
    CHECK_INT(isw_meanfield(&m, ISW_ACT_TANH, 0, 1.0, 0), ISW_OK);
    CHECK(m.q_star == 0 && m.c_star == 1 && isinf(m.xi_c));
    CHECK_NEAR(m.chi1, 1.0, 1e-12);
    CHECK_INT(isw_meanfield(&m, ISW_ACT_TANH, 0, 0.5, 0), ISW_OK);
    CHECK(m.q_star < 1e-12);
    CHECK_NEAR(m.chi1, 0.5, 1e-9);
    CHECK_NEAR(m.xi_c, 1 / log(2.0), 1e-8);
    /* a tiny bias at sigma_w2 = 1: the slow approach ends in bisection, and
     * q* is a fixed point of the map (computed here by adaptive quadrature) */
    CHECK_INT(isw_meanfield(&m, ISW_ACT_TANH, 0, 1.0, 1e-4), ISW_OK);
    CHECK(m.q_star > 0 && m.q_star < 0.1);
    {
        gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
        gsl_function f = {tanh_sq, &m.q_star};
        double e, abserr;
        gsl_integration_qagi(&f, 1e-14, 1e-12, 1000, ws, &e, &abserr);
        CHECK_NEAR(e + 1e-4, m.q_star, 1e-9 * m.q_star);
        gsl_integration_workspace_free(ws);
    }
    CHECK_INT(isw_meanfield(&m, ISW_ACT_TANH, 0, -1, 0.1), ISW_EINVAL);
    CHECK_INT(isw_meanfield(&m, ISW_ACT_TANH, 0, 1, NAN), ISW_EINVAL);
}

static void test_tanh(void)
{
    const double sw2[] = {1.0, 1.5, 1.76, 2.5, 4.0}, chi[] = {0.759, 0.939, 1.00, 1.134, 1.342};
    for (int i = 0; i < 5; i++) {
        isw_meanfield_t m;
        CHECK_INT(isw_meanfield(&m, ISW_ACT_TANH, 0, sw2[i], 0.05), ISW_OK);
        CHECK_NEAR(m.chi1, chi[i], 0.0015);
        /* q* is the length map's fixed point, by adaptive quadrature */
        gsl_integration_workspace *ws = gsl_integration_workspace_alloc(200);
        gsl_function f = {tanh_sq, &m.q_star};
        double e, abserr;
        CHECK_INT(gsl_integration_qagi(&f, 1e-13, 1e-12, 200, ws, &e, &abserr), GSL_SUCCESS);
        gsl_integration_workspace_free(ws);
        CHECK_NEAR(sw2[i] * e + 0.05, m.q_star, 1e-9);
        if (m.chi1 > 1.001) {             /* chaotic: two inputs decorrelate */
            CHECK(m.c_star < 1 && m.chi_c < 1 && isfinite(m.xi_c));
        } else if (m.chi1 < 0.999) {
            CHECK_NEAR(m.c_star, 1, 0);
            CHECK_NEAR(m.xi_c, -1 / log(m.chi1), 1e-9);
        }
    }
    /* the order-chaos line: chi_1 = 1 */
    double lo = 1, hi = 3;
    for (int k = 0; k < 60; k++) {
        double mid = (lo + hi) / 2, q, chi1;
        isw_meanfield_length(&q, &chi1, ISW_ACT_TANH, 0, mid, 0.05);
        if (chi1 < 1)
            lo = mid;
        else
            hi = mid;
    }
    isw_meanfield_t m;
    CHECK_INT(isw_meanfield(&m, ISW_ACT_TANH, 0, lo, 0.05), ISW_OK);
    CHECK_NEAR(lo, 1.761, 0.001);
    CHECK_NEAR(m.q_star, 0.570, 0.001);
    CHECK(m.xi_c > 1000);                 /* the depth scale diverges there */
}

int main(void)
{
    test_closed_forms();
    test_tanh();
    return CHECK_DONE();
}
