/* The sweep spec: YAML file -> typed config with defaults, `--set` overrides.
 *
 * isw_spec_t is plain data (no pointers): a copy by assignment is a full
 * copy, so the grid can take the base spec, apply one task's axis values with
 * isw_spec_set() and hand the result to the trainer.  The sweep axes, which
 * own heap memory, live apart in isw_sweep_t.  Only spec.c knows YAML. */
#ifndef ISW_SPEC_H
#define ISW_SPEC_H

#include "initsweep/common.h"

typedef enum { ISW_DATA_IDX, ISW_DATA_CSV, ISW_DATA_SYNTHETIC } isw_data_kind_t;

typedef enum {
    ISW_GEN_XOR,      /* 2-D XOR of four Gaussian clusters, 2 classes */
    ISW_GEN_SPIRALS,  /* interleaved arms, `classes` classes, 2-D */
    ISW_GEN_BLOBS,    /* Gaussian clusters in `inputs` dims, `classes` classes */
    ISW_GEN_TEACHER,  /* random teacher MLP: labels (classes>0) or targets */
    ISW_GEN_LINEAR,   /* y = W x + b + noise, known W, regression */
    ISW_GEN_GAUSSIAN  /* x, y i.i.d. N(0,1): the fractal-boundary setup */
} isw_generator_t;

typedef struct {
    isw_data_kind_t kind;
    /* idx */
    char images[ISW_PATH_MAX];
    char labels[ISW_PATH_MAX];
    /* csv */
    char path[ISW_PATH_MAX];
    int header;                          /* 1: first line names the columns */
    int ntargets;                        /* number of target columns */
    char target[ISW_MAX_TARGETS][ISW_NAME_MAX]; /* names, or decimal indices */
    /* synthetic */
    isw_generator_t generator;
    long samples;                        /* default 1000 */
    int inputs;                          /* default 2 (xor, spirals: always 2) */
    int targets;                         /* regression outputs, default 1 */
    double noise;                        /* default 0.1 */
    double target_scale;                 /* multiplies regression targets, default 1;
                                          * 0 gives zero targets (scaling laws) */
    int teacher_hidden;                  /* teacher's hidden width, default 16 */
    /* shared */
    int classes;                         /* >0 classification (one-hot), 0 regression */
    long limit;                          /* first N samples, 0 = all */
    double normalize;                    /* divide inputs by this, default 1 */
    int has_seed;                        /* data.seed given; else base seed */
    uint64_t seed;
    /* 1 when isw_spec_validate filled `classes` from its default (xor 2,
     * spirals/blobs 3, idx 10); validate re-resolves it, so a later change
     * of kind or generator gets that generator's default. */
    int classes_default;
} isw_data_spec_t;

typedef enum { ISW_ACT_SIGMOID, ISW_ACT_TANH, ISW_ACT_RELU, ISW_ACT_LEAKY_RELU,
               ISW_ACT_LINEAR } isw_act_t;
typedef enum { ISW_OUT_SIGMOID, ISW_OUT_SOFTMAX, ISW_OUT_LINEAR } isw_out_t;
typedef enum { ISW_LOSS_MSE, ISW_LOSS_CROSS_ENTROPY } isw_loss_t;
typedef enum { ISW_PARAM_STANDARD, ISW_PARAM_MEAN_FIELD } isw_param_t;

/* Bounds that keep every size computation far from overflow; memory is
 * checked against the machine separately (isw_train_check_memory). */
#define ISW_MAX_WIDTH (1 << 20)
#define ISW_MAX_EPOCHS 100000000

typedef struct {
    int nhidden;
    int hidden[ISW_MAX_HIDDEN];          /* widths, input to output */
    isw_act_t activation;                /* default relu */
    isw_out_t output;                    /* default softmax (classification) */
    isw_loss_t loss;                     /* default cross_entropy */
    int bias;                            /* default 1 */
    isw_param_t parameterization;        /* default standard */
    double leaky_slope;                  /* model.leaky_slope, default 0.01 */
    /* Whether output / loss were given.  When not, isw_spec_validate's
     * resolution picks softmax + cross_entropy for classification data and
     * linear + mse for regression data (on every validate).  The value
     * `auto` (model.output: auto) clears them again. */
    int output_set, loss_set;
} isw_model_spec_t;

typedef enum {
    ISW_DIST_UNIFORM, ISW_DIST_UNIFORM_POSITIVE, ISW_DIST_NORMAL,
    ISW_DIST_TRUNCATED_NORMAL, ISW_DIST_XAVIER_UNIFORM, ISW_DIST_XAVIER_NORMAL,
    ISW_DIST_HE_UNIFORM, ISW_DIST_HE_NORMAL, ISW_DIST_LECUN_NORMAL,
    ISW_DIST_LECUN_UNIFORM, ISW_DIST_ZERO
} isw_dist_t;

typedef struct {
    isw_dist_t dist;                     /* default he_normal */
    double scale;                        /* default 1 */
    double mean;                         /* offset added to every weight, default 0 */
    int bias_zero;                       /* init.bias: zero (1) | same (0), default zero */
} isw_init_spec_t;

typedef enum { ISW_PREC_FLOAT, ISW_PREC_DOUBLE } isw_prec_t;

typedef struct {
    double lr;                           /* default 0.1 */
    /* Per-layer multipliers of lr.  Every entry is always valid (1.0 unless
     * set), so a trainer may use lr_layer[l] for l < layers directly.
     * nlr_layer = max(lr_layer_list, lr_layer_keys): entries past it are 1. */
    int nlr_layer;                       /* 0 = all multipliers 1 */
    double lr_layer[ISW_MAX_LAYERS];     /* per weight layer, input side first */
    int lr_layer_list;                   /* length of a `lr_layer: [...]` list, 0 none */
    int lr_layer_keys;                   /* 1 + largest K of `lr_layer.K` keys, 0 none */
    double momentum;                     /* heavy ball, default 0 */
    isw_prec_t precision;                /* default float */
    int epochs;                          /* default 30 */
    long batch;                          /* 0 = full batch, default 32 */
    int shuffle;                         /* default 1 */
    int sharpness;                       /* compute sharpness_initial, default 0 */
    int sharpness_iters;                 /* power iterations, default 20 */
    long eval_samples;                   /* 0 = evaluate on all samples */
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
    int target_default;                  /* the target above came from the default */
} isw_criteria_spec_t;

typedef struct {
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

/* One sweep axis.  Values are kept as YAML flow text ("0.5", "uniform",
 * "[16, 16]") and applied with isw_spec_set(), which validates them. */
typedef enum { ISW_AXIS_LIST, ISW_AXIS_LINSPACE, ISW_AXIS_LOGSPACE,
               ISW_AXIS_RANGE } isw_axis_form_t;

typedef struct {
    char key[ISW_NAME_MAX];              /* dotted key, e.g. "train.lr" */
    isw_axis_form_t form;
    int line;                            /* line in the spec file, 0 for --set */
    size_t n;                            /* number of values */
    double a, b;                         /* linspace/logspace end values */
    long long start, stop, step;         /* range: integers end to end, stop excluded */
    char **values;                       /* ISW_AXIS_LIST: n strings */
    int numeric;                         /* every value is a number */
} isw_axis_t;

#define ISW_MAX_AXES 32

typedef struct {
    int enabled;
    char axis[ISW_NAME_MAX];             /* only "train.lr" is supported */
    double tolerance;                    /* relative bracket width, default 0.01 */
    int rounds;                          /* probes per edge, default 10 */
} isw_refine_spec_t;

typedef struct {
    int naxes;
    isw_axis_t axes[ISW_MAX_AXES];       /* in file order; the first varies slowest */
    isw_refine_spec_t refine;
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

/* Value of a key as text, in the same form runs.csv writes it. */
int isw_spec_get(const isw_spec_t *spec, const char *key, char *buf, size_t size);

/* Number of weight layers: nhidden + 1. */
int isw_spec_layers(const isw_spec_t *spec);

/* An empty sweep with refine defaults (axis train.lr, tolerance 0.01,
 * rounds 10, disabled).  Load and override start from this. */
void isw_sweep_init(isw_sweep_t *sweep);
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

/* Name lookups shared with the CLI and records. */
const char *isw_act_name(isw_act_t a);
const char *isw_out_name(isw_out_t o);
const char *isw_loss_name(isw_loss_t l);
const char *isw_dist_name(isw_dist_t d);
const char *isw_data_kind_name(isw_data_kind_t k);
const char *isw_generator_name(isw_generator_t g);
const char *isw_param_name(isw_param_t p);
const char *isw_prec_name(isw_prec_t p);

#endif
