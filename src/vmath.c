/* Elementwise exp, tanh and sigmoid over arrays (vmath.h), each written once
 * as an element function and compiled into loops for three instruction
 * sets.  The element functions are branch-free (both sides of a select are
 * computed), so the compiler vectorises the loops; bits move between float
 * and integer through memcpy.  This file is compiled with -ffp-contract=off
 * (CMakeLists.txt): every fused multiply-add is an explicit fma() call, so
 * the AVX-512, AVX2 and baseline loops round identically.
 *
 * exp(x), x clamped to [lo, hi] (beyond them the result is 0 or +inf):
 *   k = nearest integer to x log2(e), by adding and removing 1.5 2^(p-1)
 *       (p = 24 or 53 mantissa bits), whose low mantissa bits then hold k;
 *   r = x - k ln2 with ln2 split in two parts (Cody and Waite), |r| <= ln2/2;
 *   e^r by its Taylor series to r^7 (float: the next term is 5e-9 relative)
 *       or r^13 (double: 4e-18), in Horner form with fma;
 *   times 2^k as 2^h 2^(k-h), h = floor(k/2), so that 2^k below the normal
 *       range or at 2^128 / 2^1024 still scales in one rounding.
 * tanh(x) = sign(x) (1 - t) / (1 + t), t = e^(-2|x|), for |x| >= 0.55
 *   (there 1 - t does not cancel: t <= 0.33); below, x + x^3 P(x^2) with P
 *   the Chebyshev fit of scripts/vmath_coeffs.py (error in P 1.3e-8 for
 *   float, 7.7e-18 for double; times x^2 <= 0.3 relative to tanh).
 * sigmoid(x) = n / (1 + e), e = e^(-|x|), n = 1 for x >= 0 and e below, so
 *   small results (x << 0, down to the subnormals) keep their accuracy.
 *
 * Measured maximum errors are in tests/unit/test_vmath.c; vmath.h states
 * the bounds. */
#include "initsweep/vmath.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ELEM static inline __attribute__((always_inline))

/* ---- float ---------------------------------------------------------------- */

ELEM uint32_t bits_f(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

ELEM float from_bits_f(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

ELEM float exp_f(float x)
{
    const float shift = 0x1.8p23f;
    float xc = x < -104.0f ? -104.0f : x > 89.0f ? 89.0f : x;     /* NaN passes */
    float ks = fmaf(xc, 0x1.715476p+0f, shift);
    float k = ks - shift;
    float r = fmaf(k, -0x1.62e4p-1f, xc);
    r = fmaf(k, -0x1.7f7d1cp-20f, r);
    float p = fmaf(r, 1.0f / 5040, 1.0f / 720);
    p = fmaf(p, r, 1.0f / 120);
    p = fmaf(p, r, 1.0f / 24);
    p = fmaf(p, r, 1.0f / 6);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    /* k in [-150, 128]; both halves are normal powers of two.  The integer
     * arithmetic is unsigned so a NaN's garbage k is still defined. */
    uint32_t ku = bits_f(ks) - bits_f(shift);
    uint32_t h = (uint32_t)((int32_t)ku >> 1);
    float s1 = from_bits_f((h + 127u) << 23);
    float s2 = from_bits_f((ku - h + 127u) << 23);
    float y = p * s1 * s2;
    return x != x ? x : y;
}

ELEM float tanh_f(float x)
{
    float a = fabsf(x);
    float t = exp_f(-2 * a);
    float big = (1 - t) / (1 + t);
    float u = a * a;
    float q = fmaf(u, -0x1.b13538p-8f, 0x1.5d220ep-6f);
    q = fmaf(q, u, -0x1.b9a044p-5f);
    q = fmaf(q, u, 0x1.110feap-3f);
    q = fmaf(q, u, -0x1.555554p-2f);
    float small = fmaf(a * u, q, a);
    return copysignf(a < 0.55f ? small : big, x);     /* odd, tanh(-0) = -0 */
}

ELEM float sigmoid_f(float x)
{
    float e = exp_f(-fabsf(x));
    float n = x >= 0 ? 1.0f : e;
    return n / (1 + e);
}

/* ---- double --------------------------------------------------------------- */

ELEM uint64_t bits_d(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

ELEM double from_bits_d(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

ELEM double exp_d(double x)
{
    const double shift = 0x1.8p52;
    double xc = x < -746.0 ? -746.0 : x > 710.0 ? 710.0 : x;
    double ks = fma(xc, 0x1.71547652b82fep+0, shift);
    double k = ks - shift;
    double r = fma(k, -0x1.62e42feep-1, xc);
    r = fma(k, -0x1.a39ef35793c76p-33, r);
    /* 1/k! for k = 13 .. 2, then 1, 1 */
    double p = fma(r, 1.0 / 6227020800.0, 1.0 / 479001600.0);
    p = fma(p, r, 1.0 / 39916800.0);
    p = fma(p, r, 1.0 / 3628800.0);
    p = fma(p, r, 1.0 / 362880.0);
    p = fma(p, r, 1.0 / 40320.0);
    p = fma(p, r, 1.0 / 5040.0);
    p = fma(p, r, 1.0 / 720.0);
    p = fma(p, r, 1.0 / 120.0);
    p = fma(p, r, 1.0 / 24.0);
    p = fma(p, r, 1.0 / 6.0);
    p = fma(p, r, 0.5);
    p = fma(p, r, 1.0);
    p = fma(p, r, 1.0);
    /* k in [-1076, 1024] */
    uint64_t ku = bits_d(ks) - bits_d(shift);
    uint64_t h = (uint64_t)((int64_t)ku >> 1);
    double s1 = from_bits_d((h + 1023u) << 52);
    double s2 = from_bits_d((ku - h + 1023u) << 52);
    double y = p * s1 * s2;
    return x != x ? x : y;
}

ELEM double tanh_d(double x)
{
    double a = fabs(x);
    double t = exp_d(-2 * a);
    double big = (1 - t) / (1 + t);
    double u = a * a;
    double q = fma(u, -0x1.59a834187ce22p-16, 0x1.64fd88e9900a5p-14);
    q = fma(q, u, -0x1.ec1091436eb2ap-13);
    q = fma(q, u, 0x1.34c5a8a996cd4p-11);
    q = fma(q, u, -0x1.7d97cfd138c28p-10);
    q = fma(q, u, 0x1.d6d339333f329p-9);
    q = fma(q, u, -0x1.226e32f00cf0cp-7);
    q = fma(q, u, 0x1.664f487713373p-6);
    q = fma(q, u, -0x1.ba1ba1b9fec84p-5);
    q = fma(q, u, 0x1.1111111111032p-3);
    q = fma(q, u, -0x1.5555555555555p-2);
    double small = fma(a * u, q, a);
    return copysign(a < 0.55 ? small : big, x);
}

ELEM double sigmoid_d(double x)
{
    double e = exp_d(-fabs(x));
    double n = x >= 0 ? 1.0 : e;
    return n / (1 + e);
}

/* ---- the loops, once per instruction set ---------------------------------- */

/* Arrays may be the same (in place) but must not overlap otherwise; the
 * loops read x[i] before writing y[i], so in place is safe without
 * restrict, and the compiler's runtime overlap check picks the vector
 * loop in both cases. */
#define ISW_VMATH_LOOP(ATTR, fn, elem, T)                                                     \
    ATTR static void fn(T *y, const T *x, size_t n)                                            \
    {                                                                                          \
        for (size_t i = 0; i < n; i++)                                                         \
            y[i] = elem(x[i]);                                                                 \
    }

#define ISW_VMATH_BUILD(ATTR, sfx)                                                             \
    ISW_VMATH_LOOP(ATTR, exp_f_##sfx, exp_f, float)                                            \
    ISW_VMATH_LOOP(ATTR, exp_d_##sfx, exp_d, double)                                           \
    ISW_VMATH_LOOP(ATTR, tanh_f_##sfx, tanh_f, float)                                          \
    ISW_VMATH_LOOP(ATTR, tanh_d_##sfx, tanh_d, double)                                         \
    ISW_VMATH_LOOP(ATTR, sigmoid_f_##sfx, sigmoid_f, float)                                    \
    ISW_VMATH_LOOP(ATTR, sigmoid_d_##sfx, sigmoid_d, double)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ISW_VMATH_X86 1
#if defined(__clang__)
#define ATTR_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#else
#define ATTR_AVX512                                                                            \
    __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512")))
#endif
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
ISW_VMATH_BUILD(ATTR_AVX512, avx512)
ISW_VMATH_BUILD(ATTR_AVX2, avx2)
#endif
ISW_VMATH_BUILD(, baseline)

/* ---- dispatch ------------------------------------------------------------- */

typedef struct {
    const char *name;
    void (*exp_f)(float *, const float *, size_t);
    void (*exp_d)(double *, const double *, size_t);
    void (*tanh_f)(float *, const float *, size_t);
    void (*tanh_d)(double *, const double *, size_t);
    void (*sigmoid_f)(float *, const float *, size_t);
    void (*sigmoid_d)(double *, const double *, size_t);
} vmath_build_t;

#define BUILD_ROW(sfx)                                                                         \
    {#sfx, exp_f_##sfx, exp_d_##sfx, tanh_f_##sfx, tanh_d_##sfx, sigmoid_f_##sfx, sigmoid_d_##sfx}

/* Best first; index = the isa number of vmath.h. */
static const vmath_build_t builds[ISW_VMATH_NISAS] = {
#ifdef ISW_VMATH_X86
    BUILD_ROW(avx512),
    BUILD_ROW(avx2),
#else
    {"avx512", 0, 0, 0, 0, 0, 0},
    {"avx2", 0, 0, 0, 0, 0, 0},
#endif
    BUILD_ROW(baseline),
};

static const vmath_build_t *current = &builds[ISW_VMATH_NISAS - 1];

const char *isw_vmath_isa_name(int isa)
{
    return isa >= 0 && isa < ISW_VMATH_NISAS ? builds[isa].name : "?";
}

int isw_vmath_isa_supported(int isa)
{
    if (isa < 0 || isa >= ISW_VMATH_NISAS || !builds[isa].exp_f)
        return 0;
#ifdef ISW_VMATH_X86
    __builtin_cpu_init();
    if (isa == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
    if (isa == 1)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return 1;
}

int isw_vmath_isa(void) { return (int)(current - builds); }

int isw_vmath_use(int isa)
{
    if (!isw_vmath_isa_supported(isa))
        return -1;
    current = &builds[isa];
    return 0;
}

/* At load time, before any thread exists: the best build, or the one
 * ISW_VMATH names.  An unknown or unsupported name keeps the best (results
 * are the same bits either way; the variable only changes speed). */
__attribute__((constructor)) static void vmath_select(void)
{
    int best = ISW_VMATH_NISAS - 1;
    for (int isa = ISW_VMATH_NISAS - 1; isa >= 0; isa--)
        if (isw_vmath_isa_supported(isa))
            best = isa;
    current = &builds[best];
    const char *want = getenv("ISW_VMATH");
    for (int isa = 0; want && isa < ISW_VMATH_NISAS; isa++)
        if (strcmp(want, builds[isa].name) == 0)
            isw_vmath_use(isa);
}

void isw_vexp_f(float *y, const float *x, size_t n) { current->exp_f(y, x, n); }
void isw_vexp_d(double *y, const double *x, size_t n) { current->exp_d(y, x, n); }
void isw_vtanh_f(float *y, const float *x, size_t n) { current->tanh_f(y, x, n); }
void isw_vtanh_d(double *y, const double *x, size_t n) { current->tanh_d(y, x, n); }
void isw_vsigmoid_f(float *y, const float *x, size_t n) { current->sigmoid_f(y, x, n); }
void isw_vsigmoid_d(double *y, const double *x, size_t n) { current->sigmoid_d(y, x, n); }
