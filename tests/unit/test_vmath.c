/* Tests of the vector transcendentals (vmath.h): maximum error in ulps
 * against a more precise libm (double libm for the float functions, long
 * double for the double ones) over a sweep of every magnitude, the special
 * values (+-0, +-inf, NaN, subnormals, overflow and underflow edges), and
 * the same bits from every build this CPU can run, at every length and in
 * place. */
#include "check.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>

#include "initsweep/vmath.h"

/* The bounds vmath.h documents. */
#define EXP_ULP 1.0
#define TANH_ULP 2.0
#define SIGMOID_ULP 3.0

static double ulp_f(double ref)
{
    float r = (float)fabs(ref);
    if (r >= FLT_MAX)
        return ldexp(1.0, 104);              /* ulp of the largest binade */
    return (double)nextafterf(r, INFINITY) - (double)r;
}

static long double ulp_d(long double ref)
{
    double r = (double)fabsl(ref);
    if (r >= DBL_MAX)
        return ldexpl(1.0L, 971);
    return (long double)nextafter(r, INFINITY) - (long double)r;
}

/* Error in ulps of y against ref.  Where ref rounds to an infinity (it
 * overflows the format) or y is one, only the same infinity is right. */
static double err_f(float y, double ref)
{
    if (isinf((float)ref) || isinf(y))
        return y == (float)ref ? 0 : INFINITY;
    return fabs((double)y - ref) / ulp_f(ref);
}

static double err_d(double y, long double ref)
{
    if (isinf((double)ref) || isinf(y))
        return y == (double)ref ? 0 : INFINITY;
    return (double)(fabsl((long double)y - ref) / ulp_d(ref));
}

static double ref_sigmoid_d(double x) { return 1 / (1 + exp(-x)); }
static long double ref_sigmoid_l(long double x) { return 1 / (1 + expl(-x)); }

typedef void (*vf_t)(float *, const float *, size_t);
typedef void (*vd_t)(double *, const double *, size_t);

/* Every float with bits = k * stride, both signs, NaNs left out. */
#define SWEEP_STRIDE 251u
#define CHUNK 4096

static double max_err_f(vf_t f, double (*ref)(double), const char *name, float lo, float hi)
{
    float *x = malloc(CHUNK * sizeof *x), *y = malloc(CHUNK * sizeof *y);
    double worst = 0;
    float worst_x = 0;
    size_t m = 0;
    for (uint64_t b = 0; b <= UINT32_MAX; b += SWEEP_STRIDE) {
        uint32_t u = (uint32_t)b;
        float v;
        memcpy(&v, &u, sizeof v);
        if (isnan(v) || !(v >= lo && v <= hi))
            continue;
        x[m++] = v;
        if (m == CHUNK || b + SWEEP_STRIDE > UINT32_MAX) {
            f(y, x, m);
            for (size_t i = 0; i < m; i++) {
                double e = err_f(y[i], ref((double)x[i]));
                if (!(e <= worst)) {
                    worst = e;
                    worst_x = x[i];
                }
            }
            m = 0;
        }
    }
    printf("%-10s float  max %.3f ulp at %a\n", name, worst, (double)worst_x);
    free(x);
    free(y);
    return worst;
}

/* Random doubles, uniform in the exponent over [2^-1074, hi] of both signs
 * (and uniform in [-8, 8], where tanh and sigmoid bend), 2 million. */
static double max_err_d(vd_t f, long double (*ref)(long double), const char *name, double hi)
{
    enum { N = 1 << 21 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < N; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;     /* xorshift64 */
        double u = (double)(s >> 11) * 0x1p-53;
        double v = i % 2 ? ldexp(1 + u, (int)(s % 1100) - 1075) : 16 * u - 8;
        if (v > hi)
            v = hi * u;
        x[i] = s & (1u << 20) ? -v : v;
    }
    f(y, x, N);
    double worst = 0, worst_x = 0;
    for (size_t i = 0; i < N; i++) {
        double e = err_d(y[i], ref((long double)x[i]));
        if (!(e <= worst)) {
            worst = e;
            worst_x = x[i];
        }
    }
    printf("%-10s double max %.3f ulp at %a\n", name, worst, worst_x);
    free(x);
    free(y);
    return worst;
}

static void test_accuracy(void)
{
    CHECK(max_err_f(isw_vexp_f, exp, "exp", -110, 100) <= EXP_ULP);
    CHECK(max_err_f(isw_vtanh_f, tanh, "tanh", -INFINITY, INFINITY) <= TANH_ULP);
    CHECK(max_err_f(isw_vsigmoid_f, ref_sigmoid_d, "sigmoid", -110, INFINITY) <= SIGMOID_ULP);
    CHECK(max_err_d(isw_vexp_d, expl, "exp", 720) <= EXP_ULP);
    CHECK(max_err_d(isw_vtanh_d, tanhl, "tanh", INFINITY) <= TANH_ULP);
    CHECK(max_err_d(isw_vsigmoid_d, ref_sigmoid_l, "sigmoid", 750) <= SIGMOID_ULP);
}

/* ---- special values ------------------------------------------------------- */

static float one_f(vf_t f, float x)
{
    float y;
    f(&y, &x, 1);
    return y;
}

static double one_d(vd_t f, double x)
{
    double y;
    f(&y, &x, 1);
    return y;
}

static void test_special_f(void)
{
    CHECK(one_f(isw_vexp_f, 0.0f) == 1.0f);
    CHECK(one_f(isw_vexp_f, -0.0f) == 1.0f);
    CHECK(one_f(isw_vexp_f, INFINITY) == INFINITY);
    CHECK(one_f(isw_vexp_f, -INFINITY) == 0.0f);
    CHECK(isnan(one_f(isw_vexp_f, NAN)));
    CHECK(isnan(one_f(isw_vexp_f, -NAN)));
    CHECK(one_f(isw_vexp_f, 89.0f) == INFINITY);               /* e^89 > FLT_MAX */
    CHECK(one_f(isw_vexp_f, 88.72f) < INFINITY);
    CHECK(one_f(isw_vexp_f, -104.0f) == 0.0f);
    float sub = one_f(isw_vexp_f, -100.0f);                     /* 3.7e-44, subnormal */
    CHECK(sub > 0 && sub < FLT_MIN && err_f(sub, exp(-100.0)) <= 1.0);
    CHECK(one_f(isw_vexp_f, 0x1p-149f) == 1.0f);                /* subnormal input */

    float tz = one_f(isw_vtanh_f, -0.0f);
    CHECK(tz == 0 && signbit(tz));
    CHECK(one_f(isw_vtanh_f, 0.0f) == 0 && !signbit(one_f(isw_vtanh_f, 0.0f)));
    CHECK(one_f(isw_vtanh_f, INFINITY) == 1.0f);
    CHECK(one_f(isw_vtanh_f, -INFINITY) == -1.0f);
    CHECK(one_f(isw_vtanh_f, 50.0f) == 1.0f);
    CHECK(isnan(one_f(isw_vtanh_f, NAN)));
    CHECK(one_f(isw_vtanh_f, 0x1p-149f) == 0x1p-149f);        /* tanh x = x for tiny x */
    CHECK(one_f(isw_vtanh_f, -0x1p-130f) == -0x1p-130f);
    CHECK(one_f(isw_vtanh_f, 0x1p-60f) == 0x1p-60f);

    CHECK(one_f(isw_vsigmoid_f, 0.0f) == 0.5f);
    CHECK(one_f(isw_vsigmoid_f, -0.0f) == 0.5f);
    CHECK(one_f(isw_vsigmoid_f, INFINITY) == 1.0f);
    CHECK(one_f(isw_vsigmoid_f, -INFINITY) == 0.0f);
    CHECK(isnan(one_f(isw_vsigmoid_f, NAN)));
    float sm = one_f(isw_vsigmoid_f, -95.0f);                   /* subnormal result */
    CHECK(sm > 0 && err_f(sm, ref_sigmoid_d(-95.0)) <= 1.0);
}

static void test_special_d(void)
{
    CHECK(one_d(isw_vexp_d, 0.0) == 1.0);
    CHECK(one_d(isw_vexp_d, -0.0) == 1.0);
    CHECK(one_d(isw_vexp_d, INFINITY) == INFINITY);
    CHECK(one_d(isw_vexp_d, -INFINITY) == 0.0);
    CHECK(isnan(one_d(isw_vexp_d, NAN)));
    CHECK(one_d(isw_vexp_d, 709.8) == INFINITY);
    CHECK(one_d(isw_vexp_d, 709.78) < INFINITY);
    CHECK(one_d(isw_vexp_d, -746.0) == 0.0);
    double sub = one_d(isw_vexp_d, -740.0);
    CHECK(sub > 0 && sub < DBL_MIN && err_d(sub, expl(-740.0L)) <= 1.0);
    CHECK(one_d(isw_vexp_d, 0x1p-1074) == 1.0);

    double tz = one_d(isw_vtanh_d, -0.0);
    CHECK(tz == 0 && signbit(tz));
    CHECK(one_d(isw_vtanh_d, INFINITY) == 1.0);
    CHECK(one_d(isw_vtanh_d, -INFINITY) == -1.0);
    CHECK(isnan(one_d(isw_vtanh_d, NAN)));
    CHECK(one_d(isw_vtanh_d, 0x1p-1074) == 0x1p-1074);
    CHECK(one_d(isw_vtanh_d, -0x1p-600) == -0x1p-600);

    CHECK(one_d(isw_vsigmoid_d, 0.0) == 0.5);
    CHECK(one_d(isw_vsigmoid_d, INFINITY) == 1.0);
    CHECK(one_d(isw_vsigmoid_d, -INFINITY) == 0.0);
    CHECK(isnan(one_d(isw_vsigmoid_d, NAN)));
    double sm = one_d(isw_vsigmoid_d, -740.0);
    CHECK(sm > 0 && err_d(sm, ref_sigmoid_l(-740.0L)) <= 1.0);
}

/* ---- the same bits from every build --------------------------------------- */

static void test_builds_agree(void)
{
    enum { N = 1 << 16 };
    float *xf = malloc(N * sizeof *xf), *ref_f = malloc(N * sizeof *ref_f),
          *yf = malloc(N * sizeof *yf);
    double *xd = malloc(N * sizeof *xd), *ref_d = malloc(N * sizeof *ref_d),
           *yd = malloc(N * sizeof *yd);
    uint64_t s = 12345;
    for (size_t i = 0; i < N; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double v = ldexp((double)(s >> 11) * 0x1p-53, (int)(s % 24) - 14) * 64;
        xf[i] = (float)(s & 1 ? -v : v);
        xd[i] = s & 1 ? -v : v;
    }
    xf[0] = NAN, xf[1] = INFINITY, xf[2] = -INFINITY, xf[3] = -0.0f, xf[4] = 0x1p-140f;
    xd[0] = NAN, xd[1] = INFINITY, xd[2] = -INFINITY, xd[3] = -0.0, xd[4] = 0x1p-1060;

    const vf_t ff[3] = {isw_vexp_f, isw_vtanh_f, isw_vsigmoid_f};
    const vd_t fd[3] = {isw_vexp_d, isw_vtanh_d, isw_vsigmoid_d};
    int base = ISW_VMATH_NISAS - 1, was = isw_vmath_isa();
    CHECK_STR(isw_vmath_isa_name(base), "baseline");
    CHECK(isw_vmath_isa_supported(base));
    CHECK(isw_vmath_use(-1) == -1 && isw_vmath_use(ISW_VMATH_NISAS) == -1);
    CHECK(isw_vmath_isa() == was);
    for (int fn = 0; fn < 3; fn++) {
        CHECK(isw_vmath_use(base) == 0);
        ff[fn](ref_f, xf, N);
        fd[fn](ref_d, xd, N);
        for (int isa = 0; isa < base; isa++) {
            if (!isw_vmath_isa_supported(isa)) {
                printf("build %s: not supported by this CPU, not compared\n",
                       isw_vmath_isa_name(isa));
                continue;
            }
            CHECK(isw_vmath_use(isa) == 0);
            CHECK_INT(isw_vmath_isa(), isa);
            /* every length up to 37 (vector remainders), then the whole */
            for (size_t n = 1; n <= 37; n++) {
                ff[fn](yf, xf + 5, n);
                fd[fn](yd, xd + 5, n);
                CHECK(memcmp(yf, ref_f + 5, n * sizeof *yf) == 0);
                CHECK(memcmp(yd, ref_d + 5, n * sizeof *yd) == 0);
            }
            ff[fn](yf, xf, N);
            fd[fn](yd, xd, N);
            CHECK(memcmp(yf, ref_f, N * sizeof *yf) == 0);
            CHECK(memcmp(yd, ref_d, N * sizeof *yd) == 0);
            /* in place */
            memcpy(yf, xf, N * sizeof *yf);
            memcpy(yd, xd, N * sizeof *yd);
            ff[fn](yf, yf, N);
            fd[fn](yd, yd, N);
            CHECK(memcmp(yf, ref_f, N * sizeof *yf) == 0);
            CHECK(memcmp(yd, ref_d, N * sizeof *yd) == 0);
        }
    }
    CHECK(isw_vmath_use(was) == 0);
    free(xf), free(ref_f), free(yf), free(xd), free(ref_d), free(yd);
}

int main(void)
{
    printf("builds: in use %s\n", isw_vmath_isa_name(isw_vmath_isa()));
    test_accuracy();
    test_special_f();
    test_special_d();
    test_builds_agree();
    return CHECK_DONE();
}
