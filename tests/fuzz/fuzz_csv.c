/* Fuzzes the CSV reader through isw_data_load as `data.kind: csv` does.
 *
 * Input: one option byte, then the CSV text.  Options: bit 0 data.header;
 * bits 1-3 data.target (none = the last column, "y", "0", "1", [0, 2],
 * ["x", "y"], "label", "99"); bits 4-5 data.classes (0 = regression, 2, 3,
 * 10); bits 6-7 data.limit (0, 1, 2, 50).
 * When the reader accepts the file, the dataset must hold at least one
 * sample, finite inputs and targets, and one-hot rows for classes. */
#include "fuzz_util.h"

#include <math.h>

#include "initsweep/data.h"
#include "initsweep/spec.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const targets[8][2] = {{NULL, NULL}, {"y", NULL}, {"0", NULL},
                                              {"1", NULL},  {"0", "2"},  {"x", "y"},
                                              {"label", NULL}, {"99", NULL}};
    static const int classes[] = {0, 2, 3, 10};
    static const long limits[] = {0, 1, 2, 50};
    uint8_t opt = data[0];

    isw_spec_t spec;
    isw_spec_defaults(&spec);
    isw_data_spec_t *ds = &spec.data;
    ds->kind = ISW_DATA_CSV;
    ds->header = opt & 1;
    const char *const *t = targets[(opt >> 1) & 7];
    ds->ntargets = 0;
    for (int k = 0; k < 2 && t[k]; k++)
        snprintf(ds->target[ds->ntargets++], sizeof ds->target[0], "%s", t[k]);
    ds->classes = classes[(opt >> 4) & 3];
    ds->limit = limits[(opt >> 6) & 3];
    fuzz_clear_dir(fuzz_scratch());
    fuzz_path(ds->path, sizeof ds->path, fuzz_scratch(), "data.csv");
    fuzz_write_file(ds->path, data + 1, size - 1);

    isw_data_t d;
    isw_error_t err;
    int st = isw_data_load(&d, &spec, &err);
    if (st != ISW_OK) {
        if (d.buf || d.n)
            fuzz_fail("a failed load left a dataset behind");
        if (err.text[0] == '\0')
            fuzz_fail("an error without a message");
        if (err.line < 0 || err.column < 0)
            fuzz_fail("line %d column %d", err.line, err.column);
        return 0;
    }
    if (d.n < 1 || d.nin < 1 || d.nout < 1 || d.classes != ds->classes ||
        (ds->classes && d.nout != (size_t)ds->classes))
        fuzz_fail("accepted a dataset of %zu x %zu -> %zu (classes %d)", d.n, d.nin, d.nout,
                  d.classes);
    if (ds->limit && d.n > (size_t)ds->limit)
        fuzz_fail("%zu samples despite limit %ld", d.n, ds->limit);
    for (size_t i = 0; i < d.n * d.nin; i++)
        if (!isfinite(d.X[i]))
            fuzz_fail("input %zu is %g", i, d.X[i]);
    for (size_t i = 0; i < d.n; i++) {
        float sum = 0;
        for (size_t k = 0; k < d.nout; k++) {
            float y = d.Y[i * d.nout + k];
            if (!isfinite(y))
                fuzz_fail("target %zu,%zu is %g", i, k, y);
            sum += y;
        }
        if (d.classes && sum != 1.0f)
            fuzz_fail("target row %zu is not one-hot", i);
    }
    isw_data_free(&d);
    return 0;
}
