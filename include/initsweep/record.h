/* One run's record and its schema: the one place that says which columns a
 * runs.csv row has after its axes, their type, how each is written and read,
 * and what it means.  The struct, the runs.csv header, writer and reader,
 * `train`'s record print and analysis/schema.json (tools/isw_schema.c) all
 * come from ISW_RECORD_COLUMNS, so a new column is one line here plus the
 * code that computes it.  No MPI, no files here. */
#ifndef ISW_RECORD_H
#define ISW_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "initsweep/common.h"

/* The column types, their C field type and their text form:
 * OUTCOME  int32_t  an outcome name (isw_outcome_name, train.h)
 * INT      int32_t  a decimal integer, never empty
 * EPOCH    int32_t  a decimal integer; -1 (never) written empty
 * REAL     double   "%.17g" (reads back bit for bit); NaN (not defined)
 *                   written empty; +-infinity as "inf"/"-inf" */
typedef enum { ISW_COL_OUTCOME, ISW_COL_INT, ISW_COL_EPOCH, ISW_COL_REAL } isw_col_type_t;
#define ISW_COL_CTYPE_OUTCOME int32_t
#define ISW_COL_CTYPE_INT int32_t
#define ISW_COL_CTYPE_EPOCH int32_t
#define ISW_COL_CTYPE_REAL double

/* X(name, TYPE, initial value, meaning), in runs.csv column order.  The
 * initial value is what isw_record_init gives a run that has not trained
 * (an expression of record.c, where train.h's outcomes are known). */
#define ISW_RECORD_COLUMNS(X)                                                                   \
    X(outcome, OUTCOME, ISW_OUTCOME_STALLED,                                                    \
      "the run's class (converged, diverged, dead, saturated, stalled, slow)")                  \
    X(epochs, INT, 0, "epochs trained")                                                         \
    X(epoch_converged, EPOCH, -1, "first evaluated epoch at the target; empty: never")          \
    X(loss_initial, REAL, NAN, "loss on the evaluation set at initialisation")                 \
    X(loss_final, REAL, NAN, "loss on the evaluation set at the last evaluation")              \
    X(loss_best, REAL, NAN, "lowest evaluated loss")                                            \
    X(loss_max, REAL, NAN, "largest evaluated loss (a catapult's peak, or where it diverged)") \
    X(catapult, INT, 0,                                                                         \
      "1 when the run converged although its loss rose above loss_initial on the way")          \
    X(accuracy_final, REAL, NAN, "accuracy at the last evaluation; empty for regression")      \
    X(grad_norm_initial, REAL, NAN, "norm of the whole full-data gradient at initialisation")  \
    X(dead_fraction, REAL, NAN, "share of ReLU hidden units dead on every sample, at the end") \
    X(saturated_fraction, REAL, NAN,                                                            \
      "share of saturating hidden units saturated on every sample, at the end")                 \
    X(output_saturated_fraction, REAL, NAN,                                                     \
      "share of samples whose softmax/sigmoid output is saturated, at the end")                 \
    X(layer_dead, INT, 0, "1 when a hidden layer is entirely dead at the end")                  \
    X(lr_used, REAL, NAN,                                                                       \
      "learning rate the run trained with: train.lr, or train.lr / sharpness_initial with "    \
      "train.lr_unit: sharpness (0 when that is not positive)")                                 \
    X(sharpness_initial, REAL, NAN,                                                             \
      "top Hessian eigenvalue at initialisation (exact Hessian-vector products in double; "    \
      "with per-layer lr factors, of P^1/2 H P^1/2, so lr * it < 2 is the GD condition); "     \
      "empty unless train.sharpness or train.lr_unit: sharpness")                               \
    X(sharpness_max, REAL, NAN,                                                                 \
      "largest probed sharpness lambda_t (train.sharpness_every); empty without")               \
    X(sharpness_final, REAL, NAN, "the last probed lambda_t; empty without sharpness_every")     \
    X(eos_epoch, EPOCH, -1,                                                                     \
      "first probed evaluation with lambda_t >= 2 (1 + momentum) / lr_used (the edge of "      \
      "stability); empty: never, or not probed")                                                \
    X(eos_ratio, REAL, NAN,                                                                     \
      "median of lambda_t lr_used / (2 (1 + momentum)) over the probes from eos_epoch on (1: "  \
      "at the edge)")                                                                           \
    X(batch_sharpness_final, REAL, NAN,                                                         \
      "the last probe's batch sharpness (train.batch_sharpness: mini-batch curvature along "   \
      "its own step, which SGD drives to 2 / lr)")                                              \
    X(batch_eos_ratio, REAL, NAN,                                                               \
      "median of lr_used * batch sharpness / (2 (1 + momentum)) over the probes from its "     \
      "first >= 1 on")                                                                          \
    X(loss_early_ratio, REAL, NAN,                                                              \
      "largest loss_t / loss_initial over evaluations 1..train.early_steps (> 1: the loss "    \
      "rose early, a catapult or a divergence)")                                                \
    X(sharpness_early_ratio, REAL, NAN,                                                         \
      "largest lambda_t / lambda_0 over the probes in evaluations 1..train.early_steps")       \
    X(bounded_score, REAL, NAN,                                                                 \
      "criteria.rule: bounded: the fractal paper's signed score, -sum of loss_t / loss_0 over "\
      "the budget when converged, sum of loss_0 / loss_t when diverged (non-finite as 1e6)")  \
    X(signal_q, REAL, NAN,                                                                      \
      "train.signal: pre-activation variance q (mean z^2) of the last hidden layer at init")   \
    X(signal_q_ratio, REAL, NAN,                                                                \
      "train.signal: q of the last hidden layer over q of the first (2^-(L-1) when each of L " \
      "ReLU layers halves the signal)")                                                         \
    X(signal_c, REAL, NAN,                                                                      \
      "train.signal: correlation c of two inputs' pre-activations in the last hidden layer "   \
      "at init (mean over sample pairs)")                                                       \
    X(chi1_measured, REAL, NAN,                                                                 \
      "train.signal: per-layer factor of the squared backward signal ||d loss / d z_l||^2 "    \
      "at init, exp(-slope) of its log over hidden layers 2..L (< 1: gradients vanish toward " \
      "the input); empty with fewer than two hidden layers")                                    \
    X(mf_q_star, REAL, NAN,                                                                     \
      "train.signal: mean-field fixed point q* for the activation and (sigma_w^2, sigma_b^2) " \
      "of a hidden layer; inf when the signal grows without bound")                             \
    X(mf_chi1, REAL, NAN, "train.signal: mean-field chi_1 at q* (1: the order-chaos line)")    \
    X(mf_c_star, REAL, NAN, "train.signal: mean-field correlation fixed point c*")             \
    X(mf_xi_c, REAL, NAN,                                                                       \
      "train.signal: mean-field depth scale xi_c of correlations, in layers (inf at the line)") \
    X(seconds, REAL, 0, "wall time of the run in seconds (differs run to run)")

/* One run's record: the task, then one field per column.  Fixed size, so it
 * travels as one MPI message. */
#define ISW_RECORD_FIELD_(name, type, init, meaning) ISW_COL_CTYPE_##type name;
typedef struct {
    uint64_t task;
    ISW_RECORD_COLUMNS(ISW_RECORD_FIELD_)
} isw_record_t;
#undef ISW_RECORD_FIELD_

#define ISW_RECORD_COUNT_(name, type, init, meaning) +1
enum { ISW_RECORD_NCOLUMNS = 0 ISW_RECORD_COLUMNS(ISW_RECORD_COUNT_) };
#undef ISW_RECORD_COUNT_

/* One row of the schema. */
typedef struct {
    const char *name;
    isw_col_type_t type;
    size_t offset;           /* of the field in isw_record_t */
    const char *meaning;
} isw_record_column_t;

extern const isw_record_column_t isw_record_columns[ISW_RECORD_NCOLUMNS];

/* Every column at its initial value, and the task. */
void isw_record_init(isw_record_t *rec, uint64_t task);

/* The type's name as schema.json gives it ("outcome", "int", "epoch", "real"). */
const char *isw_col_type_name(isw_col_type_t type);

/* Appends column col of rec in its runs.csv form (no separator).  Returns 0,
 * or -1 when the outcome is not an outcome. */
int isw_record_format(isw_sb_t *b, const isw_record_t *rec, int col);
/* The same with reals to `digits` significant digits ("%.*g"), for people. */
int isw_record_format_digits(isw_sb_t *b, const isw_record_t *rec, int col, int digits);
/* Parses text as column col into rec.  Returns 1, or 0 with *expected set
 * to what the column holds ("an integer or empty", ...). */
int isw_record_parse(isw_record_t *rec, int col, const char *text, const char **expected);
/* The most characters isw_record_format writes for any column. */
#define ISW_RECORD_FIELD_MAX 32

#endif
