/* The SGD loop, per-epoch metrics, run classification and diagnostics.
 * Knows nothing about MPI: `initsweep train`, the sweep and the tests call
 * isw_train_run directly. */
#ifndef ISW_TRAIN_H
#define ISW_TRAIN_H

#include <gsl/gsl_rng.h>

#include "initsweep/common.h"
#include "initsweep/meanfield.h"
#include "initsweep/spec.h"
#include "initsweep/data.h"
#include "initsweep/record.h"

typedef enum {
    ISW_OUTCOME_CONVERGED = 0,
    ISW_OUTCOME_DIVERGED,
    ISW_OUTCOME_DEAD,
    ISW_OUTCOME_SATURATED,
    ISW_OUTCOME_STALLED,
    ISW_OUTCOME_SLOW,
    ISW_NOUTCOMES
} isw_outcome_t;

const char *isw_outcome_name(int outcome);
/* The outcome rules in order of precedence (rank 0 first): the rule's text
 * in the spec's key names, and in *outcome which outcome it gives; NULL
 * past the last.  isw_flat_rule defines "flat"; isw_bounded_rule is
 * criteria.rule: bounded.  (--schema exports them for the report.) */
const char *isw_outcome_rule(int rank, int *outcome);
extern const char *const isw_flat_rule;
extern const char *const isw_bounded_rule;

/* What train.lr means (train.lr_unit): an absolute learning rate, or c =
 * lr * lambda_0 in units of the run's own initial sharpness (each run's
 * lr is c / lambda_0; gradient descent on a quadratic is stable for c < 2). */
typedef enum { ISW_LR_ABSOLUTE, ISW_LR_SHARPNESS, ISW_NLR_UNITS } isw_lr_unit_t;
const char *isw_lr_unit_name(isw_lr_unit_t u);

/* How a run is judged converged (criteria.rule): at the target at the end,
 * with the failure labels otherwise; or bounded, as published trainability
 * maps do: the mean of the last criteria.bounded_window losses over loss_0
 * below 1 (non-finite counted as 1e6), diverged otherwise. */
typedef enum { ISW_RULE_TARGET, ISW_RULE_BOUNDED, ISW_NRULES } isw_rule_t;
const char *isw_rule_name(isw_rule_t r);
/* -1 when the name is not an outcome. */
int isw_outcome_parse(const char *name);

/* Metrics of one evaluation (epoch 0 = at initialisation). */
typedef struct {
    int epoch;
    double loss, accuracy;               /* accuracy NaN for regression */
    int nlayers;
    double grad_norm[ISW_MAX_LAYERS];    /* per weight layer, full-data gradient */
    double dead_fraction, saturated_fraction, output_saturated_fraction;
    int layer_dead;                      /* a relu hidden layer entirely dead */
    double sharpness;                    /* lambda_t where probed (train.sharpness_every,
                                          * epoch 0 with any sharpness), else NaN */
    /* Per hidden layer l (input side first; nlayers - 1 of them), over its
     * units and the evaluation samples, when the run reports its epochs
     * (an isw_epoch_fn: `train --trace`, explain), else NaN: the mean
     * activation, the mean squared pre-activation q_l, and the share of
     * (unit, sample) pairs on the flat part (sigmoid/tanh: slope below
     * criteria.saturation_derivative; relu: z <= 0). */
    double act_mean[ISW_MAX_HIDDEN], q[ISW_MAX_HIDDEN], flat_share[ISW_MAX_HIDDEN];
} isw_epoch_t;

/* Called after every evaluation (of a pack: once per round, with one
 * lane's metrics); return nonzero to stop the run (the pack). */
typedef int (*isw_epoch_fn)(const isw_epoch_t *ep, void *user);
/* Called with each run's finished record. */
typedef void (*isw_record_fn)(const isw_record_t *rec, void *user);

/* Trains one run of spec on data and fills rec (rec->task is kept).  A
 * diverging run is a result, not an error: ISW_OK with outcome diverged. */
/* Refuses (ISW_EINVAL) a run whose memory (parameters, gradients,
 * activations of a batch and of an evaluation pass, per-epoch history)
 * would exceed this machine's physical memory, saying what was asked and
 * what there is.  Computed in double, so absurd sizes cannot overflow. */
int isw_train_check_memory(const isw_spec_t *spec, const isw_data_t *data, isw_error_t *err);

int isw_train_run(isw_record_t *rec, const isw_spec_t *spec, const isw_data_t *data,
                  isw_epoch_fn fn, void *user, isw_error_t *err);

/* Packs (DESIGN.md).  Trains the n runs specs[0..n) on data as the lanes of
 * packs of isw_train_pack_lanes(specs, data, n) networks and fills recs
 * (each rec->task kept); done, when not NULL, hears of each record as its
 * run ends, in an order fixed by the specs.  The runs must be
 * isw_train_pack_compatible with the first (else ISW_EINVAL).  Every run's
 * record depends only on the specs in the order given: the same list gives
 * the same records bit for bit.  When fn stops the pack, the runs in its
 * lanes end there (as a stopped run does) and runs not yet started keep
 * their initial records (done is not called for them). */
int isw_train_pack(isw_record_t *recs, const isw_spec_t *specs, size_t n,
                   const isw_data_t *data, isw_epoch_fn fn, void *fn_user, isw_record_fn done,
                   void *done_user, isw_error_t *err);
/* 1 when runs a and b can share a pack: everything the lanes share is
 * equal (the model, precision, epochs, batch, shuffle, evaluation, sharpness,
 * train.pack, the seeds and criteria.saturation_derivative); init, learning
 * rates, momentum and the other criteria may differ. */
int isw_train_pack_compatible(const isw_spec_t *a, const isw_spec_t *b);
/* The lanes a pack of n such runs uses: train.pack when set, else as many
 * as keep a step's
 * activations within a cache-sized budget (at most ISW_MAX_LANES); never
 * more than n. */
int isw_train_pack_lanes(const isw_spec_t *spec, const isw_data_t *data, size_t n);

/* The outcome rules, on an evaluated trajectory, exposed for tests.
 * loss[0..n) are the evaluated losses (loss[0] at init), acc likewise or
 * NULL; nonfinite: a step produced a non-finite value; capped: a loss passed
 * diverge_ratio * loss[0]; the fractions are from the last evaluation. */
typedef struct {
    const double *loss;
    const double *acc;
    int n;
    int nonfinite, capped;
    int layer_dead;
    double dead_fraction, saturated_fraction, output_saturated_fraction;
    int uses_relu;                       /* hidden units can die (isw_act_can_die) */
    int uses_saturating;                 /* hidden units saturate (isw_act_saturates) */
    int output_saturates;                /* a softmax or sigmoid output
                                          * (isw_out_probabilities) */
    int unscaled;                        /* train.lr_unit: sharpness without a positive
                                          * lambda_0: the run could not move (stalled) */
} isw_trajectory_t;

/* Returns the outcome and sets *epoch_converged (-1 when never). */
isw_outcome_t isw_train_classify(const isw_criteria_spec_t *c, const isw_trajectory_t *t,
                                 int *epoch_converged);
/* 1 when the last `patience` evaluations improved the best loss by less than
 * min_improvement (relative). */
int isw_train_is_flat(const isw_criteria_spec_t *c, const double *loss, int n);

/* Fisher-Yates shuffle of perm[0..n) from the run's shuffle stream: the
 * per-epoch sample order of mini-batch training. */
void isw_train_shuffle(size_t *perm, size_t n, gsl_rng *r);

/* 1 when the spec's runs probe the curvature: train.sharpness,
 * lr_unit: sharpness, sharpness_every or batch_sharpness. */
int isw_train_wants_sharpness(const isw_spec_t *spec);

/* Sharpness at the spec's init: top eigenvalue of the Hessian of the mean
 * loss on the evaluation set, by the spec's train.sharpness_method and
 * sharpness_iters on exact Hessian-vector products in double (hessian.h);
 * top[0..ntop) the largest eigenvalues found, descending (power iteration
 * finds one).  For tests and `initsweep train`. */
int isw_train_sharpness(double *top, int ntop, const isw_spec_t *spec, const isw_data_t *data,
                        isw_error_t *err);

/* The network of a spec at its init, looked at on the evaluation set:
 * what `initsweep explain` diagnoses from.  Per hidden layer l (input side
 * first): the mean and RMS of the pre-activations z over units and
 * samples, the mean slope of the activation (sigmoid s(1-s), tanh 1-t^2,
 * relu 1[z>0]), and the share of (unit, sample) pairs whose slope is below
 * criteria.saturation_derivative.  Over the outputs: their spread (RMS over
 * samples of the deviation from the mean output, over the mean output's
 * norm: ~0 when the output no longer depends on the input) and the mean
 * largest output (a softmax's max p).  Per weight layer the norm of the
 * full-data gradient, and the evaluation's loss and fractions. */
typedef struct {
    int width;
    double z_mean, z_rms, slope_mean, flat_share;
    /* Signal propagation (mean-field terms): q = mean z^2 over units and
     * samples (z_rms^2), corr the correlation c_l of the pre-activation
     * vectors of two inputs (mean over the sample pairs (0,1), (2,3), ...),
     * delta_sq the mean over samples of ||d loss_n / d z_l||^2 (backward one
     * sample at a time, on the first ISW_PROBE_DELTA_SAMPLES samples). */
    double corr, delta_sq;
} isw_layer_probe_t;

#define ISW_PROBE_DELTA_SAMPLES 64

typedef struct {
    int nlayers;                         /* weight layers */
    isw_layer_probe_t layer[ISW_MAX_LAYERS]; /* hidden layers: nlayers - 1 */
    /* exp(-slope) of the least-squares line through ln delta_sq against the
     * hidden layer's index, over hidden layers 1..last (all of them with two
     * hidden layers; NaN with one): the measured per-layer factor chi_1 by
     * which squared gradients shrink (< 1) or grow toward the input. */
    double chi1;
    double grad_norm[ISW_MAX_LAYERS];
    double output_spread, output_max_mean;
    double loss, dead_fraction, saturated_fraction, output_saturated_fraction;
} isw_init_probe_t;

/* The mean-field picture of a spec's init (meanfield.h): sigma_w^2 =
 * alpha^2 Var(w) fan_in of the first hidden-to-hidden layer (the input
 * layer when there is one hidden layer), sigma_b^2 the biases' variance.
 * ISW_EINVAL without hidden layers. */
int isw_train_meanfield(isw_meanfield_t *mf, double *sigma_w2, double *sigma_b2,
                        const isw_spec_t *spec, const isw_data_t *data);

int isw_train_probe_init(isw_init_probe_t *out, const isw_spec_t *spec, const isw_data_t *data,
                         isw_error_t *err);

#endif
