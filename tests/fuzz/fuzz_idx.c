/* Fuzzes the IDX reader (MNIST format), plain and gzip, through
 * isw_data_load as `data.kind: idx` does.
 *
 * Input: one option byte, a 16-bit little-endian length L, then L bytes of
 * the images file and the rest as the labels file.  A part that starts with
 * the gzip magic (1f 8b) is written as a .gz file (zlib reads both either
 * way; the name is what a user would have).  Options: bits 0-1 data.limit
 * (0, 1, 3, 100), bits 2-3 data.classes (0 = 10, 2, 10, 256), bits 4-5
 * data.normalize (0 = 1, 255, 1, 0.5).
 * When the reader accepts the files, the dataset must hold at least one
 * sample, finite inputs and one-hot targets of the right width. */
#include "fuzz_util.h"

#include <math.h>

#include "initsweep/data.h"
#include "initsweep/spec.h"


static void write_part(char *path, size_t psize, const char *name, const uint8_t *bytes,
                       size_t n)
{
    char file[64];
    int gz = n >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
    snprintf(file, sizeof file, "%s%s", name, gz ? ".gz" : "");
    fuzz_path(path, psize, fuzz_scratch(), file);
    fuzz_write_file(path, bytes, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    static const long limits[] = {0, 1, 3, 100};
    static const int classes[] = {0, 2, 10, 256};
    static const double divisors[] = {0, 255, 1, 0.5};
    uint8_t opt = data[0];
    size_t li = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3;
    size -= 3;
    if (li > size)
        li = size;

    isw_spec_t spec;
    isw_spec_defaults(&spec);
    spec.data.kind = ISW_DATA_IDX;
    spec.data.limit = limits[opt & 3];
    spec.data.classes = classes[(opt >> 2) & 3];
    spec.data.normalize = divisors[(opt >> 4) & 3];
    fuzz_clear_dir(fuzz_scratch());
    write_part(spec.data.images, sizeof spec.data.images, "images-idx3-ubyte", data, li);
    write_part(spec.data.labels, sizeof spec.data.labels, "labels-idx1-ubyte", data + li,
               size - li);

    isw_data_t ds;
    isw_error_t err;
    int st = isw_data_load(&ds, &spec, &err);
    if (st != ISW_OK) {
        if (ds.buf || ds.n)
            fuzz_fail("a failed load left a dataset behind");
        if (err.text[0] == '\0')
            fuzz_fail("an error without a message");
        return 0;
    }
    size_t want = spec.data.classes ? (size_t)spec.data.classes : 10;
    if (ds.n < 1 || ds.nin < 1 || ds.nout != want || ds.classes != (int)want)
        fuzz_fail("accepted a dataset of %zu x %zu -> %zu (classes %d)", ds.n, ds.nin, ds.nout,
                  ds.classes);
    if (spec.data.limit && ds.n > (size_t)spec.data.limit)
        fuzz_fail("%zu samples despite limit %ld", ds.n, spec.data.limit);
    for (size_t i = 0; i < ds.n * ds.nin; i++)
        if (!isfinite(ds.X[i]) || ds.X[i] < 0)
            fuzz_fail("input %zu is %g", i, ds.X[i]);
    for (size_t i = 0; i < ds.n; i++) {
        float sum = 0;
        for (size_t k = 0; k < ds.nout; k++)
            sum += ds.Y[i * ds.nout + k];
        int label = isw_data_label(&ds, i);
        if (sum != 1.0f || label < 0 || (size_t)label >= ds.nout ||
            ds.Y[i * ds.nout + (size_t)label] != 1.0f)
            fuzz_fail("target row %zu is not one-hot", i);
    }
    isw_data_free(&ds);
    return 0;
}
