/* Datasets: IDX (MNIST format, plain or gzip), CSV, synthetic generators.
 *
 * A dataset is one contiguous read-only float buffer, X then Y, so that a
 * node can later share it between ranks (MPI-3 shared window): the sweep
 * loads once, copies `buf` into the window and re-points X and Y with
 * isw_data_attach().  Training casts rows to the run's precision. */
#ifndef ISW_DATA_H
#define ISW_DATA_H

#include "initsweep/common.h"
#include "initsweep/spec.h"

typedef struct {
    size_t n;        /* samples */
    size_t nin;      /* input features */
    size_t nout;     /* target width: classes (one-hot) or regression targets */
    int classes;     /* >0 classification, 0 regression */
    const float *X;  /* (n, nin), row-major */
    const float *Y;  /* (n, nout), row-major; one-hot rows for classification */
    float *buf;      /* owned storage holding X then Y; NULL when attached */
} isw_data_t;

/* Number of floats of the single buffer: n*nin + n*nout. */
size_t isw_data_nfloats(size_t n, size_t nin, size_t nout);

/* Loads what spec->data describes (synthetic data are generated from
 * data.seed or else the base seed).  On error err names the file, and the
 * line and column for CSV, and says what was found and what was expected. */
int isw_data_load(isw_data_t *data, const isw_spec_t *spec, isw_error_t *err);

/* Re-points X and Y into an external buffer of isw_data_nfloats() floats
 * laid out as isw_data_load's buf; frees the owned buffer. */
void isw_data_attach(isw_data_t *data, const float *shared);

void isw_data_free(isw_data_t *data);

/* Label of sample i: argmax of its target row (classification only). */
int isw_data_label(const isw_data_t *data, size_t i);

/* Lower-level readers, exposed for tests. */
int isw_data_read_idx(isw_data_t *data, const char *images, const char *labels,
                      long limit, double normalize, int classes, isw_error_t *err);
int isw_data_read_csv(isw_data_t *data, const isw_data_spec_t *ds, isw_error_t *err);
int isw_data_generate(isw_data_t *data, const isw_data_spec_t *ds, uint64_t seed,
                      isw_error_t *err);

#endif
