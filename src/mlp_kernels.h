/* The MLP kernels of one precision.  mlp.c includes this file twice, once
 * with real = float, GEMM = cblas_sgemm, V_EXP, V_TANH, V_SIGMOID = the
 * float array functions of vmath.h and KN(name) = name##_f, once with the
 * double versions and the _d suffix, so
 * each kernel is written once and the public functions dispatch on
 * net->prec.  No include guard on purpose.
 *
 * Kernels take outputs first, then inputs, then sizes.  Batches are
 * row-major (B, width); W is (out, in) row-major.  Losses and statistics are
 * accumulated in double whatever the precision. */

/* ---- forward ---------------------------------------------------------- */

/* Z (B, K*out) = alpha * Hin W^T + b for K lanes.  shared_in: Hin is
 * (B, in), the same for every lane, and the K weight blocks W (K*out, in)
 * are one matrix, so one GEMM does all lanes; else Hin is (B, K*in) with
 * lane k at column k*in, and each lane is its own GEMM.  b (K*out) or NULL. */
static void KN(matmul_forward)(real *Z, const real *Hin, const real *W, const real *b,
                               size_t B, size_t in, size_t out, int K, int shared_in,
                               real alpha)
{
    size_t ko = (size_t)K * out;
    if (b)
        for (size_t i = 0; i < B; i++)
            memcpy(Z + i * ko, b, ko * sizeof(real));
    if (shared_in || K == 1) {
        GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)ko, (int)in, alpha,
             Hin, (int)in, W, (int)in, b ? 1 : 0, Z, (int)ko);
        return;
    }
    /* One output unit per lane: a matrix-vector product per lane (a GEMM
     * with one column is mostly call and edge-case overhead). */
    if (out == 1) {
        for (int k = 0; k < K; k++)
            GEMV(CblasRowMajor, CblasNoTrans, (int)B, (int)in, alpha, Hin + (size_t)k * in,
                 (int)(K * in), W + (size_t)k * in, 1, b ? 1 : 0, Z + k, K);
        return;
    }
    for (int k = 0; k < K; k++)
        GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)out, (int)in, alpha,
             Hin + (size_t)k * in, (int)(K * in), W + (size_t)k * out * in, (int)in,
             b ? 1 : 0, Z + (size_t)k * out, (int)ko);
}

/* H (n) = f(Z (n)) elementwise.  relu and leaky_relu test z < 0 so that a
 * NaN propagates instead of turning into 0. */
static void KN(act_forward)(real *H, const real *Z, size_t n, isw_act_t act, real slope)
{
    switch (act) {
    case ISW_ACT_SIGMOID:
        V_SIGMOID(H, Z, n);
        break;
    case ISW_ACT_TANH:
        V_TANH(H, Z, n);
        break;
    case ISW_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            H[i] = Z[i] < 0 ? 0 : Z[i];
        break;
    case ISW_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++)
            H[i] = Z[i] < 0 ? slope * Z[i] : Z[i];
        break;
    case ISW_ACT_LINEAR:
    case ISW_NACTS:
        memcpy(H, Z, n * sizeof(real));
        break;
    }
}

/* P (B, n) = softmax of each row of Z (B, n); the row max is subtracted
 * first so exp never overflows. */
static void KN(softmax_forward)(real *P, const real *Z, size_t B, size_t n)
{
    for (size_t i = 0; i < B; i++) {
        const real *z = Z + i * n;
        real *p = P + i * n;
        real m = z[0];
        for (size_t j = 1; j < n; j++)
            m = z[j] > m ? z[j] : m;
        for (size_t j = 0; j < n; j++)
            p[j] = z[j] - m;
        V_EXP(p, p, n);
        real s = 0;
        for (size_t j = 0; j < n; j++)
            s += p[j];
        real inv = 1 / s;
        for (size_t j = 0; j < n; j++)
            p[j] *= inv;
    }
}

/* Hout (R, n) = output nonlinearity of the logits Zout (R, n); R = B*K
 * rows, one per sample and lane. */
static void KN(output_forward)(real *Hout, const real *Zout, size_t R, size_t n, isw_out_t out)
{
    if (out == ISW_OUT_SOFTMAX)
        KN(softmax_forward)(Hout, Zout, R, n);
    else
        KN(act_forward)(Hout, Zout, R * n,
                        out == ISW_OUT_SIGMOID ? ISW_ACT_SIGMOID : ISW_ACT_LINEAR, 0);
}

/* sums[k] = sum over the B rows of lane k's per-sample loss.  Hout, Zout
 * (logits) are (B, K*n), row i lane k at (i*K + k)*n; Y (B, n) is shared.
 * Cross-entropy is computed from the logits: log-sum-exp for softmax,
 * softplus(z) - y z for sigmoid, so it stays finite when p underflows.
 * Each lane sums in the order a lone net does (rows, then units). */
static void KN(loss_sum)(double *sums, const real *Hout, const real *Zout, const real *Y,
                         size_t B, int K, size_t n, isw_out_t out, isw_loss_t loss)
{
    for (int k = 0; k < K; k++)
        sums[k] = 0;
    if (K == 1 && loss == ISW_LOSS_MSE) {
        /* one lane: one flat loop, the same order as the per-row one */
        double sum = 0;
        for (size_t k = 0; k < B * n; k++) {
            double d = (double)Hout[k] - (double)Y[k];
            sum += d * d;
        }
        sums[0] = 0.5 * sum;
        return;
    }
    for (size_t i = 0; i < B; i++) {
        const real *y = Y + i * n;
        for (int k = 0; k < K; k++) {
            size_t r = (i * (size_t)K + (size_t)k) * n;
            const real *h = Hout + r, *z = Zout + r;
            double sum = sums[k];
            if (loss == ISW_LOSS_MSE) {
                for (size_t j = 0; j < n; j++) {
                    double d = (double)h[j] - (double)y[j];
                    sum += d * d;
                }
            } else if (out == ISW_OUT_SOFTMAX) {
                double m = z[0];
                for (size_t j = 1; j < n; j++)
                    m = z[j] > m ? z[j] : m;
                double s = 0;
                for (size_t j = 0; j < n; j++)
                    s += exp((double)z[j] - m);
                double lse = m + log(s);
                for (size_t j = 0; j < n; j++)
                    sum += (double)y[j] * (lse - (double)z[j]);
            } else {
                for (size_t j = 0; j < n; j++) {
                    double zj = z[j];
                    sum += fmax(zj, 0) + log1p(exp(-fabs(zj))) - (double)y[j] * zj;
                }
            }
            sums[k] = sum;
        }
    }
    if (loss == ISW_LOSS_MSE)
        for (int k = 0; k < K; k++)
            sums[k] *= 0.5;
}

/* ---- backward --------------------------------------------------------- */

/* dZ (B, K*n) = d loss_i / d Zout, unscaled.  Hout likewise, row i lane k
 * at (i*K + k)*n; Y (B, n) shared by the lanes.
 * softmax + cross-entropy: p * sum(y) - y (p - y for one-hot targets);
 * sigmoid + cross-entropy: s - y;  mse: g = yhat - y through the output
 * Jacobian: softmax p * (g - <p, g>), sigmoid g s (1 - s), linear g. */
static void KN(output_delta)(real *dZ, const real *Hout, const real *Y, size_t B, int K,
                             size_t n, isw_out_t out, isw_loss_t loss)
{
    size_t R = B * (size_t)K;
    if (loss == ISW_LOSS_CROSS_ENTROPY && out == ISW_OUT_SOFTMAX) {
        for (size_t i = 0; i < B; i++) {
            const real *y = Y + i * n;
            real sy = 0;
            for (size_t j = 0; j < n; j++)
                sy += y[j];
            for (int k = 0; k < K; k++) {
                size_t r = (i * (size_t)K + (size_t)k) * n;
                for (size_t j = 0; j < n; j++)
                    dZ[r + j] = Hout[r + j] * sy - y[j];
            }
        }
        return;
    }
    if (K == 1)
        for (size_t k = 0; k < B * n; k++)
            dZ[k] = Hout[k] - Y[k];
    else
        for (size_t i = 0; i < B; i++)
            for (int k = 0; k < K; k++) {
                size_t r = (i * (size_t)K + (size_t)k) * n;
                for (size_t j = 0; j < n; j++)
                    dZ[r + j] = Hout[r + j] - Y[i * n + j];
            }
    if (loss == ISW_LOSS_CROSS_ENTROPY || out == ISW_OUT_LINEAR)
        return;
    if (out == ISW_OUT_SIGMOID) {
        for (size_t k = 0; k < R * n; k++)
            dZ[k] *= Hout[k] * (1 - Hout[k]);
        return;
    }
    for (size_t i = 0; i < R; i++) {
        const real *p = Hout + i * n;
        real *g = dZ + i * n;
        real dot = 0;
        for (size_t j = 0; j < n; j++)
            dot += p[j] * g[j];
        for (size_t j = 0; j < n; j++)
            g[j] = p[j] * (g[j] - dot);
    }
}

/* dH (B, K*in) = alpha dZ_k w_k per lane for a layer of one output unit:
 * dZ (B, K), lane k's w at W + k*in. */
static void KN(outer_dh)(real *dH, const real *dZ, const real *W, size_t B, size_t in, int K,
                         real alpha)
{
    size_t ki = (size_t)K * in;
    for (size_t i = 0; i < B; i++)
        for (int k = 0; k < K; k++) {
            real d = alpha * dZ[i * (size_t)K + (size_t)k];
            const real *w = W + (size_t)k * in;
            real *h = dH + i * ki + (size_t)k * in;
            for (size_t j = 0; j < in; j++)
                h[j] = d * w[j];
        }
}

/* For K lanes: dW (K*out, in) (+)= scale * alpha * dZ^T Hin;  db (K*out)
 * (+)= scale * column sums of dZ (skipped when NULL);  dHin (B, K*in) =
 * alpha * dZ W (skipped when NULL, i.e. for the input layer).  dZ (B,
 * K*out); W (K*out, in), lane k's block at k*out*in; Hin as in
 * matmul_forward (shared_in: (B, in) for all lanes, one GEMM for dW). */
static void KN(matmul_backward)(real *dW, real *db, real *dHin, const real *dZ,
                                const real *Hin, const real *W, size_t B, size_t in,
                                size_t out, int K, int shared_in, real alpha, real scale,
                                int accumulate)
{
    size_t ko = (size_t)K * out, ki = (size_t)K * in;
    if (shared_in || K == 1)
        GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ko, (int)in, (int)B, scale * alpha,
             dZ, (int)ko, Hin, (int)in, accumulate ? 1 : 0, dW, (int)in);
    else if (out == 1)
        /* dW_k (1, in) = dZ_k^T Hin_k: Hin_k^T times the lane's delta column */
        for (int k = 0; k < K; k++)
            GEMV(CblasRowMajor, CblasTrans, (int)B, (int)in, scale * alpha,
                 Hin + (size_t)k * in, (int)ki, dZ + k, K, accumulate ? 1 : 0,
                 dW + (size_t)k * in, 1);
    else
        for (int k = 0; k < K; k++)
            GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)B,
                 scale * alpha, dZ + (size_t)k * out, (int)ko, Hin + (size_t)k * in, (int)ki,
                 accumulate ? 1 : 0, dW + (size_t)k * out * in, (int)in);
    if (db) {
        if (!accumulate)
            memset(db, 0, ko * sizeof(real));
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < ko; j++)
                db[j] += scale * dZ[i * ko + j];
    }
    if (dHin && out == 1 && K > 1)
        KN(outer_dh)(dHin, dZ, W, B, in, K, alpha);
    else if (dHin)
        for (int k = 0; k < K; k++)
            GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in, (int)out, alpha,
                 dZ + (size_t)k * out, (int)ko, W + (size_t)k * out * in, (int)in, 0,
                 dHin + (size_t)k * in, (int)ki);
}

/* d (n) *= f'(z) in place, turning dH into dZ.  H = f(Z), both (n). */
static void KN(act_backward)(real *d, const real *H, const real *Z, size_t n, isw_act_t act,
                             real slope)
{
    switch (act) {
    case ISW_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            d[i] *= H[i] * (1 - H[i]);
        break;
    case ISW_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            d[i] *= 1 - H[i] * H[i];
        break;
    case ISW_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            d[i] = Z[i] > 0 ? d[i] : 0;
        break;
    case ISW_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++)
            d[i] = Z[i] > 0 ? d[i] : slope * d[i];
        break;
    case ISW_ACT_LINEAR:
    case ISW_NACTS:
        break;
    }
}

/* ---- update, statistics, copies ----------------------------------------- */

/* p (n) -= lr * g, or with momentum v = momentum * v + g, p -= lr * v. */
static void KN(sgd_update)(real *p, real *v, const real *g, size_t n, real lr, real momentum)
{
    if (momentum == 0) {
        for (size_t i = 0; i < n; i++)
            p[i] -= lr * g[i];
        return;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = momentum * v[i] + g[i];
        p[i] -= lr * v[i];
    }
}

/* active (n) += for each unit, the rows of Z (B, n) with z > 0. */
static void KN(count_active)(uint32_t *active, const real *Z, size_t B, size_t n)
{
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < n; j++)
            active[j] += Z[i * n + j] > 0;
}

/* sat (n) += for each unit, the rows of H (B, n) whose derivative (sigmoid
 * h (1 - h), tanh 1 - h^2) is below thr. */
static void KN(count_saturated)(uint32_t *sat, const real *H, size_t B, size_t n,
                                isw_act_t act, double thr)
{
    real t = (real)thr;
    for (size_t i = 0; i < B; i++) {
        const real *h = H + i * n;
        if (act == ISW_ACT_SIGMOID)
            for (size_t j = 0; j < n; j++)
                sat[j] += h[j] * (1 - h[j]) < t;
        else
            for (size_t j = 0; j < n; j++)
                sat[j] += 1 - h[j] * h[j] < t;
    }
}

static size_t KN(argmax)(const real *x, size_t n)
{
    size_t best = 0;
    for (size_t j = 1; j < n; j++)
        if (x[j] > x[best])
            best = j;
    return best;
}

/* counts[k] += rows of lane k whose output is saturated (see
 * isw_mlp_stats_t); Hout (B, K*n). */
static void KN(count_out_saturated)(size_t *counts, const real *Hout, size_t B, int K,
                                    size_t n, isw_out_t out)
{
    for (size_t r = 0; r < B * (size_t)K && out != ISW_OUT_LINEAR; r++) {
        const real *h = Hout + r * n;
        size_t k = r % (size_t)K;
        if (out == ISW_OUT_SOFTMAX) {
            counts[k] += h[KN(argmax)(h, n)] > (real)0.999;
            continue;
        }
        size_t extreme = 0;
        for (size_t j = 0; j < n; j++)
            extreme += h[j] < (real)0.001 || h[j] > (real)0.999;
        counts[k] += extreme == n;
    }
}

/* counts[k] += rows where argmax of lane k's output == argmax Y; Hout (B,
 * K*n), Y (B, n). */
static void KN(count_correct)(size_t *counts, const real *Hout, const real *Y, size_t B, int K,
                              size_t n)
{
    for (size_t r = 0; r < B * (size_t)K; r++)
        counts[r % (size_t)K] +=
            KN(argmax)(Hout + r * n, n) == KN(argmax)(Y + (r / (size_t)K) * n, n);
}

/* s + the sum of squares of x (n), in order. */
static double KN(sumsq)(double s, const real *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * (double)x[i];
    return s;
}

static int KN(all_finite)(const real *x, size_t n)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= isfinite(x[i]) != 0;
    return ok;
}

static void KN(to_double)(double *dst, const real *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static void KN(from_double)(real *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (real)src[i];
}

/* dst (B, width) = rows idx[i] (or first + i when idx is NULL) of src (n, width). */
static void KN(gather_rows)(real *dst, const float *src, const size_t *idx, size_t first,
                            size_t B, size_t width)
{
    for (size_t i = 0; i < B; i++) {
        const float *row = src + (idx ? idx[i] : first + i) * width;
        for (size_t j = 0; j < width; j++)
            dst[i * width + j] = row[j];
    }
}

/* ---- the network, one precision ----------------------------------------- */

static void KN(forward)(isw_mlp_t *net, size_t B)
{
    const real *P = net->params;
    const real *Hin = net->X;
    int last = net->L - 1, K = net->lanes;
    for (int l = 0; l <= last; l++) {
        size_t in = (size_t)net->width[l], out = (size_t)net->width[l + 1];
        KN(matmul_forward)(net->Z[l], Hin, P + net->sw[l], net->bias ? P + net->sb[l] : NULL,
                           B, in, out, K, l == 0, (real)net->alpha[l]);
        if (l < last)
            KN(act_forward)(net->H[l], net->Z[l], B * (size_t)K * out, net->act,
                            (real)net->leaky_slope);
        else
            KN(output_forward)(net->H[l], net->Z[l], B * (size_t)K, out, net->out);
        Hin = net->H[l];
    }
}

static void KN(loss)(const isw_mlp_t *net, size_t B, double *sums)
{
    int last = net->L - 1;
    KN(loss_sum)(sums, net->H[last], net->Z[last], net->Y, B, net->lanes,
                 (size_t)net->width[net->L], net->out, net->loss);
}

/* The reverse of forward: output delta, then per layer from the output
 * down the matmul backward and the activation derivative.  dZ and dH
 * alternate between the two scratch buffers. */
static void KN(backward)(isw_mlp_t *net, size_t B, double scale, int accumulate)
{
    const real *P = net->params;
    real *G = net->grads;
    real *dZ = net->dA, *dH = net->dB;
    int last = net->L - 1, K = net->lanes;
    KN(output_delta)(dZ, net->H[last], net->Y, B, K, (size_t)net->width[net->L], net->out,
                     net->loss);
    for (int l = last; l >= 0; l--) {
        size_t in = (size_t)net->width[l], out = (size_t)net->width[l + 1];
        const real *Hin = l > 0 ? net->H[l - 1] : net->X;
        KN(matmul_backward)(G + net->sw[l], net->bias ? G + net->sb[l] : NULL,
                            l > 0 ? dH : NULL, dZ, Hin, P + net->sw[l], B, in, out, K, l == 0,
                            (real)net->alpha[l], (real)scale, accumulate);
        if (l > 0) {
            KN(act_backward)(dH, net->H[l - 1], net->Z[l - 1], B * (size_t)K * in, net->act,
                             (real)net->leaky_slope);
            real *t = dZ;
            dZ = dH;
            dH = t;
        }
    }
}

/* Backward and plain SGD step in one, for K > 1 lanes without momentum:
 * each weight layer's update goes into the parameters directly (GEMM with
 * beta = 1) instead of through net->grads (left as it was).  Lane k steps
 * by lr[k] * (mult[k] ? mult[k][l] : 1) when step[k], else not at all
 * (its delta columns are set to 0 exactly).  Layer by layer from the
 * output: dH below from the delta and the old W, then the delta scaled by
 * -lr * scale per lane, then W (+)= alpha * delta^T Hin and b += the
 * delta's column sums. */
static void KN(backward_sgd)(isw_mlp_t *net, size_t B, double scale, const double *lr,
                             const double *const *mult, const unsigned char *step)
{
    real *P = net->params;
    real *dZ = net->dA, *dH = net->dB;
    int last = net->L - 1, K = net->lanes;
    KN(output_delta)(dZ, net->H[last], net->Y, B, K, (size_t)net->width[net->L], net->out,
                     net->loss);
    for (int l = last; l >= 0; l--) {
        size_t in = (size_t)net->width[l], out = (size_t)net->width[l + 1];
        size_t ko = (size_t)K * out, ki = (size_t)K * in;
        const real *Hin = l > 0 ? net->H[l - 1] : net->X;
        real *W = P + net->sw[l], alpha = (real)net->alpha[l];
        if (l > 0) {
            if (out == 1)
                KN(outer_dh)(dH, dZ, W, B, in, K, alpha);
            else
                for (int k = 0; k < K; k++)
                    GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in, (int)out,
                         alpha, dZ + (size_t)k * out, (int)ko, W + (size_t)k * out * in,
                         (int)in, 0, dH + (size_t)k * in, (int)ki);
        }
        real c[ISW_MAX_LANES];
        for (int k = 0; k < K; k++)
            c[k] = (real)(-lr[k] * (mult[k] ? mult[k][l] : 1.0) * net->lr_scale[l] * scale);
        for (size_t i = 0; i < B; i++)
            for (int k = 0; k < K; k++) {
                real *d = dZ + i * ko + (size_t)k * out;
                for (size_t o = 0; o < out; o++)
                    d[o] = step[k] ? c[k] * d[o] : 0;
            }
        if (l == 0)
            GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ko, (int)in, (int)B, alpha, dZ,
                 (int)ko, Hin, (int)in, 1, W, (int)in);
        else if (out == 1)
            for (int k = 0; k < K; k++)
                GEMV(CblasRowMajor, CblasTrans, (int)B, (int)in, alpha, Hin + (size_t)k * in,
                     (int)ki, dZ + k, K, 1, W + (size_t)k * in, 1);
        else
            for (int k = 0; k < K; k++)
                GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)B, alpha,
                     dZ + (size_t)k * out, (int)ko, Hin + (size_t)k * in, (int)ki, 1,
                     W + (size_t)k * out * in, (int)in);
        if (net->bias) {
            real *b = P + net->sb[l];
            for (size_t i = 0; i < B; i++)
                for (size_t j = 0; j < ko; j++)
                    b[j] += dZ[i * ko + j];
        }
        if (l > 0) {
            KN(act_backward)(dH, net->H[l - 1], net->Z[l - 1], B * ki, net->act,
                             (real)net->leaky_slope);
            real *t = dZ;
            dZ = dH;
            dH = t;
        }
    }
}

/* Lane k's W_l (out*in) and b_l (out) blocks of buffer base; b NULL
 * without bias. */
#define LANE_W(net, base, l, k) \
    ((base) + (net)->sw[l] + (size_t)(k) * (size_t)(net)->width[(l) + 1] * (size_t)(net)->width[l])
#define LANE_B(net, base, l, k) \
    ((net)->bias ? (base) + (net)->sb[l] + (size_t)(k) * (size_t)(net)->width[(l) + 1] : NULL)

static void KN(sgd_step)(isw_mlp_t *net, int k, double lr, const double *lr_mult,
                         double momentum)
{
    real *P = net->params, *V = net->velocity;
    const real *G = net->grads;
    for (int l = 0; l < net->L; l++) {
        size_t out = (size_t)net->width[l + 1], nw = out * (size_t)net->width[l];
        real lr_eff = (real)(lr * (lr_mult ? lr_mult[l] : 1.0) * net->lr_scale[l]);
        real mom = (real)momentum;
        KN(sgd_update)(LANE_W(net, P, l, k), LANE_W(net, V, l, k), LANE_W(net, G, l, k), nw,
                       lr_eff, mom);
        if (net->bias)
            KN(sgd_update)(LANE_B(net, P, l, k), LANE_B(net, V, l, k), LANE_B(net, G, l, k),
                           out, lr_eff, mom);
    }
}

static void KN(stats_accumulate)(isw_mlp_t *net, size_t B, double sat_derivative)
{
    int last = net->L - 1, K = net->lanes;
    size_t nout = (size_t)net->width[net->L];
    KN(loss)(net, B, net->lane_tmp);
    for (int k = 0; k < K; k++)
        net->st_loss[k] += net->lane_tmp[k];
    net->st_n += B;
    KN(count_out_saturated)(net->st_out_saturated, net->H[last], B, K, nout, net->out);
    if (net->classification)
        KN(count_correct)(net->st_correct, net->H[last], net->Y, B, K, nout);
    size_t unit = 0;
    for (int l = 0; l < last; l++) {
        size_t n = (size_t)net->width[l + 1], base = (size_t)net->nlanes * unit;
        if (isw_act_kinked(net->act))
            KN(count_active)(net->st_active + base, net->Z[l], B, (size_t)K * n);
        if (isw_act_saturates(net->act))
            KN(count_saturated)(net->st_saturated + base, net->H[l], B, (size_t)K * n, net->act,
                                sat_derivative);
        unit += n;
    }
}

static void KN(grad_norms)(const isw_mlp_t *net, int k, double *norms)
{
    const real *G = net->grads;
    for (int l = 0; l < net->L; l++) {
        size_t out = (size_t)net->width[l + 1];
        double s = KN(sumsq)(0.0, LANE_W(net, G, l, k), out * (size_t)net->width[l]);
        if (net->bias)
            s = KN(sumsq)(s, LANE_B(net, G, l, k), out);
        norms[l] = sqrt(s);
    }
}

static int KN(lane_finite)(const isw_mlp_t *net, int k)
{
    const real *P = net->params;
    int ok = 1;
    for (int l = 0; l < net->L; l++) {
        size_t out = (size_t)net->width[l + 1];
        ok &= KN(all_finite)(LANE_W(net, P, l, k), out * (size_t)net->width[l]);
        if (net->bias)
            ok &= KN(all_finite)(LANE_B(net, P, l, k), out);
    }
    return ok;
}

/* Between lane k of buffer buf and one lane's vector v (nparams, woff/boff
 * order): to_vec copies buf -> v, else v -> buf. */
static void KN(lane_vector)(const isw_mlp_t *net, real *buf, int k, double *v, int to_vec)
{
    for (int l = 0; l < net->L; l++) {
        size_t out = (size_t)net->width[l + 1], nw = out * (size_t)net->width[l];
        real *w = LANE_W(net, buf, l, k), *b = LANE_B(net, buf, l, k);
        if (to_vec) {
            KN(to_double)(v + net->woff[l], w, nw);
            if (b)
                KN(to_double)(v + net->boff[l], b, out);
        } else {
            KN(from_double)(w, v + net->woff[l], nw);
            if (b)
                KN(from_double)(b, v + net->boff[l], out);
        }
    }
}

static void KN(lane_copy)(isw_mlp_t *net, int dst, int src)
{
    real *bufs[3] = {net->params, net->velocity, net->grads};
    for (int i = 0; i < 3; i++)
        for (int l = 0; l < net->L; l++) {
            size_t out = (size_t)net->width[l + 1], nw = out * (size_t)net->width[l];
            memcpy(LANE_W(net, bufs[i], l, dst), LANE_W(net, bufs[i], l, src), nw * sizeof(real));
            if (net->bias)     /* LANE_B's NULL arm would trip -Wnonnull here */
                memcpy(bufs[i] + net->sb[l] + (size_t)dst * out,
                       bufs[i] + net->sb[l] + (size_t)src * out, out * sizeof(real));
        }
}

#undef LANE_W
#undef LANE_B

static void KN(load_batch)(isw_mlp_t *net, const isw_data_t *data, const size_t *idx,
                           size_t first, size_t B)
{
    KN(gather_rows)(net->X, data->X, idx, first, B, data->nin);
    KN(gather_rows)(net->Y, data->Y, idx, first, B, data->nout);
}
