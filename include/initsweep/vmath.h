/* Elementwise transcendentals over arrays, float and double: exp, tanh and
 * the logistic sigmoid.  They are most of a small tanh or sigmoid network's
 * step, and libm's scalar versions do not vectorise.
 *
 * One algorithm per function, compiled for AVX-512, AVX2+FMA and the x86-64
 * baseline; the best one the CPU supports is chosen at load time (cpuid), so
 * a binary built anywhere runs on any x86-64 node.  Every build of a
 * function does the same IEEE operations in the same order (fused
 * multiply-adds through fma(), never contracted by the compiler), so all of
 * them give the same bits: results do not depend on the node a run lands
 * on.  The baseline build calls libm's fma and is slow; it exists for old
 * CPUs and as the reference the tests compare against.
 *
 * Accuracy against the correctly rounded value (tests/unit/test_vmath.c
 * measures it; analysis in src/vmath.c):
 *   exp      float <= 1 ulp, double <= 1 ulp (subnormal results: 1 ulp of
 *            the subnormal);  overflow gives +inf, underflow 0
 *   tanh     float <= 2 ulp, double <= 2 ulp;  tanh(+-inf) = +-1, odd
 *            (tanh(-0) = -0)
 *   sigmoid  1 / (1 + exp(-x)): float <= 3 ulp, double <= 3 ulp;
 *            sigmoid(-inf) = 0, sigmoid(+inf) = 1
 * NaN in gives NaN out.  y may equal x (in place); otherwise the arrays
 * must not overlap.  n may be 0. */
#ifndef ISW_VMATH_H
#define ISW_VMATH_H

#include <stddef.h>

void isw_vexp_f(float *y, const float *x, size_t n);
void isw_vexp_d(double *y, const double *x, size_t n);
void isw_vtanh_f(float *y, const float *x, size_t n);
void isw_vtanh_d(double *y, const double *x, size_t n);
void isw_vsigmoid_f(float *y, const float *x, size_t n);
void isw_vsigmoid_d(double *y, const double *x, size_t n);

/* The builds, best first: "avx512", "avx2", "baseline". */
enum { ISW_VMATH_NISAS = 3 };
const char *isw_vmath_isa_name(int isa);
/* 1 when this CPU can run build isa. */
int isw_vmath_isa_supported(int isa);
/* The build in use: the best supported one, or the one the environment
 * variable ISW_VMATH names (if this CPU supports it). */
int isw_vmath_isa(void);
/* Switches to build isa; returns 0, or -1 (nothing changed) when isa is
 * unknown or this CPU cannot run it.  For tests and benchmarks; not thread
 * safe with concurrent calls of the functions above. */
int isw_vmath_use(int isa);

#endif
