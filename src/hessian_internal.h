/* Between hessian.c, which calls OpenBLAS's cblas.h, and hessian_tri.c,
 * which calls GSL: the two cblas headers cannot meet in one file. */
#ifndef ISW_HESSIAN_INTERNAL_H
#define ISW_HESSIAN_INTERNAL_H

#include <stddef.h>

/* Eigenvalues of the symmetric tridiagonal T (m, m) with diagonal a (m)
 * and off-diagonal b (m - 1), descending, into ev (m); y (m), the unit
 * eigenvector of the largest.  ISW_ENOMEM when GSL's workspace cannot be
 * had. */
int isw_hess_tridiag_eigen(double *ev, double *y, const double *a, const double *b, size_t m);

#endif
