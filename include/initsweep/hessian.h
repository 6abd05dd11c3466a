/* Curvature of the loss: exact Hessian-vector products and the top of the
 * Hessian's spectrum, always in double.
 *
 * H v comes from Pearlmutter's R-operator (forward-over-reverse): one
 * forward pass carries the directional derivatives R{Z}, R{H} of every
 * layer along v, and one backward pass carries R{dZ}, giving H v of the
 * mean loss exactly (to double rounding, with relu's second derivative 0
 * away from the kink, as automatic differentiation has it).  No finite
 * differences: a float-precision net's curvature is the curvature of its
 * parameters read into double, not a difference of two float gradients
 * (which lost 2-3 orders of magnitude on wide nets).
 *
 * The parameter vector is one lane's, in mlp.h's woff/boff order (W_0, b_0,
 * W_1, ...), as isw_mlp_params_get_lane gives it. */
#ifndef ISW_HESSIAN_H
#define ISW_HESSIAN_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "initsweep/data.h"
#include "initsweep/mlp.h"

/* Top eigenvalue estimators (train.sharpness_method). */
typedef enum { ISW_SHARP_POWER, ISW_SHARP_LANCZOS, ISW_NSHARP_METHODS } isw_sharp_method_t;
const char *isw_sharp_method_name(isw_sharp_method_t m);

typedef struct {
    /* the model's shape, from the net it was made for */
    int L;
    int width[ISW_MAX_LAYERS + 1];
    isw_act_t act;
    isw_out_t out;
    isw_loss_t loss;
    int bias;
    double slope, alpha[ISW_MAX_LAYERS];
    size_t woff[ISW_MAX_LAYERS], boff[ISW_MAX_LAYERS];
    size_t nparams, chunk, maxw;
    /* (chunk, width) row-major each: inputs, targets, pre-activations,
     * activations and their directional derivatives R{Z}, R{H} */
    double *X, *Y, *Z[ISW_MAX_LAYERS], *H[ISW_MAX_LAYERS], *RZ[ISW_MAX_LAYERS],
        *RH[ISW_MAX_LAYERS];
    /* (chunk, maxw) each: dZ, R{dZ} of the layer being done and dH, R{dH}
     * of the one below */
    double *G, *RG, *dH, *RdH;
    double *vec;                         /* (5 * nparams): the estimators' vectors */
    /* The metric of the step: with per-layer learning rates p_l (lr
     * multipliers, the parameterisation's factors) gradient descent is
     * stable on a quadratic iff lr * lambda_max(P^1/2 H P^1/2) < 2, so the
     * estimators work on that matrix.  sqrt(p_l) per weight layer; all 1
     * (precond 0) by default. */
    double psqrt[ISW_MAX_LAYERS];
    int precond;
    double *lanczos;                     /* (iters * nparams) Lanczos basis, or NULL */
    double *tri;                         /* (4 * iters) its tridiagonal's two diagonals,
                                          * Ritz values, top eigenvector of T */
    int lanczos_iters;
    double *block;                       /* the one allocation of the buffers */
} isw_hess_t;

/* A workspace for nets shaped like `net` (its lanes do not matter), for
 * evaluation chunks of up to `chunk` rows; lanczos_iters > 0 also holds a
 * basis of that many vectors.  ISW_ENOMEM when memory is short. */
int isw_hess_alloc(isw_hess_t *h, const isw_mlp_t *net, size_t chunk, int lanczos_iters);
void isw_hess_free(isw_hess_t *h);

/* hv (nparams) = H v, the Hessian of the mean loss over the first n rows
 * of data at parameters theta, applied to v; g (nparams, or NULL) the
 * gradient there.  Returns the mean loss. */
double isw_hess_vec(isw_hess_t *h, const isw_data_t *data, size_t n, const double *theta,
                    const double *v, double *hv, double *g);

/* isw_hess_vec on the rows idx[0..n) of data. */
double isw_hess_vec_rows(isw_hess_t *h, const isw_data_t *data, const size_t *idx, size_t n,
                         const double *theta, const double *v, double *hv, double *g);

/* Batch sharpness (Andreyev & Beneventano 2024): the mean over nbatches
 * mini-batches (rows idx[b*B .. (b+1)*B)) of the mini-batch loss's
 * curvature along its own step, d^T H_B d / g_B^T d with d = P g_B (P the
 * metric's per-layer lr factors; plain g^T H g / |g|^2 without one): the
 * quantity that SGD drives to 2 / lr.  NaN when not finite. */
double isw_hess_batch_sharpness(isw_hess_t *h, const isw_data_t *data, const size_t *idx,
                                size_t B, size_t nbatches, const double *theta);

/* The per-layer learning-rate factors p[0..L) of the step (NULL: all 1):
 * isw_hess_top then works on P^1/2 H P^1/2. */
void isw_hess_set_metric(isw_hess_t *h, const double *p);

/* The top (algebraically largest) eigenvalue of H at theta (of
 * P^1/2 H P^1/2 with a metric).
 * power: `iters` power iterations on H; when the eigenvalue largest in
 * magnitude is negative, as many again on H - mu I finds the top.
 * lanczos: `iters` Lanczos steps with full reorthogonalisation (iters <=
 * the workspace's lanczos_iters), the largest Ritz value; top[0..ntop)
 * (may be NULL) get the largest ntop Ritz values, descending (NaN past the
 * Krylov space's dimension).
 * The start vector is r's uniform draws, or with warm the last call's
 * eigenvector (a sharpness tracked during training moves little between
 * probes).  NaN when H v is not finite. */
double isw_hess_top(isw_hess_t *h, const isw_data_t *data, size_t n, const double *theta,
                    isw_sharp_method_t method, int iters, gsl_rng *r, int warm, double *top,
                    int ntop);

#endif
