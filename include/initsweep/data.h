/* Datasets: IDX (MNIST format, plain or gzip), CSV, synthetic generators.
 *
 * A dataset is one contiguous read-only float buffer, X then Y, so that a
 * node can later share it between ranks (MPI-3 shared window): the sweep
 * loads once, copies `buf` into the window and re-points X and Y with
 * isw_data_attach().  Training casts rows to the run's precision. */
#ifndef ISW_DATA_H
#define ISW_DATA_H

#include "initsweep/common.h"

/* ---- the data's concepts -------------------------------------------------
 * One table per concept in data.c, in enum order: each value's name and the
 * facts other modules ask about; the spec's key table reads the names. */

typedef enum { ISW_DATA_IDX, ISW_DATA_CSV, ISW_DATA_SYNTHETIC, ISW_NDATA_KINDS } isw_data_kind_t;

typedef enum {
    ISW_GEN_XOR,      /* 2-D XOR of four Gaussian clusters, 2 classes */
    ISW_GEN_SPIRALS,  /* interleaved arms, `classes` classes, 2-D */
    ISW_GEN_BLOBS,    /* Gaussian clusters in `inputs` dims, `classes` classes */
    ISW_GEN_TEACHER,  /* random teacher MLP: labels (classes>0) or targets */
    ISW_GEN_LINEAR,   /* y = W x + b + noise, known W, regression */
    ISW_GEN_GAUSSIAN, /* x, y i.i.d. N(0,1): the fractal-boundary setup */
    ISW_NGENERATORS
} isw_generator_t;

/* Names; "?" for a value outside the enum. */
const char *isw_data_kind_name(isw_data_kind_t k);
const char *isw_generator_name(isw_generator_t g);

/* The data part of a spec (the spec's `data` section). */
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

/* The whole spec (spec.h); isw_data_load reads its data part and seed. */
typedef struct isw_spec isw_spec_t;

/* The rules between data fields, each once; the spec's validation
 * (isw_data_spec_check) and the readers and generators call them.  On a
 * broken rule they return ISW_EINVAL, err->text names the field and says
 * what was found and what was expected, and *key (when key is not NULL)
 * is the field's spec key, so the spec can point at its line.
 *   classes:   data.classes is 0 (regression) or at least 2
 *   generator: xor and spirals are 2-D (inputs 2, or 0 meaning 2), xor has
 *              2 classes (classes 0 or 2), linear and gaussian make
 *              regression data (classes 0)
 *   csv label: with classes, exactly one target column (the label)
 * isw_data_spec_check applies every rule for ds->kind, and those only the
 * spec asks for: idx names both files, csv a path and a target. */
int isw_data_check_classes(int classes, const char **key, isw_error_t *err);
int isw_data_check_generator(const isw_data_spec_t *ds, const char **key, isw_error_t *err);
int isw_data_check_csv_label(int classes, int ntargets, const char **key, isw_error_t *err);
int isw_data_spec_check(const isw_data_spec_t *ds, const char **key, isw_error_t *err);

typedef struct {
    size_t n;        /* samples */
    size_t nin;      /* input features */
    size_t nout;     /* target width: classes (one-hot) or regression targets */
    int classes;     /* >0 classification, 0 regression */
    const float *X;  /* (n, nin), row-major */
    const float *Y;  /* (n, nout), row-major; one-hot rows for classification */
    float *buf;      /* owned storage holding X then Y; NULL when attached */
} isw_data_t;

/* Number of floats of the single buffer: n*nin + n*nout (SIZE_MAX when
 * that does not fit in a size_t). */
size_t isw_data_nfloats(size_t n, size_t nin, size_t nout);

/* Allocates the owned, zeroed buffer for n samples and points X and Y into
 * it; data is overwritten, not freed.  Readers and generators fill it
 * through buf (X = buf, Y = buf + n*nin); tests and benchmarks use it to
 * build a dataset by hand.  classes: >0 classification (nout == classes),
 * 0 regression. */
int isw_data_alloc(isw_data_t *data, size_t n, size_t nin, size_t nout, int classes,
                   isw_error_t *err);

/* Loads what spec->data describes: idx (classes 0 means 10), csv or
 * synthetic (generated from data.seed when has_seed, else spec->base_seed;
 * never from the run's seed, so every run of a sweep sees the same data).
 * data.limit (first N, 0 = all) and data.normalize (inputs divided by it,
 * 0 = 1) apply to every kind; at least one sample must remain.  data is
 * overwritten, not freed, and is left empty on error.  On error err names
 * the file, and the line and column for CSV, and says what was found and
 * what was expected. */
int isw_data_load(isw_data_t *data, const isw_spec_t *spec, isw_error_t *err);

/* Re-points X and Y into an external buffer of isw_data_nfloats() floats
 * laid out as isw_data_load's buf; frees the owned buffer. */
void isw_data_attach(isw_data_t *data, const float *shared);

/* Frees the owned buffer (none when attached) and empties *data; accepts
 * NULL. */
void isw_data_free(isw_data_t *data);

/* Content hash of a loaded dataset: its shape, then X and Y as stored (what
 * training reads, so a changed file that changes no sample changes nothing). */
uint64_t isw_data_hash(const isw_data_t *data);

/* Label of sample i: argmax of its target row (the first maximum);
 * -1 for regression data (classes == 0). */
int isw_data_label(const isw_data_t *data, size_t i);

/* Lower-level readers, exposed for tests.  Every one overwrites *data (it
 * does not free it) and on error leaves it empty (buf NULL, n 0).
 * limit: keep the first N samples, 0 = all.  normalize: inputs are divided
 * by it; 0 means 1; a negative or non-finite value is an error. */

/* IDX (the MNIST format), plain or gzip (zlib reads both).  images: magic
 * 0x00000803 (unsigned byte, 3 dimensions: count, rows, columns); labels:
 * magic 0x00000801 (unsigned byte, 1 dimension: count); all big-endian.
 * The counts must agree and every label must lie in 0..classes-1 (classes 0
 * means 10).  X is (n, rows*cols) pixel / normalize; Y one-hot (n, classes).
 * With a limit only the first `limit` items are read (and checked), so a
 * small limit on a large .gz file is fast; a truncated file is reported
 * with the bytes it was expected to hold and the bytes it held. */
int isw_data_read_idx(isw_data_t *data, const char *images, const char *labels,
                      long limit, double normalize, int classes, isw_error_t *err);

/* CSV: ds->path, header, target/ntargets, classes, limit, normalize.
 * Comma-separated, no quoting; fields are trimmed of blanks; blank lines and
 * lines whose first non-blank character is '#' are skipped; every row must
 * have as many fields as the header (or, without one, the first row).
 * Targets are header names or 0-based decimal column indices (a name is
 * tried first); no target means the last column.  classes = K > 0: exactly
 * one target holding integer labels 0..K-1 (written "3" or "3.0"), one-hot
 * in Y.  classes = 0: regression, Y holds the targets in the order given.
 * X holds every other column in file order.  Errors carry err->line (the
 * 1-based physical line) and err->column (the 1-based field). */
int isw_data_read_csv(isw_data_t *data, const isw_data_spec_t *ds, isw_error_t *err);

/* Synthetic data, a function of (ds, seed) only: one gsl_rng_mt19937 seeded
 * with isw_seed_derive(seed, 0, 3) (mt19937 keeps the low 32 bits of the
 * seed), drawn in the order written below; sample i of n is the same for
 * every n >= i + 1, so `limit` gives a prefix of the full set.  Where
 * classes are balanced, sample i has class i mod K.  ds fields used:
 * generator, samples (>= 1), inputs, targets, classes, noise (>= 0),
 * teacher_hidden, limit, normalize.
 *
 *  xor      2 inputs, 2 classes (classes must be 0 or 2, inputs 0 or 2).
 *           Four clusters centred at (±1, ±1), std `noise` per coordinate;
 *           sample i has class c = i mod 2 and takes the cluster
 *           q = (i / 2) mod 2 of that class: class 0 = same signs
 *           ((+1,+1) when q = 0, (-1,-1) when q = 1), class 1 = opposite
 *           signs ((+1,-1), (-1,+1)).  The label is the XOR of the signs of
 *           the cluster centre, so large noise makes classes overlap.
 *           Balanced over classes and clusters.  Draws: x1 then x2 noise.
 *  spirals  2 inputs, K = classes arms (0 means 3, at least 2).  Sample i is
 *           on arm c = i mod K at t ~ U(0,1): radius t, angle
 *           2*pi*c/K + 2*pi*t (one full turn per arm), plus N(0, noise²)
 *           on each coordinate.  Draws: t, then the two noises.
 *  blobs    `inputs` dims, K = classes clusters (0 means 3, at least 2).
 *           Centres are drawn first, centre k coordinate j ~ N(0, 4) (std 2),
 *           row by row; sample i is centre (i mod K) + N(0, noise² I).
 *  teacher  x ~ N(0, I_inputs) through a random 1-hidden-layer net with no
 *           biases: h = tanh(W1 x), o = W2 h, with W1 (teacher_hidden,
 *           inputs) ~ N(0, 1/inputs) and W2 (m, teacher_hidden) ~
 *           N(0, 1/teacher_hidden), drawn first, row-major, W1 then W2.
 *           classes = K >= 2: m = K and the label is argmax o (not balanced:
 *           the frequencies are the teacher's); classes = 0: m = `targets`
 *           regression outputs y = o + noise * N(0, 1), drawn after x.
 *  linear   Regression, `targets` outputs (classes must be 0): W (targets,
 *           inputs) ~ N(0, 1) row-major, then b (targets) ~ N(0, 1), are
 *           drawn first; then per sample x ~ N(0, I), y = W x + b +
 *           noise * N(0, 1).
 *  gaussian Regression (classes must be 0): per sample x (inputs) then y
 *           (targets), every entry i.i.d. N(0, 1); `noise` is unused.  The
 *           setup of "the boundary of neural network trainability is
 *           fractal" (random inputs, random targets). */
int isw_data_generate(isw_data_t *data, const isw_data_spec_t *ds, uint64_t seed,
                      isw_error_t *err);

/* Number of classes the data described by ds will have (0 = regression)
 * without loading them: idx: classes or 10; csv: classes; synthetic: xor 2,
 * spirals and blobs classes or 3, teacher classes, linear and gaussian 0. */
int isw_data_spec_classes(const isw_data_spec_t *ds);

#endif
