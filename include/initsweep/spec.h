/* The sweep spec: YAML file -> typed config with defaults, `--set` overrides.
 *
 * isw_spec_t is plain data (no pointers): a copy by assignment is a full
 * copy, so the grid can take the base spec, apply one task's axis values with
 * isw_spec_set() and hand the result to the trainer.  The sweep axes, which
 * own heap memory, live apart in isw_sweep_t.  Only the spec*.c files know
 * YAML.  The enums of the fields and their names belong to the modules that
 * give them meaning (data.h, mlp.h, init.h); the key table (spec_keys.c)
 * reads the names from there. */
#ifndef ISW_SPEC_H
#define ISW_SPEC_H

#include "initsweep/common.h"
#include "initsweep/data.h"
#include "initsweep/init.h"
#include "initsweep/mlp.h"

/* Bound that keeps the per-epoch history far from overflow. */
#define ISW_MAX_EPOCHS 100000000

typedef struct {
    double lr;                           /* default 0.1 */
    /* Per-layer multipliers of lr.  Every entry is always valid (1.0 unless
     * set), so a trainer may use lr_layer[l] for l < layers directly;
     * entries past max(lr_layer_list, lr_layer_keys) are 1. */
    double lr_layer[ISW_MAX_LAYERS];     /* per weight layer, input side first */
    int lr_layer_list;                   /* length of a `lr_layer: [...]` list, 0 none */
    int lr_layer_keys;                   /* 1 + largest K of `lr_layer.K` keys, 0 none */
    double momentum;                     /* heavy ball, default 0 */
    isw_prec_t precision;                /* default float */
    int epochs;                          /* default 30 */
    long batch;                          /* 0 = full batch, default 32 */
    int shuffle;                         /* default 1 */
    int replacement;                     /* train.replacement: batches drawn with
                                          * replacement, default 0 */
    int epoch_steps;                     /* with replacement: steps per evaluation,
                                          * 0 = ceil(n / batch) */
    int sharpness;                       /* compute sharpness_initial, default 0 */
    int sharpness_iters;                 /* power iterations or Lanczos steps, default 20 */
    int sharpness_method;                /* isw_sharp_method_t (hessian.h), default power */
    int lr_unit;                         /* isw_lr_unit_t (train.h), default absolute */
    int sharpness_every;                 /* probe lambda_t every K evaluations, 0 never */
    int batch_sharpness;                 /* mini-batches of the batch sharpness per probe,
                                          * 0 none (mini-batch training only) */
    int early_steps;                     /* evaluations of the early-training maxima,
                                          * default 10 */
    long eval_samples;                   /* 0 = evaluate on all samples */
    int eval_gradient;                   /* gradient norms at every evaluation, default 0:
                                          * mini-batch evaluations after the first are
                                          * forward only (full batch always has them) */
    int signal;                          /* train.signal: signal propagation at init
                                          * (probe and mean field) in the record */
    int pack;                            /* lanes of a pack (DESIGN.md): 0 = from the
                                          * shapes, 1 = unpacked; at most ISW_MAX_LANES */
} isw_train_spec_t;

typedef struct {
    /* At most one target; NaN = unset.  When none is given, validate sets
     * target_accuracy 0.9 (classification) or target_loss_ratio 0.01
     * (regression) and target_default = 1, and re-resolves it on the next
     * validate (so an axis that changes the task gets the right default). */
    double target_accuracy;
    double target_loss;
    double target_loss_ratio;
    int stop_on_target;                  /* default 1 */
    int patience;                        /* epochs, default 5 */
    double min_improvement;              /* relative, default 1e-3 */
    int stop_on_flat;                    /* stop when flat for patience, default 1 */
    double diverge_ratio;                /* loss/loss_initial cap, default 1e10 */
    double diverge_end_ratio;            /* end-of-budget growth rule, default 10 */
    double dead_fraction;                /* dead label threshold, default 0.5 */
    double saturated_fraction;           /* saturated label threshold, default 0.5 */
    double saturation_derivative;        /* sigma' or tanh' below this, default 1e-3 */
    int rule;                            /* isw_rule_t (train.h), default target */
    int bounded_window;                  /* evaluations the bounded rule averages, default 20 */
    int target_default;                  /* the target above came from the default */
} isw_criteria_spec_t;

typedef struct isw_spec {
    char name[ISW_NAME_MAX];             /* default: file name without .yaml */
    uint64_t base_seed;                  /* top-level `seed` in the file */
    uint64_t seed;                       /* the run's seed: `seed` axis or --set
                                          * (isw_spec_write saves it as `run_seed`
                                          * when it differs from base_seed) */
    isw_data_spec_t data;
    isw_model_spec_t model;
    isw_init_spec_t init;
    isw_train_spec_t train;
    isw_criteria_spec_t criteria;
} isw_spec_t;

/* One axis value, typed by its key: an integer (int, long and u64 keys;
 * never through double), a real (double keys, train.lr_layer.K), or text
 * that the key's YAML reader takes: a name (enums, booleans, strings) or a
 * list ("[16, 16]"). */
typedef enum { ISW_VALUE_INT, ISW_VALUE_REAL, ISW_VALUE_NAME, ISW_VALUE_LIST } isw_value_kind_t;

typedef struct {
    isw_value_kind_t kind;
    long long i;                         /* INT; a u64 key's value as its bits */
    double r;                            /* REAL; NaN: a criteria target unset (null) */
    const char *text;                    /* NAME, LIST: owned by the axis */
} isw_value_t;

/* One sweep axis.  Its values are typed once, when the spec is loaded
 * (isw_axis_value): every run gets exactly the number the loader checked.
 * Their text (isw_axis_text) is what runs.csv shows. */
typedef enum { ISW_AXIS_LIST, ISW_AXIS_LINSPACE, ISW_AXIS_LOGSPACE,
               ISW_AXIS_RANGE } isw_axis_form_t;

typedef struct {
    char key[ISW_NAME_MAX];              /* dotted key, e.g. "train.lr" */
    isw_axis_form_t form;
    int line;                            /* line in the spec file, 0 for --set */
    size_t n;                            /* number of values */
    double a, b;                         /* linspace/logspace end values */
    long long start, stop, step;         /* range: integers end to end, stop excluded */
    char **values;                       /* ISW_AXIS_LIST: n strings (flow text) */
    isw_value_kind_t kind;               /* of every value, by the key's type */
    long long *ints;                     /* (n) INT values of a list, linspace or logspace */
    double *reals;                       /* (n) REAL values of a list, linspace or logspace */
} isw_axis_t;

#define ISW_MAX_AXES 32

typedef struct {
    int enabled;
    char axis[ISW_NAME_MAX];             /* only "train.lr" is supported */
    double tolerance;                    /* relative bracket width, default 0.01 */
    int rounds;                          /* probes per edge, default 10 */
} isw_refine_spec_t;

/* How fit.csv fits the edges (stats.h): against which axis, over which
 * range of it.  Analysis only: not part of a journal's identity, so it can
 * change between a run and its resume, or at `summarize --set fit.*`. */
typedef struct {
    char axis[ISW_NAME_MAX];             /* "": the first of init.scale, model.width,
                                          * model.depth that the sweep has */
    double lo, hi;                       /* fit.range: only axis values in [lo, hi];
                                          * NaN: every value, and a knee may be found */
} isw_fit_spec_t;

typedef struct {
    int naxes;
    isw_axis_t axes[ISW_MAX_AXES];       /* in file order; the first varies slowest */
    isw_refine_spec_t refine;
    isw_fit_spec_t fit;
} isw_sweep_t;

/* Defaults for every field (no data source: kind synthetic/xor). */
void isw_spec_defaults(isw_spec_t *spec);

/* Parses a spec file.  sweep may be NULL (sweep section then parsed and
 * checked but dropped).  On error fills err with file, line and message. */
int isw_spec_load(isw_spec_t *spec, isw_sweep_t *sweep, const char *path,
                  isw_error_t *err);
/* Same from a string; `name` is used in messages as the file name. */
int isw_spec_load_string(isw_spec_t *spec, isw_sweep_t *sweep, const char *text,
                         const char *name, isw_error_t *err);

/* Sets one dotted key from YAML flow text, with the loader's validation:
 * isw_spec_set(&s, "model.hidden", "[15]", err).  "seed" sets the run seed. */
int isw_spec_set(isw_spec_t *spec, const char *key, const char *value,
                 isw_error_t *err);
/* Sets one dotted key to a typed value (an axis value), with the key's
 * range; NAME and LIST values go through the key's YAML reader. */
int isw_spec_set_value(isw_spec_t *spec, const char *key, const isw_value_t *value,
                       isw_error_t *err);
/* Applies "KEY=VALUE" from the command line.  A key starting with "sweep."
 * adds or replaces an axis in sweep (which may then not be NULL). */
int isw_spec_override(isw_spec_t *spec, isw_sweep_t *sweep, const char *assignment,
                      isw_error_t *err);

/* Resolves defaults that depend on other fields (output and loss from the
 * data's task, the default target) and checks cross-field consistency (one
 * target, loss vs output, lr_layer count vs depth, ...).  Called by load;
 * call again after overrides. */
int isw_spec_validate(isw_spec_t *spec, const char *file, isw_error_t *err);

/* 1 when the data are classification (idx; csv with classes; synthetic
 * generators with classes), 0 for regression. */
int isw_spec_is_classification(const isw_spec_t *spec);

/* Writes the resolved spec as YAML, every default filled in, sweep included
 * when non-NULL.  Reading the output back gives the same spec. */
int isw_spec_write(FILE *out, const isw_spec_t *spec, const isw_sweep_t *sweep);

/* Value of a key as text in the spec's canonical form: numbers in the
 * shortest form that reads back exactly, names, lists as "[16, 16]" (an
 * axis value in runs.csv is the axis's own text, isw_axis_text, instead).
 * ISW_EINVAL for an unknown key or a buf too small for the text. */
int isw_spec_get(const isw_spec_t *spec, const char *key, char *buf, size_t size);

/* Number of weight layers: nhidden + 1. */
int isw_spec_layers(const isw_spec_t *spec);

void isw_sweep_free(isw_sweep_t *sweep);
/* Index of the axis with this key, -1 when there is none. */
int isw_sweep_find(const isw_sweep_t *sweep, const char *key);
/* Room for one computed axis value: "%.12g" of a double or a long long. */
typedef struct {
    char num[32];
} isw_axis_buf_t;
/* Value i of an axis as text: a list value as given (any length, owned by
 * the axis), a computed linspace/logspace/range value in buf.  The text is
 * what runs.csv holds and what the run's spec is set from. */
const char *isw_axis_text(const isw_axis_t *axis, size_t i, isw_axis_buf_t *buf);

/* Value i of an axis, typed (see isw_value_t); text values are owned by
 * the axis.  A range's values are computed, the others were kept at load. */
void isw_axis_value(const isw_axis_t *axis, size_t i, isw_value_t *value);

/* Every key, one line each, aligned: key, type, default and the range or
 * allowed names (`initsweep --help-keys`). */
void isw_spec_keys_help(FILE *out);

/* One key of the key table as text (--help-keys, the man page). */
typedef struct {
    const char *key, *type, *def, *help;  /* def "-" when there is none */
    char expect[512];                     /* range or names */
} isw_key_text_t;
size_t isw_spec_key_count(void);
void isw_spec_key_describe(size_t i, isw_key_text_t *t);

#endif
