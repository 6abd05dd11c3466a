/* Exact Hessian-vector products by the R-operator, and the top of the
 * spectrum by power iteration or Lanczos (hessian.h).
 *
 * With the forward of mlp.h, Z_l = alpha_l H_{l-1} W_l^T + b_l, H_l =
 * f(Z_l) (H_{-1} = X), and a direction v = (V_l, c_l), the R-forward is
 *     R{Z_l} = alpha_l (R{H_{l-1}} W_l^T + H_{l-1} V_l^T) + c_l,
 *     R{H_l} = f'(Z_l) R{Z_l}                       (R{H_{-1}} = 0),
 * and with G_l = d loss / d Z_l the backward and its R-image are
 *     dW_l = alpha_l G_l^T H_{l-1},  R{dW_l} = alpha_l (R{G_l}^T H_{l-1} + G_l^T R{H_{l-1}}),
 *     dH   = alpha_l G_l W_l,        R{dH}   = alpha_l (R{G_l} W_l + G_l V_l),
 *     G_{l-1} = f'(Z_{l-1}) dH,      R{G_{l-1}} = f' R{dH} + f''(Z_{l-1}) R{Z_{l-1}} dH.
 * R{dW_l}, R{db_l} summed over the rows (and scaled by 1/n) are H v.  The
 * output layer's G and R{G} depend on the output and the loss (out_delta).
 * This is the only module besides mlp.c that calls BLAS, in double only. */
#include "initsweep/hessian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "hessian_internal.h"

static const char *const method_names[ISW_NSHARP_METHODS] = {"power", "lanczos"};

const char *isw_sharp_method_name(isw_sharp_method_t m)
{
    return m >= 0 && m < ISW_NSHARP_METHODS ? method_names[m] : "?";
}

void isw_hess_free(isw_hess_t *h)
{
    free(h->block);
    memset(h, 0, sizeof *h);
}

int isw_hess_alloc(isw_hess_t *h, const isw_mlp_t *net, size_t chunk, int lanczos_iters)
{
    memset(h, 0, sizeof *h);
    h->L = net->L;
    memcpy(h->width, net->width, sizeof h->width);
    h->act = net->act;
    h->out = net->out;
    h->loss = net->loss;
    h->bias = net->bias;
    h->slope = net->leaky_slope;
    memcpy(h->alpha, net->alpha, sizeof h->alpha);
    memcpy(h->woff, net->woff, sizeof h->woff);
    memcpy(h->boff, net->boff, sizeof h->boff);
    h->nparams = net->nparams;
    h->chunk = chunk > 0 ? chunk : 1;
    h->maxw = net->max_width;
    h->lanczos_iters = lanczos_iters > 0 ? lanczos_iters : 0;
    isw_hess_set_metric(h, NULL);
    size_t widths = 0;
    for (int l = 1; l <= h->L; l++)
        widths += (size_t)h->width[l];
    size_t n = h->chunk * ((size_t)h->width[0] + (size_t)h->width[h->L] + 4 * widths +
                           4 * h->maxw) +
               (5 + (size_t)h->lanczos_iters) * h->nparams + 4 * (size_t)h->lanczos_iters;
    h->block = calloc(n, sizeof(double));
    if (!h->block)
        return ISW_ENOMEM;
    double *p = h->block;
    h->X = p, p += h->chunk * (size_t)h->width[0];
    h->Y = p, p += h->chunk * (size_t)h->width[h->L];
    for (int l = 0; l < h->L; l++) {
        size_t w = h->chunk * (size_t)h->width[l + 1];
        h->Z[l] = p, p += w;
        h->H[l] = p, p += w;
        h->RZ[l] = p, p += w;
        h->RH[l] = p, p += w;
    }
    h->G = p, p += h->chunk * h->maxw;
    h->RG = p, p += h->chunk * h->maxw;
    h->dH = p, p += h->chunk * h->maxw;
    h->RdH = p, p += h->chunk * h->maxw;
    h->vec = p, p += 5 * h->nparams;
    h->lanczos = h->lanczos_iters > 0 ? p : NULL;
    p += (size_t)h->lanczos_iters * h->nparams;
    h->tri = p;
    return ISW_OK;
}

/* f(z), f'(z), f''(z) of a hidden activation, from z and h = f(z). */
static void act_derivs(isw_act_t act, double slope, double z, double hz, double *d1, double *d2)
{
    switch (act) {
    case ISW_ACT_SIGMOID:
        *d1 = hz * (1 - hz);
        *d2 = *d1 * (1 - 2 * hz);
        return;
    case ISW_ACT_TANH:
        *d1 = 1 - hz * hz;
        *d2 = -2 * hz * *d1;
        return;
    case ISW_ACT_RELU:
        *d1 = z > 0 ? 1 : 0;   /* as mlp.c's backward: 0 at the kink */
        *d2 = 0;
        return;
    case ISW_ACT_LEAKY_RELU:
        *d1 = z > 0 ? 1 : slope;
        *d2 = 0;
        return;
    case ISW_ACT_LINEAR:
    case ISW_NACTS:
        break;
    }
    *d1 = 1;
    *d2 = 0;
}

static void act_forward(isw_act_t act, double slope, double *H, const double *Z, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double z = Z[i];
        switch (act) {
        case ISW_ACT_SIGMOID:
            H[i] = 1 / (1 + exp(-z));
            break;
        case ISW_ACT_TANH:
            H[i] = tanh(z);
            break;
        case ISW_ACT_RELU:
            H[i] = z < 0 ? 0 : z;
            break;
        case ISW_ACT_LEAKY_RELU:
            H[i] = z < 0 ? slope * z : z;
            break;
        case ISW_ACT_LINEAR:
        case ISW_NACTS:
            H[i] = z;
            break;
        }
    }
}

/* One row's output: p (n) from the logits z, its loss against y, and G =
 * d loss / d z, R{G} = (d G / d z) R{z}.  The losses are mlp.h's: mse
 * 1/2 ||p - y||^2, softmax cross-entropy -sum y log p, sigmoid
 * cross-entropy summed over units. */
static double out_delta(const isw_hess_t *h, double *p, double *G, double *RG, const double *z,
                        const double *Rz, const double *y, size_t n)
{
    double loss = 0;
    if (h->out == ISW_OUT_SOFTMAX) {
        double m = z[0], s = 0;
        for (size_t j = 1; j < n; j++)
            m = z[j] > m ? z[j] : m;
        for (size_t j = 0; j < n; j++)
            s += p[j] = exp(z[j] - m);
        for (size_t j = 0; j < n; j++)
            p[j] /= s;
        double pRz = 0;     /* R{p} = p (R{z} - <p, R{z}>) */
        for (size_t j = 0; j < n; j++)
            pRz += p[j] * Rz[j];
        if (h->loss == ISW_LOSS_CROSS_ENTROPY) {
            double sy = 0, lse = m + log(s);
            for (size_t j = 0; j < n; j++) {
                sy += y[j];
                loss += y[j] * (lse - z[j]);
            }
            for (size_t j = 0; j < n; j++) {
                G[j] = p[j] * sy - y[j];
                RG[j] = sy * p[j] * (Rz[j] - pRz);
            }
            return loss;
        }
        /* mse: G = p (r - <p, r>), r = p - y */
        double pr = 0, Rs = 0;
        for (size_t j = 0; j < n; j++) {
            double r = p[j] - y[j];
            loss += 0.5 * r * r;
            pr += p[j] * r;
        }
        for (size_t j = 0; j < n; j++) {
            double Rp = p[j] * (Rz[j] - pRz), r = p[j] - y[j];
            Rs += Rp * r + p[j] * Rp;   /* R{<p, r>} */
        }
        for (size_t j = 0; j < n; j++) {
            double Rp = p[j] * (Rz[j] - pRz), r = p[j] - y[j];
            G[j] = p[j] * (r - pr);
            RG[j] = Rp * (r - pr) + p[j] * (Rp - Rs);
        }
        return loss;
    }
    if (h->out == ISW_OUT_SIGMOID) {
        for (size_t j = 0; j < n; j++) {
            double s = 1 / (1 + exp(-z[j])), d = s * (1 - s);
            p[j] = s;
            if (h->loss == ISW_LOSS_CROSS_ENTROPY) {
                loss += fmax(z[j], 0) + log1p(exp(-fabs(z[j]))) - y[j] * z[j];
                G[j] = s - y[j];
                RG[j] = d * Rz[j];
            } else {
                double r = s - y[j];
                loss += 0.5 * r * r;
                G[j] = r * d;
                RG[j] = (d * d + r * d * (1 - 2 * s)) * Rz[j];
            }
        }
        return loss;
    }
    for (size_t j = 0; j < n; j++) {   /* linear, mse */
        double r = z[j] - y[j];
        p[j] = z[j];
        loss += 0.5 * r * r;
        G[j] = r;
        RG[j] = Rz[j];
    }
    return loss;
}

/* Rows idx[first .. first + B) of data (idx NULL: rows first ..), into X
 * and Y as double. */
static void load_rows(isw_hess_t *h, const isw_data_t *data, const size_t *idx, size_t first,
                      size_t B)
{
    size_t nin = data->nin, nout = data->nout;
    for (size_t i = 0; i < B; i++) {
        size_t r = idx ? idx[first + i] : first + i;
        for (size_t j = 0; j < nin; j++)
            h->X[i * nin + j] = data->X[r * nin + j];
        for (size_t j = 0; j < nout; j++)
            h->Y[i * nout + j] = data->Y[r * nout + j];
    }
}

/* b (B, out) rows = bias vector, or zero without one. */
static void fill_rows(double *dst, const double *b, size_t B, size_t out)
{
    for (size_t i = 0; i < B; i++) {
        if (b)
            memcpy(dst + i * out, b, out * sizeof(double));
        else
            memset(dst + i * out, 0, out * sizeof(double));
    }
}

/* Forward and R-forward of B rows along v: Z, H, R{Z}, R{H} of every layer. */
static void r_forward(isw_hess_t *h, const double *theta, const double *v, size_t B)
{
    const double *Hin = h->X, *RHin = NULL;
    int last = h->L - 1;
    for (int l = 0; l <= last; l++) {
        int in = h->width[l], out = h->width[l + 1];
        const double *W = theta + h->woff[l], *V = v + h->woff[l];
        fill_rows(h->Z[l], h->bias ? theta + h->boff[l] : NULL, B, (size_t)out);
        fill_rows(h->RZ[l], h->bias ? v + h->boff[l] : NULL, B, (size_t)out);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, out, in, h->alpha[l], Hin,
                    in, W, in, 1, h->Z[l], out);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, out, in, h->alpha[l], Hin,
                    in, V, in, 1, h->RZ[l], out);
        if (RHin)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, out, in, h->alpha[l],
                        RHin, in, W, in, 1, h->RZ[l], out);
        if (l < last) {
            size_t m = B * (size_t)out;
            act_forward(h->act, h->slope, h->H[l], h->Z[l], m);
            for (size_t i = 0; i < m; i++) {
                double d1, d2;
                act_derivs(h->act, h->slope, h->Z[l][i], h->H[l][i], &d1, &d2);
                h->RH[l][i] = d1 * h->RZ[l][i];
            }
        }
        Hin = h->H[l];
        RHin = h->RH[l];
    }
}

double isw_hess_vec(isw_hess_t *h, const isw_data_t *data, size_t n, const double *theta,
                    const double *v, double *hv, double *g)
{
    return isw_hess_vec_rows(h, data, NULL, n, theta, v, hv, g);
}

double isw_hess_vec_rows(isw_hess_t *h, const isw_data_t *data, const size_t *idx, size_t n,
                         const double *theta, const double *v, double *hv, double *g)
{
    memset(hv, 0, h->nparams * sizeof(double));
    if (g)
        memset(g, 0, h->nparams * sizeof(double));
    double loss = 0, scale = 1.0 / (double)n;
    int last = h->L - 1;
    size_t nout = (size_t)h->width[h->L];
    for (size_t first = 0; first < n; first += h->chunk) {
        size_t B = n - first < h->chunk ? n - first : h->chunk;
        load_rows(h, data, idx, first, B);
        r_forward(h, theta, v, B);
        for (size_t i = 0; i < B; i++)
            loss += out_delta(h, h->H[last] + i * nout, h->G + i * nout, h->RG + i * nout,
                              h->Z[last] + i * nout, h->RZ[last] + i * nout, h->Y + i * nout,
                              nout);
        for (int l = last; l >= 0; l--) {
            int in = h->width[l], out = h->width[l + 1];
            const double *Hin = l > 0 ? h->H[l - 1] : h->X;
            const double *W = theta + h->woff[l], *V = v + h->woff[l];
            double a = h->alpha[l], sa = scale * a;
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, (int)B, sa, h->RG, out,
                        Hin, in, 1, hv + h->woff[l], in);
            if (l > 0)
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, (int)B, sa, h->G,
                            out, h->RH[l - 1], in, 1, hv + h->woff[l], in);
            if (g)
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, (int)B, sa, h->G,
                            out, Hin, in, 1, g + h->woff[l], in);
            if (h->bias)
                for (size_t i = 0; i < B; i++)
                    for (int j = 0; j < out; j++) {
                        hv[h->boff[l] + (size_t)j] += scale * h->RG[i * (size_t)out + (size_t)j];
                        if (g)
                            g[h->boff[l] + (size_t)j] += scale * h->G[i * (size_t)out + (size_t)j];
                    }
            if (l == 0)
                break;
            /* dH = a G W, R{dH} = a (R{G} W + G V), then through f' and f'' */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, in, out, a, h->G, out,
                        W, in, 0, h->dH, in);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, in, out, a, h->RG, out,
                        W, in, 0, h->RdH, in);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, in, out, a, h->G, out,
                        V, in, 1, h->RdH, in);
            size_t m = B * (size_t)in;
            const double *Zb = h->Z[l - 1], *Hb = h->H[l - 1], *RZb = h->RZ[l - 1];
            for (size_t i = 0; i < m; i++) {
                double d1, d2;
                act_derivs(h->act, h->slope, Zb[i], Hb[i], &d1, &d2);
                h->RG[i] = d1 * h->RdH[i] + d2 * RZb[i] * h->dH[i];
                h->G[i] = d1 * h->dH[i];
            }
        }
    }
    return loss * scale;
}

/* ---- the top eigenvalue -------------------------------------------------- */

void isw_hess_set_metric(isw_hess_t *h, const double *p)
{
    h->precond = 0;
    for (int l = 0; l < h->L; l++) {
        h->psqrt[l] = p ? sqrt(p[l]) : 1.0;
        h->precond |= h->psqrt[l] != 1.0;
    }
}

/* x (nparams) *= sqrt(p_l) layer by layer. */
static void metric_apply(const isw_hess_t *h, double *x)
{
    for (int l = 0; l < h->L; l++) {
        size_t end = l + 1 < h->L ? h->woff[l + 1] : h->nparams;
        for (size_t i = h->woff[l]; i < end; i++)
            x[i] *= h->psqrt[l];
    }
}

/* hv = P^1/2 H P^1/2 v (H v without a metric); the third vector slot is
 * scratch. */
static void op(isw_hess_t *h, const isw_data_t *data, size_t nrows, const double *theta,
               const double *v, double *hv)
{
    if (!h->precond) {
        isw_hess_vec(h, data, nrows, theta, v, hv, NULL);
        return;
    }
    double *u = h->vec + 2 * h->nparams;
    memcpy(u, v, h->nparams * sizeof(double));
    metric_apply(h, u);
    isw_hess_vec(h, data, nrows, theta, u, hv, NULL);
    metric_apply(h, hv);
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* v = its normalisation; 0 when v is zero or not finite. */
static int normalize(double *v, size_t n)
{
    double s = sqrt(dot(v, v, n));
    if (!(s > 0) || !isfinite(s))
        return 0;
    for (size_t i = 0; i < n; i++)
        v[i] /= s;
    return 1;
}

/* v = r's uniform draws on (-1/2, 1/2), normalised; or the kept
 * eigenvector (vec's first slot) when warm and it is usable. */
static void start_vector(isw_hess_t *h, double *v, gsl_rng *r, int warm)
{
    size_t n = h->nparams;
    if (warm && v != h->vec)
        memcpy(v, h->vec, n * sizeof(double));
    if (warm && normalize(v, n))
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = gsl_rng_uniform_pos(r) - 0.5;
    normalize(v, n);
}

static double power(isw_hess_t *h, const isw_data_t *data, size_t nrows, const double *theta,
                    int iters, gsl_rng *r, int warm)
{
    size_t n = h->nparams;
    double *v = h->vec, *hv = h->vec + n;
    double lambda = NAN, shift = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        start_vector(h, v, r, warm && pass == 0);
        double rq = NAN;
        for (int it = 0; it < iters; it++) {
            op(h, data, nrows, theta, v, hv);
            for (size_t i = 0; i < n; i++)
                hv[i] -= shift * v[i];
            rq = dot(v, hv, n);
            if (!isfinite(rq))
                return NAN;
            memcpy(v, hv, n * sizeof(double));
            if (!normalize(v, n))
                break;
        }
        lambda = rq + shift;
        if (!(lambda < 0.0) || pass == 1)
            break;
        shift = lambda;
    }
    return lambda;
}

static double lanczos(isw_hess_t *h, const isw_data_t *data, size_t nrows, const double *theta,
                      int iters, gsl_rng *r, int warm, double *top, int ntop)
{
    size_t n = h->nparams;
    int m = iters < h->lanczos_iters ? iters : h->lanczos_iters;
    if ((size_t)m > n)
        m = (int)n;
    double *Q = h->lanczos, *w = h->vec + n;
    double *a = h->tri, *b = h->tri + h->lanczos_iters;   /* T's diagonals */
    start_vector(h, Q, r, warm);
    int k = 0;
    for (; k < m; k++) {
        double *q = Q + (size_t)k * n;
        op(h, data, nrows, theta, q, w);
        a[k] = dot(q, w, n);
        if (!isfinite(a[k]))
            return NAN;
        /* full reorthogonalisation, twice (Kahan's "twice is enough") */
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j <= k; j++) {
                const double *qj = Q + (size_t)j * n;
                double c = dot(qj, w, n);
                for (size_t i = 0; i < n; i++)
                    w[i] -= c * qj[i];
            }
        b[k] = sqrt(dot(w, w, n));
        if (k + 1 == m || !(b[k] > 1e-12 * fabs(a[k])))
            break;
        double *next = Q + (size_t)(k + 1) * n;
        for (size_t i = 0; i < n; i++)
            next[i] = w[i] / b[k];
    }
    int dim = k + 1 < m ? k + 1 : m;
    /* T's eigenpairs: the Ritz values, and the top Ritz vector Q^T y kept
     * for a warm start */
    double *ev = h->tri + 2 * (size_t)h->lanczos_iters, *y = ev + h->lanczos_iters;
    double lambda = NAN;
    if (isw_hess_tridiag_eigen(ev, y, a, b, (size_t)dim) == ISW_OK) {
        lambda = ev[0];
        for (int i = 0; i < ntop; i++)
            top[i] = i < dim ? ev[i] : NAN;
        double *u = h->vec;
        memset(u, 0, n * sizeof(double));
        for (int j = 0; j < dim; j++) {
            const double *qj = Q + (size_t)j * n;
            for (size_t i = 0; i < n; i++)
                u[i] += y[j] * qj[i];
        }
    }
    return lambda;
}

double isw_hess_batch_sharpness(isw_hess_t *h, const isw_data_t *data, const size_t *idx,
                                size_t B, size_t nbatches, const double *theta)
{
    size_t n = h->nparams;
    double *g = h->vec + 2 * n, *d = h->vec + 3 * n, *hd = h->vec + 4 * n;
    double sum = 0;
    size_t m = 0;
    for (size_t b = 0; b < nbatches; b++) {
        memset(d, 0, n * sizeof(double));
        isw_hess_vec_rows(h, data, idx + b * B, B, theta, d, hd, g);   /* g only */
        memcpy(d, g, n * sizeof(double));
        metric_apply(h, d);
        metric_apply(h, d);                    /* d = P g, the step's direction */
        isw_hess_vec_rows(h, data, idx + b * B, B, theta, d, hd, NULL);
        double gpg = dot(g, d, n), dhd = dot(d, hd, n);
        if (!isfinite(gpg) || !isfinite(dhd))
            return NAN;
        if (gpg > 0) {
            sum += dhd / gpg;
            m++;
        }
    }
    return m ? sum / (double)m : NAN;
}

double isw_hess_top(isw_hess_t *h, const isw_data_t *data, size_t n, const double *theta,
                    isw_sharp_method_t method, int iters, gsl_rng *r, int warm, double *top,
                    int ntop)
{
    for (int i = 0; i < ntop; i++)
        top[i] = NAN;
    if (method == ISW_SHARP_LANCZOS && h->lanczos)
        return lanczos(h, data, n, theta, iters, r, warm, top, ntop);
    double lambda = power(h, data, n, theta, iters, r, warm);
    if (ntop > 0)
        top[0] = lambda;
    return lambda;
}
