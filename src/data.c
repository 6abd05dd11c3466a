/* Datasets: the single buffer, attach/free, labels, and the dispatch of
 * isw_data_load to the IDX, CSV and synthetic readers (data_idx.c,
 * data_csv.c, data_synth.c). */
#include "initsweep/data.h"
#include "data_internal.h"
#include "initsweep/spec.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the concepts: names and facts, one row per enum value -------------- */

static const char *const kind_names[ISW_NDATA_KINDS] = {
    [ISW_DATA_IDX] = "idx", [ISW_DATA_CSV] = "csv", [ISW_DATA_SYNTHETIC] = "synthetic"};

/* What data a generator makes. */
typedef enum {
    TASK_CLASSES,      /* always classification */
    TASK_EITHER,       /* classification with data.classes, else regression */
    TASK_REGRESSION    /* always regression: data.classes must be 0 */
} task_t;

static const struct {
    const char *name;
    int planar;              /* points are 2-D: data.inputs must be 2 (or 0) */
    task_t task;
    int default_classes;     /* classes when data.classes is 0 (TASK_CLASSES) */
    int fixed_classes;       /* the only class count allowed besides 0, or 0 */
} gen_table[ISW_NGENERATORS] = {
    [ISW_GEN_XOR] = {"xor", 1, TASK_CLASSES, 2, 2},
    [ISW_GEN_SPIRALS] = {"spirals", 1, TASK_CLASSES, 3, 0},
    [ISW_GEN_BLOBS] = {"blobs", 0, TASK_CLASSES, 3, 0},
    [ISW_GEN_TEACHER] = {"teacher", 0, TASK_EITHER, 0, 0},
    [ISW_GEN_LINEAR] = {"linear", 0, TASK_REGRESSION, 0, 0},
    [ISW_GEN_GAUSSIAN] = {"gaussian", 0, TASK_REGRESSION, 0, 0},
};

const char *isw_data_kind_name(isw_data_kind_t k)
{
    return (unsigned)k < ISW_NDATA_KINDS ? kind_names[k] : "?";
}

const char *isw_generator_name(isw_generator_t g)
{
    return (unsigned)g < ISW_NGENERATORS ? gen_table[g].name : "?";
}

/* ---- the rules between fields ------------------------------------------- */

/* A broken rule whose message err already holds: names its key. */
static int rule_broken(const char **key, const char *which)
{
    if (key)
        *key = which;
    return ISW_EINVAL;
}

int isw_data_check_classes(int classes, const char **key, isw_error_t *err)
{
    if (classes < 0 || classes == 1) {
        isw_error_set(err, ISW_EINVAL, "", 0, "data.classes is %d, expected at least 2 "
                      "classes, or 0 (regression)", classes);
        return rule_broken(key, "data.classes");
    }
    return ISW_OK;
}

int isw_data_check_generator(const isw_data_spec_t *ds, const char **key, isw_error_t *err)
{
    if ((unsigned)ds->generator >= ISW_NGENERATORS) {
        isw_error_set(err, ISW_EINVAL, "", 0, "data.generator: found %d, expected a generator",
                      (int)ds->generator);
        return rule_broken(key, "data.generator");
    }
    const char *g = gen_table[ds->generator].name;
    int fixed = gen_table[ds->generator].fixed_classes;
    if (gen_table[ds->generator].planar && ds->inputs != 0 && ds->inputs != 2) {
        isw_error_set(err, ISW_EINVAL, "", 0, "data.inputs is %d, expected 2 for the %s "
                      "generator (its points are 2-D)", ds->inputs, g);
        return rule_broken(key, "data.inputs");
    }
    if (fixed && ds->classes != 0 && ds->classes != fixed) {
        isw_error_set(err, ISW_EINVAL, "", 0, "data.classes: found %d, but generator %s has %d "
                      "classes (expected %d for the %s generator, or none)", ds->classes, g,
                      fixed, fixed, g);
        return rule_broken(key, "data.classes");
    }
    if (gen_table[ds->generator].task == TASK_REGRESSION && ds->classes != 0) {
        isw_error_set(err, ISW_EINVAL, "", 0, "data.classes: found %d, but the %s generator "
                      "makes regression targets (expected none; set data.targets)",
                      ds->classes, g);
        return rule_broken(key, "data.classes");
    }
    return ISW_OK;
}

int isw_data_generator_inputs(const isw_data_spec_t *ds)
{
    return (unsigned)ds->generator < ISW_NGENERATORS && gen_table[ds->generator].planar
               ? 2 : ds->inputs;
}

int isw_data_check_csv_label(int classes, int ntargets, const char **key, isw_error_t *err)
{
    if (classes > 0 && ntargets > 1) {
        isw_error_set(err, ISW_EINVAL, "", 0, "data.target: found %d target columns with "
                      "data.classes %d, expected exactly one label column (the integer label)",
                      ntargets, classes);
        return rule_broken(key, "data.target");
    }
    return ISW_OK;
}

int isw_data_spec_check(const isw_data_spec_t *ds, const char **key, isw_error_t *err)
{
    int st = isw_data_check_classes(ds->classes, key, err);
    if (st != ISW_OK)
        return st;
    switch (ds->kind) {
    case ISW_DATA_IDX:
        if (!ds->images[0] || !ds->labels[0]) {
            const char *k = ds->images[0] ? "data.labels" : "data.images";
            isw_error_set(err, ISW_EINVAL, "", 0, "%s: kind idx needs both data.images and "
                          "data.labels", k);
            return rule_broken(key, k);
        }
        return ISW_OK;
    case ISW_DATA_CSV:
        if (!ds->path[0]) {
            isw_error_set(err, ISW_EINVAL, "", 0, "data.path: kind csv needs data.path");
            return rule_broken(key, "data.path");
        }
        if (ds->ntargets < 1) {
            isw_error_set(err, ISW_EINVAL, "", 0, "data.target: kind csv needs at least one "
                          "target column (name or 0-based index)");
            return rule_broken(key, "data.target");
        }
        return isw_data_check_csv_label(ds->classes, ds->ntargets, key, err);
    case ISW_DATA_SYNTHETIC:
        return isw_data_check_generator(ds, key, err);
    default:
        break;
    }
    isw_error_set(err, ISW_EINVAL, "", 0, "data.kind: found %d, expected one of idx, csv, "
                  "synthetic", (int)ds->kind);
    return rule_broken(key, "data.kind");
}

/* ---- the dataset buffer --------------------------------------------------- */

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
        if ((unsigned)ds->generator >= ISW_NGENERATORS)
            return 0;
        switch (gen_table[ds->generator].task) {
        case TASK_CLASSES:
            return gen_table[ds->generator].fixed_classes ? gen_table[ds->generator].fixed_classes
                   : ds->classes > 0 ? ds->classes : gen_table[ds->generator].default_classes;
        case TASK_EITHER:
            return ds->classes > 0 ? ds->classes : 0;
        case TASK_REGRESSION:
            return 0;
        }
        break;
    case ISW_NDATA_KINDS:
        break;
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
