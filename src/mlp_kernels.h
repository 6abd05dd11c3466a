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

/* Z (B, out) = alpha * Hin (B, in) W^T + b;  W (out, in), b (out) or NULL. */
static void KN(matmul_forward)(real *Z, const real *Hin, const real *W, const real *b,
                               size_t B, size_t in, size_t out, real alpha)
{
    if (b)
        for (size_t i = 0; i < B; i++)
            memcpy(Z + i * out, b, out * sizeof(real));
    GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)out, (int)in, alpha,
         Hin, (int)in, W, (int)in, b ? 1 : 0, Z, (int)out);
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

/* Hout (B, n) = output nonlinearity of the logits Zout (B, n). */
static void KN(output_forward)(real *Hout, const real *Zout, size_t B, size_t n, isw_out_t out)
{
    if (out == ISW_OUT_SOFTMAX)
        KN(softmax_forward)(Hout, Zout, B, n);
    else
        KN(act_forward)(Hout, Zout, B * n,
                        out == ISW_OUT_SIGMOID ? ISW_ACT_SIGMOID : ISW_ACT_LINEAR, 0);
}

/* Sum over the B rows of the per-sample loss.  Hout, Zout (logits) and Y
 * are (B, n).  Cross-entropy is computed from the logits: log-sum-exp for
 * softmax, softplus(z) - y z for sigmoid, so it stays finite when p
 * underflows. */
static double KN(loss_sum)(const real *Hout, const real *Zout, const real *Y, size_t B,
                           size_t n, isw_out_t out, isw_loss_t loss)
{
    double sum = 0;
    if (loss == ISW_LOSS_MSE) {
        for (size_t k = 0; k < B * n; k++) {
            double d = (double)Hout[k] - (double)Y[k];
            sum += d * d;
        }
        return 0.5 * sum;
    }
    if (out == ISW_OUT_SOFTMAX) {
        for (size_t i = 0; i < B; i++) {
            const real *z = Zout + i * n, *y = Y + i * n;
            double m = z[0];
            for (size_t j = 1; j < n; j++)
                m = z[j] > m ? z[j] : m;
            double s = 0;
            for (size_t j = 0; j < n; j++)
                s += exp((double)z[j] - m);
            double lse = m + log(s);
            for (size_t j = 0; j < n; j++)
                sum += (double)y[j] * (lse - (double)z[j]);
        }
        return sum;
    }
    for (size_t k = 0; k < B * n; k++) {
        double z = Zout[k];
        sum += fmax(z, 0) + log1p(exp(-fabs(z))) - (double)Y[k] * z;
    }
    return sum;
}

/* ---- backward --------------------------------------------------------- */

/* dZ (B, n) = d loss_i / d Zout, unscaled.  Hout, Y (B, n).
 * softmax + cross-entropy: p * sum(y) - y (p - y for one-hot targets);
 * sigmoid + cross-entropy: s - y;  mse: g = yhat - y through the output
 * Jacobian: softmax p * (g - <p, g>), sigmoid g s (1 - s), linear g. */
static void KN(output_delta)(real *dZ, const real *Hout, const real *Y, size_t B, size_t n,
                             isw_out_t out, isw_loss_t loss)
{
    if (loss == ISW_LOSS_CROSS_ENTROPY && out == ISW_OUT_SOFTMAX) {
        for (size_t i = 0; i < B; i++) {
            const real *p = Hout + i * n, *y = Y + i * n;
            real sy = 0;
            for (size_t j = 0; j < n; j++)
                sy += y[j];
            for (size_t j = 0; j < n; j++)
                dZ[i * n + j] = p[j] * sy - y[j];
        }
        return;
    }
    for (size_t k = 0; k < B * n; k++)
        dZ[k] = Hout[k] - Y[k];
    if (loss == ISW_LOSS_CROSS_ENTROPY || out == ISW_OUT_LINEAR)
        return;
    if (out == ISW_OUT_SIGMOID) {
        for (size_t k = 0; k < B * n; k++)
            dZ[k] *= Hout[k] * (1 - Hout[k]);
        return;
    }
    for (size_t i = 0; i < B; i++) {
        const real *p = Hout + i * n;
        real *g = dZ + i * n;
        real dot = 0;
        for (size_t j = 0; j < n; j++)
            dot += p[j] * g[j];
        for (size_t j = 0; j < n; j++)
            g[j] = p[j] * (g[j] - dot);
    }
}

/* dW (out, in) (+)= scale * alpha * dZ^T Hin;  db (out) (+)= scale * column
 * sums of dZ (skipped when NULL);  dHin (B, in) = alpha * dZ W (skipped when
 * NULL, i.e. for the input layer).  dZ (B, out), Hin (B, in), W (out, in). */
static void KN(matmul_backward)(real *dW, real *db, real *dHin, const real *dZ,
                                const real *Hin, const real *W, size_t B, size_t in,
                                size_t out, real alpha, real scale, int accumulate)
{
    GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)B, scale * alpha,
         dZ, (int)out, Hin, (int)in, accumulate ? 1 : 0, dW, (int)in);
    if (db) {
        if (!accumulate)
            memset(db, 0, out * sizeof(real));
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < out; j++)
                db[j] += scale * dZ[i * out + j];
    }
    if (dHin)
        GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in, (int)out, alpha,
             dZ, (int)out, W, (int)in, 0, dHin, (int)in);
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

/* Rows of Hout (B, n) whose output is saturated (see isw_mlp_stats_t). */
static size_t KN(count_out_saturated)(const real *Hout, size_t B, size_t n, isw_out_t out)
{
    size_t count = 0;
    for (size_t i = 0; i < B && out != ISW_OUT_LINEAR; i++) {
        const real *h = Hout + i * n;
        if (out == ISW_OUT_SOFTMAX) {
            count += h[KN(argmax)(h, n)] > (real)0.999;
            continue;
        }
        size_t extreme = 0;
        for (size_t j = 0; j < n; j++)
            extreme += h[j] < (real)0.001 || h[j] > (real)0.999;
        count += extreme == n;
    }
    return count;
}

/* Rows where argmax Hout == argmax Y; both (B, n). */
static size_t KN(count_correct)(const real *Hout, const real *Y, size_t B, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < B; i++)
        count += KN(argmax)(Hout + i * n, n) == KN(argmax)(Y + i * n, n);
    return count;
}

static double KN(sumsq)(const real *x, size_t n)
{
    double s = 0;
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
    int last = net->L - 1;
    for (int l = 0; l <= last; l++) {
        size_t in = (size_t)net->width[l], out = (size_t)net->width[l + 1];
        KN(matmul_forward)(net->Z[l], Hin, P + net->woff[l], net->bias ? P + net->boff[l] : NULL,
                           B, in, out, (real)net->alpha[l]);
        if (l < last)
            KN(act_forward)(net->H[l], net->Z[l], B * out, net->act, (real)net->leaky_slope);
        else
            KN(output_forward)(net->H[l], net->Z[l], B, out, net->out);
        Hin = net->H[l];
    }
}

static double KN(loss)(const isw_mlp_t *net, size_t B)
{
    int last = net->L - 1;
    return KN(loss_sum)(net->H[last], net->Z[last], net->Y, B, (size_t)net->width[net->L],
                        net->out, net->loss);
}

/* The reverse of forward: output delta, then per layer from the output
 * down the matmul backward and the activation derivative.  dZ and dH
 * alternate between the two scratch buffers. */
static void KN(backward)(isw_mlp_t *net, size_t B, double scale, int accumulate)
{
    const real *P = net->params;
    real *G = net->grads;
    real *dZ = net->dA, *dH = net->dB;
    int last = net->L - 1;
    KN(output_delta)(dZ, net->H[last], net->Y, B, (size_t)net->width[net->L], net->out,
                     net->loss);
    for (int l = last; l >= 0; l--) {
        size_t in = (size_t)net->width[l], out = (size_t)net->width[l + 1];
        const real *Hin = l > 0 ? net->H[l - 1] : net->X;
        KN(matmul_backward)(G + net->woff[l], net->bias ? G + net->boff[l] : NULL,
                            l > 0 ? dH : NULL, dZ, Hin, P + net->woff[l], B, in, out,
                            (real)net->alpha[l], (real)scale, accumulate);
        if (l > 0) {
            KN(act_backward)(dH, net->H[l - 1], net->Z[l - 1], B * in, net->act,
                             (real)net->leaky_slope);
            real *t = dZ;
            dZ = dH;
            dH = t;
        }
    }
}

static void KN(sgd_step)(isw_mlp_t *net, double lr, const double *lr_mult, double momentum)
{
    real *P = net->params, *V = net->velocity;
    const real *G = net->grads;
    for (int l = 0; l < net->L; l++) {
        size_t o = net->woff[l];
        double lr_eff = lr * (lr_mult ? lr_mult[l] : 1.0);
        KN(sgd_update)(P + o, V + o, G + o, net->lsize[l], (real)lr_eff, (real)momentum);
    }
}

static void KN(stats_accumulate)(isw_mlp_t *net, size_t B, double sat_derivative)
{
    int last = net->L - 1;
    size_t nout = (size_t)net->width[net->L];
    net->st_loss += KN(loss)(net, B);
    net->st_n += B;
    net->st_out_saturated += KN(count_out_saturated)(net->H[last], B, nout, net->out);
    if (net->classification)
        net->st_correct += KN(count_correct)(net->H[last], net->Y, B, nout);
    size_t unit = 0;
    for (int l = 0; l < last; l++) {
        size_t n = (size_t)net->width[l + 1];
        if (isw_act_kinked(net->act))
            KN(count_active)(net->st_active + unit, net->Z[l], B, n);
        if (isw_act_saturates(net->act))
            KN(count_saturated)(net->st_saturated + unit, net->H[l], B, n, net->act,
                                sat_derivative);
        unit += n;
    }
}

static void KN(grad_norms)(const isw_mlp_t *net, double *norms)
{
    const real *G = net->grads;
    for (int l = 0; l < net->L; l++)
        norms[l] = sqrt(KN(sumsq)(G + net->woff[l], net->lsize[l]));
}

static void KN(load_batch)(isw_mlp_t *net, const isw_data_t *data, const size_t *idx,
                           size_t first, size_t B)
{
    KN(gather_rows)(net->X, data->X, idx, first, B, data->nin);
    KN(gather_rows)(net->Y, data->Y, idx, first, B, data->nout);
}
