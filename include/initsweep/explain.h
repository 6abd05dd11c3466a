/* `initsweep explain`: why one run of a spec trains or fails, in words and
 * numbers, and which one-change counterfactuals fix it.
 *
 * The diagnosis reads the run's record, its per-epoch trajectory
 * (isw_epoch_t, with the full-data gradient per layer), the network at its
 * init (isw_train_probe_init) and its sharpness lambda_0, and names each
 * mechanism that holds, with the numbers that show it:
 * - saturated_units: a sigmoid/tanh hidden layer with >= 50 % of its
 *   (unit, sample) pairs below criteria.saturation_derivative at init, or
 *   the record's saturated_fraction >= criteria.saturated_fraction; with
 *   the mean pre-activation, its cause when the inputs are non-negative and
 *   the weights positive, and the constant-output plateau when the output
 *   no longer depends on the input (spread < 1e-3): mse 1/2 (1 - sum p_c^2),
 *   cross-entropy the entropy of the class frequencies p_c;
 * - dead_relu: the record's layer_dead or dead_fraction >= criteria's, with
 *   the epoch they died and the loss spike that killed them;
 * - saturated_softmax_mse: a softmax under mse saturated (max p > 0.999)
 *   on >= 50 % of the samples at init or at the end: its Jacobian leaves
 *   almost no gradient, cross-entropy's p - y does not vanish;
 * - curvature: lr lambda_0 against 2 (and 4), and divergence below 2
 *   (the curvature grew);
 * - vanishing_gradient / exploding_gradient: the per-layer ratio of the
 *   gradient norms at init, (|g_1| / |g_L|)^(1/(L-1)), below 1/2 or above
 *   2 with at least 3 weight layers;
 * - collapsed_layer: a sigmoid hidden layer whose mean activation starts
 *   near 1/2 (within 0.2) and falls below 0.1 (or rises above 0.9) at a
 *   later evaluation while the run does not converge (the top layer's
 *   collapse of Glorot & Bengio 2010: the output layer fits the class
 *   frequencies fastest by driving its inputs to 0, where sigma' is small),
 *   with the epoch, the other layers' means and the slope left there;
 * - slow: still improving when the epochs ran out (or `stalled` while the
 *   loss still falls), with the per-epoch rate;
 * - healthy: converged, none of the above.
 * A label that is right by the rules but misleads (slow while saturated, a
 * stalled run that is only slow) is said in `note`.  The counterfactuals
 * are chosen from the mechanisms, one change each (--set assignments). */
#ifndef ISW_EXPLAIN_H
#define ISW_EXPLAIN_H

#include "initsweep/data.h"
#include "initsweep/record.h"
#include "initsweep/spec.h"
#include "initsweep/train.h"

#define ISW_EXPLAIN_MAX_MECH 8
#define ISW_EXPLAIN_MAX_CF 6
#define ISW_EXPLAIN_TEXT 1200

typedef struct {
    const char *name;                    /* "saturated_units", ... (see above) */
    char text[ISW_EXPLAIN_TEXT];         /* one paragraph with its numbers */
} isw_mechanism_t;

typedef struct {
    char set[160];                       /* the --set assignment, "init.dist=uniform" */
    char why[160];                       /* what it tests */
    isw_record_t rec;                    /* its run's record, once trained */
    int status;                          /* ISW_OK once trained; else why not */
    char error[240];                     /* the error when status != ISW_OK */
} isw_counterfactual_t;

typedef struct {
    isw_record_t rec;                    /* the run itself (sharpness_initial set) */
    isw_init_probe_t probe;
    const isw_epoch_t *ep;               /* its evaluations, ep[0] at init (borrowed) */
    int nep;
    double c;                            /* lr_used * lambda_0, NaN without lambda_0 */
    double plateau;                      /* the best constant output's loss, NaN if n/a */
    int nmech;
    isw_mechanism_t mech[ISW_EXPLAIN_MAX_MECH];
    char note[ISW_EXPLAIN_TEXT];         /* a misleading label seen through, or "" */
    int ncf;
    isw_counterfactual_t cf[ISW_EXPLAIN_MAX_CF];
} isw_explain_t;

/* Names the mechanisms and chooses the counterfactuals (their records not
 * yet trained).  ex->rec, probe, ep, nep are set by the caller. */
void isw_explain_diagnose(isw_explain_t *ex, const isw_spec_t *spec, const isw_data_t *data);

/* After the counterfactuals ran: the sentences that depend on them (which
 * fix it; for a saturated softmax under mse, which loss a claim that a
 * smaller lr rescues it implies), appended to the note. */
void isw_explain_conclude(isw_explain_t *ex, const isw_spec_t *spec);

/* The report: plain text, or one JSON object (format "json"). */
void isw_explain_print(FILE *out, const isw_explain_t *ex, const isw_spec_t *spec,
                       const char *spec_path, int json);

#endif
