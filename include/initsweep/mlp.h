/* The multilayer perceptron: parameters in one contiguous buffer, forward and
 * backward on whole batches through cblas_sgemm / cblas_dgemm.  The only
 * module that calls BLAS.
 *
 * Layout.  Weight layer l (0 = input side, L-1 = output) maps width[l] to
 * width[l+1].  W_l is (width[l+1], width[l]) row-major at params + woff[l],
 * b_l is (width[l+1]) at params + boff[l] (absent without bias).  Batches
 * are row-major (B, width).  Pre-activation of layer l:
 *     Z_l = alpha[l] * H_{l-1} W_l^T + b_l
 * with alpha = 1 (standard) or, for mean_field, 1/sqrt(fan_in) on hidden
 * layers and 1/fan_in on the output layer, times model.gain on hidden
 * layers (isw_mlp_alpha).
 *
 * Lanes.  A net can hold K independent networks of the same shape (a pack,
 * DESIGN.md): every lane has its own parameters, all lanes share the batch
 * X, Y.  Storage is layer-major so that the input layer of all lanes is one
 * matrix: W_l of lane k at params + sw[l] + k*out*in, b_l of lane k at
 * params + sb[l] + k*out (out, in = width[l+1], width[l]).  Activations
 * are (B, lanes*width) with lane k's units at columns k*width..: the input
 * layer's forward is one GEMM  X (B, nin) [W_0 of lanes 0..K-1]^T, and its
 * weight gradient one GEMM  dZ_0^T X.  With K = 1 the layout is the single
 * net's: sw = woff, sb = boff.  woff, boff, lsize, nparams describe one
 * lane's parameters as one vector (init draws and the double copies use
 * that order: W_0, b_0, W_1, b_1, ...).  Lanes 0..lanes-1 are in use
 * (isw_mlp_set_lanes); every kernel runs on those only.
 *
 * Every buffer is typed by `prec`: float* or double* behind the void*.  All
 * memory is allocated in isw_mlp_alloc (one block per kind: params, grads,
 * velocity, activations, stats counters; named tensors point into them, all
 * zeroed); nothing else allocates, so a training step allocates nothing.
 *
 * Losses per sample (DESIGN.md): mse = 1/2 ||yhat - y||^2;  cross_entropy
 * with softmax = -sum_k y_k log p_k (from the logits by log-sum-exp), with
 * sigmoid = sum over units of binary cross-entropy (softplus of the logits).
 * cross_entropy with a linear output is invalid (isw_mlp_loss_fits;
 * isw_mlp_alloc: ISW_EINVAL). */
#ifndef ISW_MLP_H
#define ISW_MLP_H

#include "initsweep/common.h"
#include "initsweep/data.h"

/* ---- the model's concepts ------------------------------------------------
 * One table per concept in mlp.c, in enum order, holds each value's name
 * (as specs and runs.csv spell it) and the facts other modules ask about;
 * the spec's key table reads the names from here. */

typedef enum { ISW_ACT_SIGMOID, ISW_ACT_TANH, ISW_ACT_RELU, ISW_ACT_LEAKY_RELU,
               ISW_ACT_LINEAR, ISW_NACTS } isw_act_t;
typedef enum { ISW_OUT_SIGMOID, ISW_OUT_SOFTMAX, ISW_OUT_LINEAR, ISW_NOUTS } isw_out_t;
typedef enum { ISW_LOSS_MSE, ISW_LOSS_CROSS_ENTROPY, ISW_NLOSSES } isw_loss_t;
/* Pre-activation multipliers alpha_l and per-layer lr scales (mlp.c):
 * standard   alpha 1;
 * mean_field alpha 1/sqrt(fan_in) on hidden layers, 1/fan_in on the output;
 * ntk        alpha 1/sqrt(fan_in) on every layer (weights N(0, 1): init normal);
 * mup        the maximal-update parameterisation for SGD (Yang & Hu 2021),
 *            in the equivalent form with fan-in inits (lecun_normal):
 *            alpha 1/sqrt(fan_in) on the output layer, 1 elsewhere, and the
 *            input layer's lr scaled by its width n (its fan_out), so one
 *            global lr means the same at every width.  Hidden layers'
 *            biases keep factor 1 (muP would scale them like input
 *            weights): exact for nets without biases or with one hidden
 *            layer. */
typedef enum { ISW_PARAM_STANDARD, ISW_PARAM_MEAN_FIELD, ISW_PARAM_NTK, ISW_PARAM_MUP,
               ISW_NPARAMETERIZATIONS } isw_param_t;
typedef enum { ISW_PREC_FLOAT, ISW_PREC_DOUBLE, ISW_NPRECS } isw_prec_t;

/* Names; "?" for a value outside the enum. */
const char *isw_act_name(isw_act_t a);
const char *isw_out_name(isw_out_t o);
const char *isw_loss_name(isw_loss_t l);
const char *isw_param_name(isw_param_t p);
const char *isw_prec_name(isw_prec_t p);

/* A hidden unit of this activation can die: relu passes no gradient where
 * z <= 0, so a unit with z <= 0 on every sample never recovers (the `dead`
 * diagnostics and outcome). */
int isw_act_can_die(isw_act_t a);
/* Its derivative vanishes for large |z| (sigmoid, tanh): the `saturated`
 * diagnostics and outcome. */
int isw_act_saturates(isw_act_t a);
/* Piecewise linear with its kink at 0 (relu, leaky_relu): st_active counts
 * the samples with z > 0. */
int isw_act_kinked(isw_act_t a);
/* The output gives probabilities in (0, 1) (softmax, sigmoid): cross_entropy
 * applies, and the output can saturate (isw_mlp_stats_t). */
int isw_out_probabilities(isw_out_t o);
/* Classes the output needs at least: 2 for softmax, else 0. */
int isw_out_min_classes(isw_out_t o);
/* 1 when the loss can be computed on this output: cross_entropy needs
 * probabilities (isw_out_probabilities), mse takes any. */
int isw_mlp_loss_fits(isw_loss_t l, isw_out_t o);

/* Bound that keeps every size computation far from overflow; memory is
 * checked against the machine separately (isw_train_check_memory). */
#define ISW_MAX_WIDTH (1 << 20)
/* Most lanes one net holds (a pack's K). */
#define ISW_MAX_LANES 64

/* The model part of a spec (the spec's `model` section). */
typedef struct {
    int nhidden;
    int hidden[ISW_MAX_HIDDEN];          /* widths, input to output */
    isw_act_t activation;                /* default relu */
    isw_out_t output;                    /* default softmax (classification) */
    isw_loss_t loss;                     /* default cross_entropy */
    int bias;                            /* default 1 */
    isw_param_t parameterization;        /* default standard */
    double leaky_slope;                  /* model.leaky_slope, default 0.01 */
    /* model.gain g, default 1: a hidden unit computes phi(g alpha h.w + b)
     * -- phi(g z) without biases: tanh(sqrt 2 z), sqrt 2 relu(z) (the
     * fractal paper's nets) -- by multiplying alpha of hidden layers */
    double gain;
    /* model.width / model.depth: when either is given (> 0), validation
     * makes `hidden` depth copies of width (the other taken from hidden:
     * its first width, its length), so either can be a numeric axis */
    int width, depth;
    /* Whether output / loss were given.  When not, isw_spec_validate's
     * resolution picks softmax + cross_entropy for classification data and
     * linear + mse for regression data (on every validate).  The value
     * `auto` (model.output: auto) clears them again. */
    int output_set, loss_set;
} isw_model_spec_t;

typedef struct {
    isw_prec_t prec;
    size_t elsize;                       /* sizeof(float) or sizeof(double) */
    int L;                               /* weight layers = nhidden + 1 */
    int width[ISW_MAX_LAYERS + 1];       /* width[0] = nin, width[L] = nout */
    isw_act_t act;
    isw_out_t out;
    isw_loss_t loss;
    int bias;
    int classification;                  /* caller sets data->classes > 0; 0: accuracy NaN */
    double leaky_slope;
    double alpha[ISW_MAX_LAYERS];        /* pre-activation multipliers */
    double lr_scale[ISW_MAX_LAYERS];     /* the parameterisation's per-layer lr factor */
    size_t woff[ISW_MAX_LAYERS], boff[ISW_MAX_LAYERS];
    size_t lsize[ISW_MAX_LAYERS];        /* parameters of layer l (W and b) of one lane */
    size_t nparams;                      /* parameters of one lane */
    int nlanes;                          /* lanes allocated (K) */
    int lanes;                           /* lanes in use, 1..nlanes */
    size_t sw[ISW_MAX_LAYERS], sb[ISW_MAX_LAYERS]; /* storage offsets of lane 0's W_l, b_l */
    size_t nhidden_units;                /* sum of hidden widths */
    size_t max_batch;
    size_t max_width;                    /* max of width[1..L]: rows of dA, dB */

    void *params;                        /* (nlanes * nparams), layer-major */
    void *grads;                         /* (nlanes * nparams), same layout */
    void *velocity;                      /* (nlanes * nparams), momentum buffer */
    void *X;                             /* (max_batch, nin): batch inputs */
    void *Y;                             /* (max_batch, nout): batch targets */
    void *Z[ISW_MAX_LAYERS];             /* (max_batch, lanes*width[l+1]) pre-activations */
    void *H[ISW_MAX_LAYERS];             /* (max_batch, lanes*width[l+1]) activations;
                                          * H[L-1] = output */
    void *dA, *dB;                       /* (max_batch, lanes*max_width) backward scratch */
    void *acts;                          /* the one block X, Y, Z, H, dA, dB point into */

    /* Evaluation accumulators per lane, reset by isw_mlp_stats_reset. */
    double *st_loss;                     /* (nlanes) sum of per-sample losses */
    size_t *st_correct, *st_out_saturated; /* (nlanes) each */
    size_t st_n;                         /* samples seen (all lanes see the same) */
    uint32_t *st_active;                 /* (nlanes * nhidden_units) samples with z > 0:
                                          * layer l's block at nlanes*(units before l),
                                          * lane k's units at k*width[l+1] in it */
    uint32_t *st_saturated;              /* same shape: samples with tiny derivative */
    double *lane_tmp;                    /* (nlanes) per-batch sums */
} isw_mlp_t;

/* Summary of an evaluation pass. */
typedef struct {
    double loss;                         /* mean loss (DESIGN.md convention) */
    double accuracy;                     /* NaN for regression */
    double dead_fraction;                /* relu hidden units with z <= 0 on every sample */
    int layer_dead;                      /* 1: some relu hidden layer entirely dead */
    double saturated_fraction;           /* sigmoid/tanh hidden units saturated on >= 99 % */
    double output_saturated_fraction;    /* samples whose output is saturated: softmax
                                          * max p > 0.999; sigmoid every unit < 0.001 or
                                          * > 0.999; linear never */
    size_t n;
} isw_mlp_stats_t;

/* The pre-activation multiplier alpha of a layer with fan_in inputs under
 * the model's parameterisation, times model.gain on hidden layers; last:
 * the output layer. */
double isw_mlp_alpha(const isw_model_spec_t *m, size_t fan_in, int last);

/* Number of parameters of a model spec for given input/output widths. */
size_t isw_mlp_nparams(const isw_model_spec_t *m, size_t nin, size_t nout);
/* Bytes isw_mlp_alloc_lanes will allocate for `lanes` lanes. */
size_t isw_mlp_nbytes(const isw_model_spec_t *m, size_t nin, size_t nout,
                      isw_prec_t prec, size_t max_batch, int lanes);
/* FLOPs of one forward+backward on a batch of B samples (2 per multiply-add):
 * forward 2*B*in*out per layer, backward twice that (dW and dH), so
 * 6*B*sum(in*out).  Bias adds, activations and the loss are not counted. */
double isw_mlp_flops(const isw_model_spec_t *m, size_t nin, size_t nout, size_t B);

/* One lane (isw_mlp_alloc_lanes with lanes = 1). */
int isw_mlp_alloc(isw_mlp_t *net, const isw_model_spec_t *m, size_t nin, size_t nout,
                  isw_prec_t prec, size_t max_batch);
/* K = lanes networks of one shape, all in use. */
int isw_mlp_alloc_lanes(isw_mlp_t *net, const isw_model_spec_t *m, size_t nin, size_t nout,
                        isw_prec_t prec, size_t max_batch, int lanes);
/* Lanes in use from now on: 1 <= n <= nlanes.  Activations and statistics
 * are recomputed by the next forward and stats pass. */
void isw_mlp_set_lanes(isw_mlp_t *net, int n);
/* Lane dst takes lane src's parameters, momentum and gradient (compacting a
 * pack between an evaluation and the step that uses its gradient). */
void isw_mlp_lane_copy(isw_mlp_t *net, int dst, int src);
/* Lane `lane` starts afresh: its momentum buffer is zeroed (its parameters
 * come from isw_init_params; gradients are overwritten by every backward). */
void isw_mlp_lane_reset(isw_mlp_t *net, int lane);
/* Frees the buffers and zeroes the struct; accepts NULL and a zeroed struct. */
void isw_mlp_free(isw_mlp_t *net);

/* Threads OpenBLAS may use (openblas_set_num_threads); the sweep pins 1. */
void isw_mlp_blas_threads(int n);
/* The OpenBLAS kernel set in use ("Haswell", "SkylakeX", ...): float
 * results of a borderline run can depend on it (OPENBLAS_CORETYPE). */
const char *isw_mlp_blas_core(void);

/* Copies rows idx[0..B) of data into X and Y (cast to the precision).
 * idx NULL means rows first .. first+B-1. */
void isw_mlp_load_batch(isw_mlp_t *net, const isw_data_t *data, const size_t *idx,
                        size_t first, size_t B);

/* Fills Z and H for the first B rows of X. */
void isw_mlp_forward(isw_mlp_t *net, size_t B);
/* Sum over the B rows of the per-sample loss against Y (forward first):
 * sums[lanes] for every lane in use, or lane 0's. */
void isw_mlp_loss_lanes(const isw_mlp_t *net, size_t B, double *sums);
double isw_mlp_loss(const isw_mlp_t *net, size_t B);
/* grads (+)= scale * sum_i d loss_i / d params.  scale = 1/B gives the
 * mean-loss gradient; accumulate = 1 adds to grads (chunked full batch). */
void isw_mlp_backward(isw_mlp_t *net, size_t B, double scale, int accumulate);
/* Backward and a plain SGD step (no momentum) of every lane in use in one
 * pass: lane k's parameters -= lr[k] * lr_mult[k][l] (lr_mult[k] NULL: 1)
 * * scale * d loss / d params when step[k], else unchanged (but the sign of
 * a zero); the gradient goes into the parameters, not into net->grads.
 * What a pack's mini-batch step does; the same update as backward then
 * isw_mlp_sgd_step_lane, to rounding. */
void isw_mlp_backward_sgd(isw_mlp_t *net, size_t B, double scale, const double *lr,
                          const double *const *lr_mult, const unsigned char *step);
/* params -= lr * lr_mult[l] * (momentum buffer or grads), layer by layer,
 * of one lane; isw_mlp_sgd_step is lane 0's. */
void isw_mlp_sgd_step_lane(isw_mlp_t *net, int lane, double lr, const double *lr_mult,
                           double momentum);
void isw_mlp_sgd_step(isw_mlp_t *net, double lr, const double *lr_mult, double momentum);

/* Evaluation: reset, then after each forward accumulate, then summarize.
 * accumulate adds the batch loss sum, the correct count (argmax output ==
 * argmax Y, classification only), and per hidden unit: st_active (relu and
 * leaky_relu: samples with z > 0) and st_saturated (sigmoid: s(1-s), tanh:
 * 1-t^2 below sat_derivative).  get: dead_fraction counts relu units (never
 * leaky ones) with st_active == 0; saturated_fraction counts sigmoid/tanh
 * units saturated on >= 99 % of samples; loss and accuracy are NaN when no
 * sample was seen. */
void isw_mlp_stats_reset(isw_mlp_t *net);
void isw_mlp_stats_accumulate(isw_mlp_t *net, size_t B, double sat_derivative);
void isw_mlp_stats_get(const isw_mlp_t *net, isw_mlp_stats_t *out);
void isw_mlp_stats_get_lane(const isw_mlp_t *net, int lane, isw_mlp_stats_t *out);

/* Per lane from here on; the functions without _lane are lane 0's (the only
 * lane of a net from isw_mlp_alloc). */
/* Euclidean norm of the gradient of each weight layer (W and b): norms[L]. */
void isw_mlp_grad_norms_lane(const isw_mlp_t *net, int lane, double *norms);
void isw_mlp_grad_norms(const isw_mlp_t *net, double *norms);
/* 1 when every parameter is finite. */
int isw_mlp_params_finite_lane(const isw_mlp_t *net, int lane);
int isw_mlp_params_finite(const isw_mlp_t *net);

/* Parameters and gradients as double (one lane's vector, woff/boff order),
 * for init, tests and Hessian probes.  dst, src (nparams). */
void isw_mlp_params_get_lane(const isw_mlp_t *net, int lane, double *dst);
void isw_mlp_params_set_lane(isw_mlp_t *net, int lane, const double *src);
void isw_mlp_grads_get_lane(const isw_mlp_t *net, int lane, double *dst);
void isw_mlp_params_get(const isw_mlp_t *net, double *dst);
void isw_mlp_params_set(isw_mlp_t *net, const double *src);
void isw_mlp_grads_get(const isw_mlp_t *net, double *dst);
/* Output of row i, unit j of a lane after forward. */
double isw_mlp_output_lane(const isw_mlp_t *net, int lane, size_t i, size_t j);
double isw_mlp_output(const isw_mlp_t *net, size_t i, size_t j);
/* Input row i, feature j of the current batch (tests write inputs directly). */
void isw_mlp_set_input(isw_mlp_t *net, size_t i, size_t j, double v);
void isw_mlp_set_target(isw_mlp_t *net, size_t i, size_t j, double v);

#endif
