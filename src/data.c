/* Datasets: the single buffer, attach/free, labels, and the dispatch of
 * isw_data_load to the IDX, CSV and synthetic readers (data_idx.c,
 * data_csv.c, data_synth.c). */
#include "initsweep/data.h"
#include "data_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t isw_data_nfloats(size_t n, size_t nin, size_t nout)
{
    if (nin > SIZE_MAX - nout)
        return SIZE_MAX;
    size_t width = nin + nout;
    if (width != 0 && n > SIZE_MAX / width)
        return SIZE_MAX;
    return n * width;
}

int isw_data_alloc(isw_data_t *data, size_t n, size_t nin, size_t nout, int classes,
                   isw_error_t *err)
{
    memset(data, 0, sizeof *data);
    if (classes < 0 || (classes > 0 && nout != (size_t)classes))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "dataset with %d classes needs %d target columns, found %zu",
                             classes, classes, nout);
    size_t count = isw_data_nfloats(n, nin, nout);
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    double want = (double)n * ((double)nin + (double)nout) * sizeof(float);
    if (count == SIZE_MAX || count > SIZE_MAX / sizeof(float) || (have > 0 && want > have))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "a dataset of %zu samples x (%zu inputs + %zu targets) needs "
                             "%.3g GiB, but this machine has %.3g GiB: expected fewer samples "
                             "(data.samples, data.limit)", n, nin, nout, want / 1073741824.0,
                             have / 1073741824.0);
    float *buf = calloc(count ? count : 1, sizeof *buf);
    if (!buf)
        return isw_error_set(err, ISW_ENOMEM, "", 0,
                             "cannot allocate %.1f MiB for %zu samples x (%zu inputs + "
                             "%zu targets)", (double)count * sizeof(float) / 1048576.0,
                             n, nin, nout);
    data->n = n;
    data->nin = nin;
    data->nout = nout;
    data->classes = classes;
    data->buf = buf;
    data->X = buf;
    data->Y = buf + n * nin;
    return ISW_OK;
}

void isw_data_attach(isw_data_t *data, const float *shared)
{
    free(data->buf);
    data->buf = NULL;
    data->X = shared;
    data->Y = shared + data->n * data->nin;
}

void isw_data_free(isw_data_t *data)
{
    if (!data)
        return;
    free(data->buf);   /* NULL when attached: the window's owner frees it */
    memset(data, 0, sizeof *data);
}

int isw_data_label(const isw_data_t *data, size_t i)
{
    if (data->classes <= 0 || data->nout == 0)
        return -1;
    const float *y = data->Y + i * data->nout;   /* (nout) */
    size_t best = 0;
    for (size_t k = 1; k < data->nout; k++)
        if (y[k] > y[best])
            best = k;
    return (int)best;
}

int isw_data_check_options(long limit, double normalize, double *divisor,
                           const char *file, isw_error_t *err)
{
    if (limit < 0)
        return isw_error_set(err, ISW_EINVAL, file, 0,
                             "data.limit is %ld, expected 0 (all samples) or a positive "
                             "count", limit);
    if (!isfinite(normalize) || normalize < 0)
        return isw_error_set(err, ISW_EINVAL, file, 0,
                             "data.normalize is %g, expected a positive finite divisor",
                             normalize);
    *divisor = normalize == 0 ? 1.0 : normalize;
    return ISW_OK;
}

void isw_data_error_file(isw_error_t *err, const char *path)
{
    if (!err)
        return;
    size_t len = strlen(path);
    if (len >= sizeof err->file)
        len = sizeof err->file - 1;
    memcpy(err->file, path, len);
    err->file[len] = '\0';
}

int isw_data_spec_classes(const isw_data_spec_t *ds)
{
    switch (ds->kind) {
    case ISW_DATA_IDX:
        return ds->classes > 0 ? ds->classes : 10;
    case ISW_DATA_CSV:
        return ds->classes > 0 ? ds->classes : 0;
    case ISW_DATA_SYNTHETIC:
        switch (ds->generator) {
        case ISW_GEN_XOR:
            return 2;
        case ISW_GEN_SPIRALS:
        case ISW_GEN_BLOBS:
            return ds->classes > 0 ? ds->classes : 3;
        case ISW_GEN_TEACHER:
            return ds->classes > 0 ? ds->classes : 0;
        case ISW_GEN_LINEAR:
        case ISW_GEN_GAUSSIAN:
            return 0;
        }
    }
    return 0;
}

/* Every input and target finite after normalisation: an inf or NaN input
 * would make every run "diverge", a result that is about the data, not the
 * init.  (data.normalize: 1e-300 turns pixel 255 into +inf.) */
static int check_finite(isw_data_t *data, const isw_data_spec_t *ds, isw_error_t *err)
{
    const char *file = ds->kind == ISW_DATA_IDX ? ds->images
                     : ds->kind == ISW_DATA_CSV ? ds->path : "";
    for (size_t i = 0; i < data->n; i++)
        for (size_t j = 0; j < data->nin; j++) {
            float x = data->X[i * data->nin + j];
            if (isfinite(x))
                continue;
            isw_data_free(data);
            if (ds->normalize != 0 && ds->normalize != 1)
                return isw_error_set(err, ISW_EINVAL, file, 0,
                                     "data.normalize: %g makes input %zu of sample %zu %g in "
                                     "float, expected a divisor that keeps every input finite",
                                     ds->normalize, j, i, (double)x);
            return isw_error_set(err, ISW_EINVAL, file, 0,
                                 "input %zu of sample %zu is %g in float, expected finite inputs",
                                 j, i, (double)x);
        }
    for (size_t k = 0; k < data->n * data->nout; k++)
        if (!isfinite(data->Y[k])) {
            size_t i = k / data->nout;
            double y = data->Y[k];
            isw_data_free(data);
            return isw_error_set(err, ISW_EINVAL, file, 0,
                                 "target %zu of sample %zu is %g in float, expected finite "
                                 "targets", k % data->nout, i, y);
        }
    return ISW_OK;
}

int isw_data_load(isw_data_t *data, const isw_spec_t *spec, isw_error_t *err)
{
    const isw_data_spec_t *ds = &spec->data;
    int st;
    memset(data, 0, sizeof *data);
    isw_error_clear(err);
    switch (ds->kind) {
    case ISW_DATA_IDX:
        st = isw_data_read_idx(data, ds->images, ds->labels, ds->limit, ds->normalize,
                               ds->classes, err);
        break;
    case ISW_DATA_CSV:
        st = isw_data_read_csv(data, ds, err);
        break;
    case ISW_DATA_SYNTHETIC:
        st = isw_data_generate(data, ds, ds->has_seed ? ds->seed : spec->base_seed, err);
        break;
    default:
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "data.kind %d unknown, expected idx, csv or synthetic",
                             (int)ds->kind);
    }
    if (st != ISW_OK)
        return st;
    if (data->n < 1) {
        isw_data_free(data);
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "the dataset has no samples, expected at least 1");
    }
    return check_finite(data, ds, err);
}

uint64_t isw_data_hash(const isw_data_t *data)
{
    uint64_t shape[4] = {data->n, data->nin, data->nout, (uint64_t)data->classes};
    uint64_t h = isw_hash_bytes(ISW_HASH_INIT, shape, sizeof shape);
    h = isw_hash_bytes(h, data->X, data->n * data->nin * sizeof *data->X);
    return isw_hash_bytes(h, data->Y, data->n * data->nout * sizeof *data->Y);
}
