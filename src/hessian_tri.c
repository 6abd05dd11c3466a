/* The Lanczos tridiagonal's eigenpairs by GSL (hessian_internal.h). */
#include "hessian_internal.h"

#include <gsl/gsl_eigen.h>

#include "initsweep/common.h"

int isw_hess_tridiag_eigen(double *ev, double *y, const double *a, const double *b, size_t m)
{
    gsl_matrix *T = gsl_matrix_calloc(m, m), *Y = gsl_matrix_alloc(m, m);
    gsl_vector *e = gsl_vector_alloc(m);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(m);
    int st = ISW_ENOMEM;
    if (T && Y && e && ws) {
        for (size_t i = 0; i < m; i++) {
            gsl_matrix_set(T, i, i, a[i]);
            if (i + 1 < m) {
                gsl_matrix_set(T, i, i + 1, b[i]);
                gsl_matrix_set(T, i + 1, i, b[i]);
            }
        }
        gsl_eigen_symmv(T, e, Y, ws);
        gsl_eigen_symmv_sort(e, Y, GSL_EIGEN_SORT_VAL_DESC);
        for (size_t i = 0; i < m; i++) {
            ev[i] = gsl_vector_get(e, i);
            y[i] = gsl_matrix_get(Y, i, 0);
        }
        st = ISW_OK;
    }
    if (ws)
        gsl_eigen_symmv_free(ws);
    if (e)
        gsl_vector_free(e);
    if (Y)
        gsl_matrix_free(Y);
    if (T)
        gsl_matrix_free(T);
    return st;
}
