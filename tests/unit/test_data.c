/* Tests of the data module: IDX (plain, gzip, corrupt), Fashion-MNIST, CSV
 * (good and malformed), the synthetic generators (shape, determinism,
 * balance, the documented draw order, least squares on `linear`). */
#include "initsweep/data.h"
#include "initsweep/spec.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>
#include <zlib.h>

#define TEST_PI 3.14159265358979323846

/* ---- temporary files ---------------------------------------------------- */

static char tmpdir[256];
static char made[64][512];
static int nmade;

/* Path of a file in the temporary directory (remembered for cleanup). */
static const char *tmp_path(const char *name)
{
    snprintf(made[nmade], sizeof made[nmade], "%s/%s", tmpdir, name);
    return made[nmade++];
}

static void cleanup(void)
{
    for (int i = 0; i < nmade; i++)
        unlink(made[i]);
    rmdir(tmpdir);
}

static void write_bytes(const char *path, const void *p, size_t len, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        CHECK(f != NULL);
        if (len)
            CHECK_INT(gzwrite(f, p, (unsigned)len), len);
        CHECK_INT(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        CHECK_INT(fwrite(p, 1, len, f), len);
        fclose(f);
    }
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text), 0);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The pixel byte of image i at pixel j in the test files. */
static unsigned char pixel(size_t i, size_t j)
{
    return (unsigned char)((i * 7 + j * 3) % 256);
}

/* An images file: header promises `count` images of rows x cols, and the
 * first `bytes` pixel bytes are written (so bytes < count*rows*cols is a
 * truncated file).  magic lets a test write a wrong one. */
static void write_images(const char *path, uint32_t magic, uint32_t count, uint32_t rows,
                         uint32_t cols, size_t bytes, int gz)
{
    size_t len = 16 + bytes;
    unsigned char *p = malloc(len);
    put_be32(p, magic);
    put_be32(p + 4, count);
    put_be32(p + 8, rows);
    put_be32(p + 12, cols);
    size_t npix = (size_t)rows * cols;
    for (size_t k = 0; k < bytes; k++)
        p[16 + k] = pixel(k / npix, k % npix);
    write_bytes(path, p, len, gz);
    free(p);
}

/* A labels file promising `count` labels, of which `bytes` are written. */
static void write_labels(const char *path, uint32_t magic, uint32_t count,
                         const unsigned char *labels, size_t bytes, int gz)
{
    unsigned char *p = malloc(8 + bytes);
    put_be32(p, magic);
    put_be32(p + 4, count);
    memcpy(p + 8, labels, bytes);
    write_bytes(path, p, 8 + bytes, gz);
    free(p);
}

static int is_empty(const isw_data_t *d)
{
    return d->buf == NULL && d->n == 0 && d->X == NULL && d->Y == NULL;
}

/* ---- IDX ---------------------------------------------------------------- */

enum { IDX_N = 25, IDX_ROWS = 4, IDX_COLS = 3 };

static void test_idx_good(void)
{
    unsigned char lab[IDX_N];
    for (int i = 0; i < IDX_N; i++)
        lab[i] = (unsigned char)((i * 3) % 10);
    const char *img = tmp_path("good-images.idx"), *lbl = tmp_path("good-labels.idx");
    const char *imgz = tmp_path("good-images.gz"), *lblz = tmp_path("good-labels.gz");
    size_t npix = IDX_ROWS * IDX_COLS;
    write_images(img, 0x803, IDX_N, IDX_ROWS, IDX_COLS, IDX_N * npix, 0);
    write_labels(lbl, 0x801, IDX_N, lab, IDX_N, 0);
    write_images(imgz, 0x803, IDX_N, IDX_ROWS, IDX_COLS, IDX_N * npix, 1);
    write_labels(lblz, 0x801, IDX_N, lab, IDX_N, 1);

    isw_data_t d, dz;
    isw_error_t err;
    CHECK_INT(isw_data_read_idx(&d, img, lbl, 0, 1.0, 0, &err), ISW_OK);
    CHECK_INT(d.n, IDX_N);
    CHECK_INT(d.nin, npix);
    CHECK_INT(d.nout, 10);
    CHECK_INT(d.classes, 10);
    CHECK(d.X == d.buf && d.Y == d.buf + IDX_N * npix);
    int bad = 0;
    for (size_t i = 0; i < IDX_N; i++) {
        for (size_t j = 0; j < npix; j++)
            bad += d.X[i * npix + j] != (float)pixel(i, j);
        float sum = 0;
        for (size_t k = 0; k < 10; k++)
            sum += d.Y[i * 10 + k];
        bad += sum != 1.0f || d.Y[i * 10 + lab[i]] != 1.0f;
        bad += isw_data_label(&d, i) != lab[i];
    }
    CHECK_INT(bad, 0);

    /* gzip gives exactly the same data. */
    CHECK_INT(isw_data_read_idx(&dz, imgz, lblz, 0, 1.0, 0, &err), ISW_OK);
    CHECK_INT(dz.n, IDX_N);
    CHECK(memcmp(d.buf, dz.buf, isw_data_nfloats(d.n, d.nin, d.nout) * sizeof(float)) == 0);
    isw_data_free(&dz);
    isw_data_free(&d);

    /* limit and normalize: the first 7 images, pixels / 255. */
    CHECK_INT(isw_data_read_idx(&d, imgz, lblz, 7, 255.0, 0, &err), ISW_OK);
    CHECK_INT(d.n, 7);
    bad = 0;
    for (size_t i = 0; i < 7; i++) {
        for (size_t j = 0; j < npix; j++)
            bad += d.X[i * npix + j] != (float)(pixel(i, j) / 255.0);
        bad += isw_data_label(&d, i) != lab[i];
    }
    CHECK_INT(bad, 0);
    CHECK_NEAR(d.X[1 * npix + 2], (7 + 6) / 255.0, 1e-7);
    isw_data_free(&d);

    /* A limit larger than the file is all of it. */
    CHECK_INT(isw_data_read_idx(&d, img, lbl, 1000, 1.0, 0, &err), ISW_OK);
    CHECK_INT(d.n, IDX_N);
    isw_data_free(&d);

    /* classes: labels 0..9 do not fit 5 classes ... */
    CHECK_INT(isw_data_read_idx(&d, img, lbl, 0, 1.0, 5, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "label 6 at index 2 out of range, expected 0..4");
    CHECK(is_empty(&d));
    /* ... but the first two (0, 3) do. */
    CHECK_INT(isw_data_read_idx(&d, img, lbl, 2, 1.0, 5, &err), ISW_OK);
    CHECK_INT(d.nout, 5);
    CHECK_INT(isw_data_label(&d, 1), 3);
    isw_data_free(&d);

    /* Bad options. */
    CHECK_INT(isw_data_read_idx(&d, img, lbl, 0, -2.0, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "normalize is -2");
    CHECK_INT(isw_data_read_idx(&d, img, lbl, -1, 1.0, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "limit is -1");
}

static void test_idx_corrupt(void)
{
    unsigned char lab[10] = {0, 1, 2, 3, 4, 12, 6, 7, 8, 9};
    unsigned char ok_lab[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const char *img = tmp_path("images.idx"), *lbl = tmp_path("labels.idx");
    const char *bad = tmp_path("bad.idx"), *badgz = tmp_path("bad.gz");
    size_t npix = 12;
    write_images(img, 0x803, 10, 4, 3, 10 * npix, 0);
    write_labels(lbl, 0x801, 10, ok_lab, 10, 0);
    isw_data_t d;
    isw_error_t err;

    /* Wrong magic on either file. */
    write_labels(bad, 0x803, 10, ok_lab, 10, 0);
    CHECK_INT(isw_data_read_idx(&d, img, bad, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_STR(err.file, bad);
    CHECK_CONTAINS(err.text, "bad magic number 0x00000803, expected 0x00000801 "
                             "(IDX unsigned-byte labels)");
    CHECK(is_empty(&d));
    write_images(bad, 0x801, 10, 4, 3, 10 * npix, 1);
    CHECK_INT(isw_data_read_idx(&d, bad, lbl, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_STR(err.file, bad);
    CHECK_CONTAINS(err.text, "bad magic number 0x00000801, expected 0x00000803");

    /* Truncated images, plain and gzip. */
    write_images(bad, 0x803, 10, 4, 3, 50, 0);
    CHECK_INT(isw_data_read_idx(&d, bad, lbl, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_STR(err.file, bad);
    CHECK_CONTAINS(err.text, "truncated: expected 120 bytes of pixel data");
    CHECK_CONTAINS(err.text, "found 50");
    CHECK(is_empty(&d));
    write_images(badgz, 0x803, 10, 4, 3, 119, 1);
    CHECK_INT(isw_data_read_idx(&d, badgz, lbl, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_STR(err.file, badgz);
    CHECK_CONTAINS(err.text, "expected 120 bytes of pixel data");
    CHECK_CONTAINS(err.text, "found 119");
    /* ... the first 9 images are there, so a limit of 9 reads. */
    CHECK_INT(isw_data_read_idx(&d, badgz, lbl, 9, 1, 0, &err), ISW_OK);
    CHECK_INT(d.n, 9);
    isw_data_free(&d);

    /* A gzip stream cut short (the compressed file itself truncated). */
    {
        size_t big = 4000 * npix;
        write_images(badgz, 0x803, 4000, 4, 3, big, 1);
        FILE *f = fopen(badgz, "rb");
        unsigned char buf[65536];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        CHECK(len > 100);
        write_bytes(badgz, buf, len / 2, 0);
        unsigned char many[4000];
        for (int i = 0; i < 4000; i++)
            many[i] = (unsigned char)(i % 10);
        write_labels(bad, 0x801, 4000, many, 4000, 0);
        CHECK(isw_data_read_idx(&d, badgz, bad, 0, 1, 0, &err) != ISW_OK);
        CHECK_STR(err.file, badgz);
        CHECK_CONTAINS(err.text, "expected 48000 bytes of pixel data");
        CHECK(is_empty(&d));
    }

    /* Truncated header. */
    write_bytes(bad, "\0\0\x08\x03\0\0", 6, 0);
    CHECK_INT(isw_data_read_idx(&d, bad, lbl, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "truncated: expected a 16-byte header");
    CHECK_CONTAINS(err.text, "found 6 bytes");

    /* A header that claims more than its file can hold is refused before
     * the dataset is allocated from the claim (4e9 images of 28x28 would be
     * 13 TB of floats): plain, and gzip, which inflates at most 1032-fold
     * (found by fuzzing: tests/fuzz/corpus/idx/regress-lying-count). */
    {
        const char *biglab = tmp_path("big-labels.idx");
        write_images(bad, 0x803, 0xffffffffu, 28, 28, 10 * 784, 0);
        write_labels(biglab, 0x801, 0xffffffffu, ok_lab, 10, 0);
        CHECK_INT(isw_data_read_idx(&d, bad, biglab, 0, 1, 0, &err), ISW_EINVAL);
        CHECK_STR(err.file, bad);
        CHECK_CONTAINS(err.text, "truncated: expected 3367254359280 bytes of pixel data "
                                 "(4294967295 images of 28x28), found 7840");
        CHECK(is_empty(&d));
        write_images(badgz, 0x803, 0xffffffffu, 28, 28, 10 * 784, 1);
        CHECK_INT(isw_data_read_idx(&d, badgz, biglab, 0, 1, 0, &err), ISW_EINVAL);
        CHECK_STR(err.file, badgz);
        CHECK_CONTAINS(err.text, "truncated: expected 3367254359280 bytes of pixel data");
        CHECK_CONTAINS(err.text, "holds at most");
        /* the labels are checked the same way; a limit asks for less */
        write_images(bad, 0x803, 0xffffffffu, 1, 1, 10, 0);
        write_labels(biglab, 0x801, 0xffffffffu, ok_lab, 4, 0);
        CHECK_INT(isw_data_read_idx(&d, bad, biglab, 5, 1, 0, &err), ISW_EINVAL);
        CHECK_STR(err.file, biglab);
        CHECK_CONTAINS(err.text, "truncated: expected 5 bytes of labels, found 4");
        CHECK_INT(isw_data_read_idx(&d, bad, biglab, 4, 1, 0, &err), ISW_OK);
        CHECK_INT(d.n, 4);
        isw_data_free(&d);
    }

    /* Truncated labels. */
    write_labels(bad, 0x801, 10, ok_lab, 4, 1);
    CHECK_INT(isw_data_read_idx(&d, img, bad, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_STR(err.file, bad);
    CHECK_CONTAINS(err.text, "truncated: expected 10 bytes of labels, found 4");

    /* Count mismatch. */
    write_labels(bad, 0x801, 9, ok_lab, 9, 0);
    CHECK_INT(isw_data_read_idx(&d, img, bad, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "has 10 items but");
    CHECK_CONTAINS(err.text, "has 9");
    CHECK_CONTAINS(err.text, img);
    CHECK_CONTAINS(err.text, bad);

    /* Label out of range. */
    write_labels(bad, 0x801, 10, lab, 10, 0);
    CHECK_INT(isw_data_read_idx(&d, img, bad, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_STR(err.file, bad);
    CHECK_CONTAINS(err.text, "label 12 at index 5 out of range, expected 0..9");
    CHECK(is_empty(&d));
    /* The first label past the range, 10 of 10 classes. */
    lab[5] = 10;
    write_labels(bad, 0x801, 10, lab, 10, 1);
    CHECK_INT(isw_data_read_idx(&d, img, bad, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "label 10 at index 5 out of range, expected 0..9");
    /* ... but 13 classes take it. */
    CHECK_INT(isw_data_read_idx(&d, img, bad, 0, 1, 13, &err), ISW_OK);
    CHECK_INT(isw_data_label(&d, 5), 10);
    isw_data_free(&d);

    /* Zero-sized images. */
    write_images(bad, 0x803, 10, 0, 3, 0, 0);
    CHECK_INT(isw_data_read_idx(&d, bad, lbl, 0, 1, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "image size 0x3");

    /* Missing file. */
    const char *missing = tmp_path("no-such-file.gz");
    CHECK_INT(isw_data_read_idx(&d, missing, lbl, 0, 1, 0, &err), ISW_EIO);
    CHECK_STR(err.file, missing);
    CHECK_CONTAINS(err.text, "cannot open: No such file or directory");
    CHECK_INT(isw_data_read_idx(&d, img, missing, 0, 1, 0, &err), ISW_EIO);
    CHECK_STR(err.file, missing);
}

static void test_fashion_mnist(void)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    isw_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.data.kind = ISW_DATA_IDX;
    snprintf(spec.data.images, sizeof spec.data.images, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(spec.data.labels, sizeof spec.data.labels, "%s/train-labels-idx1-ubyte.gz", dir);
    spec.data.normalize = 255;
    isw_data_t d;
    isw_error_t err;
    double t0 = isw_now();
    int st = isw_data_load(&d, &spec, &err);
    double seconds = isw_now() - t0;
    if (st != ISW_OK)
        isw_error_print(stderr, &err);
    CHECK_INT(st, ISW_OK);
    if (st != ISW_OK)
        return;
    printf("fashion-mnist train: %zu x %zu loaded in %.2f s\n", d.n, d.nin, seconds);
    CHECK_INT(d.n, 60000);
    CHECK_INT(d.nin, 784);
    CHECK_INT(d.nout, 10);
    CHECK_INT(d.classes, 10);
    long count[10] = {0};
    for (size_t i = 0; i < d.n; i++)
        count[isw_data_label(&d, i)]++;
    for (int k = 0; k < 10; k++)
        CHECK_INT(count[k], 6000);
    float lo = 1, hi = 0;
    double sum = 0;
    for (size_t k = 0; k < d.n * d.nin; k++) {
        lo = d.X[k] < lo ? d.X[k] : lo;
        hi = d.X[k] > hi ? d.X[k] : hi;
        sum += d.X[k];
    }
    CHECK_NEAR(lo, 0.0, 0.0);
    CHECK_NEAR(hi, 1.0, 0.0);
    /* Fashion-MNIST's mean pixel is 0.2860 (72.94 / 255). */
    CHECK_NEAR(sum / (double)(d.n * d.nin), 0.2860, 0.001);
    isw_data_free(&d);

    /* The test set, first 1000. */
    snprintf(spec.data.images, sizeof spec.data.images, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(spec.data.labels, sizeof spec.data.labels, "%s/t10k-labels-idx1-ubyte.gz", dir);
    spec.data.limit = 1000;
    CHECK_INT(isw_data_load(&d, &spec, &err), ISW_OK);
    CHECK_INT(d.n, 1000);
    CHECK_INT(d.nin, 784);
    isw_data_free(&d);
}

/* ---- buffer ------------------------------------------------------------- */

static void test_buffer(void)
{
    CHECK_INT(isw_data_nfloats(10, 3, 2), 50);
    CHECK(isw_data_nfloats(SIZE_MAX / 2, 2, 1) == SIZE_MAX);
    CHECK(isw_data_nfloats(2, SIZE_MAX, 1) == SIZE_MAX);

    isw_data_t d;
    isw_error_t err;
    CHECK_INT(isw_data_alloc(&d, 4, 3, 2, 2, &err), ISW_OK);
    for (size_t k = 0; k < 4 * 5; k++)
        d.buf[k] = (float)k;
    CHECK(d.X[11] == 11.0f && d.Y[0] == 12.0f && d.Y[7] == 19.0f);
    CHECK_INT(isw_data_label(&d, 3), 1);   /* row (18, 19) */
    float shared[20];
    memcpy(shared, d.buf, sizeof shared);
    isw_data_attach(&d, shared);
    CHECK(d.buf == NULL);
    CHECK(d.X == shared && d.Y == shared + 12);
    CHECK_INT(d.n, 4);
    CHECK_INT(isw_data_label(&d, 0), 1);
    isw_data_free(&d);   /* attached: frees nothing of shared */
    CHECK(is_empty(&d));
    CHECK(shared[19] == 19.0f);
    isw_data_free(NULL);

    CHECK_INT(isw_data_alloc(&d, 4, 3, 3, 2, &err), ISW_EINVAL);
    CHECK_INT(isw_data_alloc(&d, SIZE_MAX / 4, 3, 1, 0, &err), ISW_EINVAL);   /* more than this machine has */
    CHECK_CONTAINS(err.text, "but this machine has");
    CHECK(is_empty(&d));
    CHECK_INT(isw_data_alloc(&d, 2, 1, 1, 0, &err), ISW_OK);
    CHECK_INT(isw_data_label(&d, 0), -1);   /* regression */
    isw_data_free(&d);
}

/* ---- CSV ---------------------------------------------------------------- */

static isw_data_spec_t csv_spec(const char *path, int header, int classes)
{
    isw_data_spec_t ds;
    memset(&ds, 0, sizeof ds);
    ds.kind = ISW_DATA_CSV;
    snprintf(ds.path, sizeof ds.path, "%s", path);
    ds.header = header;
    ds.classes = classes;
    ds.normalize = 1;
    return ds;
}

static void add_target(isw_data_spec_t *ds, const char *t)
{
    snprintf(ds->target[ds->ntargets++], ISW_NAME_MAX, "%s", t);
}

/* Rows of X and Y as expected, to a float's exactness. */
static int check_rows(const isw_data_t *d, const float *X, const float *Y)
{
    int bad = 0;
    for (size_t k = 0; k < d->n * d->nin; k++)
        bad += d->X[k] != X[k];
    for (size_t k = 0; k < d->n * d->nout; k++)
        bad += d->Y[k] != Y[k];
    return bad;
}

static void test_csv_good(void)
{
    isw_data_t d;
    isw_error_t err;
    const char *p = tmp_path("good.csv");

    /* Header, comments, blank lines, CRLF and blanks; target by name, in the
     * middle; classification one-hot. */
    write_text(p, "# comment\n"
                  "a, label ,b\r\n"
                  "\n"
                  "1.5, 2, -3\r\n"
                  "   # indented comment\n"
                  " 0,0,1e2\n"
                  "\t\n"
                  "4,1.0,5");   /* no final newline */
    isw_data_spec_t ds = csv_spec(p, 1, 3);
    add_target(&ds, "label");
    CHECK_INT(isw_data_read_csv(&d, &ds, &err), ISW_OK);
    CHECK_INT(d.n, 3);
    CHECK_INT(d.nin, 2);
    CHECK_INT(d.nout, 3);
    CHECK_INT(d.classes, 3);
    {
        const float X[] = {1.5f, -3, 0, 100, 4, 5};
        const float Y[] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
        CHECK_INT(check_rows(&d, X, Y), 0);
    }
    CHECK_INT(isw_data_label(&d, 0), 2);
    isw_data_free(&d);

    /* The same target by index (1), limit 2, normalize 2. */
    ds.ntargets = 0;
    add_target(&ds, "1");
    ds.limit = 2;
    ds.normalize = 2;
    CHECK_INT(isw_data_read_csv(&d, &ds, &err), ISW_OK);
    CHECK_INT(d.n, 2);
    {
        const float X[] = {0.75f, -1.5f, 0, 50};
        const float Y[] = {0, 0, 1, 1, 0, 0};
        CHECK_INT(check_rows(&d, X, Y), 0);
    }
    isw_data_free(&d);

    /* No header, target by index 0, regression. */
    write_text(p, "10,1,2\n20,3,4\n30,5,6\n");
    ds = csv_spec(p, 0, 0);
    add_target(&ds, "0");
    CHECK_INT(isw_data_read_csv(&d, &ds, &err), ISW_OK);
    CHECK_INT(d.n, 3);
    CHECK_INT(d.nin, 2);
    CHECK_INT(d.nout, 1);
    CHECK_INT(d.classes, 0);
    {
        const float X[] = {1, 2, 3, 4, 5, 6};
        const float Y[] = {10, 20, 30};
        CHECK_INT(check_rows(&d, X, Y), 0);
    }
    isw_data_free(&d);

    /* No target: the last column. */
    ds.ntargets = 0;
    CHECK_INT(isw_data_read_csv(&d, &ds, &err), ISW_OK);
    {
        const float X[] = {10, 1, 20, 3, 30, 5};
        const float Y[] = {2, 4, 6};
        CHECK_INT(check_rows(&d, X, Y), 0);
    }
    isw_data_free(&d);

    /* Several regression targets, Y in the order given (d before s). */
    char fixture[ISW_PATH_MAX];
    const char *datadir = getenv("ISW_TEST_DATA");
    snprintf(fixture, sizeof fixture, "%s/tiny_regression.csv", datadir ? datadir : "tests/data");
    ds = csv_spec(fixture, 1, 0);
    add_target(&ds, "d");
    add_target(&ds, "s");
    CHECK_INT(isw_data_read_csv(&d, &ds, &err), ISW_OK);
    CHECK_INT(d.n, 5);
    CHECK_INT(d.nin, 2);
    CHECK_INT(d.nout, 2);
    int bad = 0;
    for (size_t i = 0; i < d.n; i++) {
        double a = d.X[2 * i], b = d.X[2 * i + 1];
        bad += fabs(d.Y[2 * i] - (a - b)) > 1e-6 || fabs(d.Y[2 * i + 1] - (a + b)) > 1e-6;
    }
    CHECK_INT(bad, 0);
    CHECK(d.X[8] == 1e-3f && d.Y[8] == -1e-3f);
    isw_data_free(&d);

    /* The classification fixture, via isw_data_load. */
    isw_spec_t spec;
    memset(&spec, 0, sizeof spec);
    snprintf(fixture, sizeof fixture, "%s/tiny_classes.csv", datadir ? datadir : "tests/data");
    spec.data = csv_spec(fixture, 1, 3);
    add_target(&spec.data, "label");
    CHECK_INT(isw_data_load(&d, &spec, &err), ISW_OK);
    CHECK_INT(d.n, 6);
    CHECK_INT(d.nin, 2);
    {
        const int labels[] = {0, 1, 2, 0, 1, 2};
        bad = 0;
        for (size_t i = 0; i < 6; i++)
            bad += isw_data_label(&d, i) != labels[i];
        CHECK_INT(bad, 0);
        CHECK(d.X[6] == -1.0f && d.X[7] == 0.25f);
    }
    isw_data_free(&d);
}

/* Loads text as CSV and checks the error: line, column and message parts. */
static void csv_error(const char *text, int header, int classes, const char *target,
                      int line, int column, const char *found, const char *expected)
{
    static const char *p;   /* same file every time, cleaned up once */
    if (!p)
        p = tmp_path("bad.csv");
    write_text(p, text);
    isw_data_spec_t ds = csv_spec(p, header, classes);
    if (target)
        add_target(&ds, target);
    isw_data_t d;
    isw_error_t err;
    memset(&d, 0xff, sizeof d);
    CHECK(isw_data_read_csv(&d, &ds, &err) != ISW_OK);
    CHECK(is_empty(&d));
    CHECK_STR(err.file, p);
    if (!CHECK_INT(err.line, line) | !CHECK_INT(err.column, column) |
        !CHECK_CONTAINS(err.text, found) | !CHECK_CONTAINS(err.text, expected))
        fprintf(stderr, "  (for the CSV text \"%s\")\n", text);
}

static void test_csv_errors(void)
{
    const char *six = "a,b,c,y\n"
                      "# two comment lines\n"
                      "#\n"
                      "1,2,3,0\n"
                      "\n"
                      "4,5,6,1\n";
    char text[512];

    /* Malformed number on line 7, field 3 -> "data.csv:7:3: found ...". */
    snprintf(text, sizeof text, "%s1,2,abc,1\n", six);
    csv_error(text, 1, 2, "y", 7, 3, "found \"abc\"", "expected a finite number");
    {
        isw_error_t err;
        memset(&err, 0, sizeof err);
        snprintf(err.file, sizeof err.file, "data.csv");
        err.line = 7;
        err.column = 3;
        snprintf(err.text, sizeof err.text, "found \"abc\", expected a finite number");
        char out[256] = "";
        FILE *f = fmemopen(out, sizeof out, "w");
        isw_error_print(f, &err);
        fclose(f);
        CHECK_STR(out, "data.csv:7:3: found \"abc\", expected a finite number\n");
    }
    snprintf(text, sizeof text, "%s1,nan,2,1\n", six);
    csv_error(text, 1, 2, "y", 7, 2, "found \"nan\"", "expected a finite number");
    snprintf(text, sizeof text, "%s1,2,3,1\ninf,2,3,1\n", six);
    csv_error(text, 1, 2, "y", 8, 1, "found \"inf\"", "expected a finite number");
    snprintf(text, sizeof text, "%s1,2,-Infinity,1\n", six);
    csv_error(text, 1, 2, "y", 7, 3, "found \"-Infinity\"", "expected a finite number");
    snprintf(text, sizeof text, "%s1,2,1e300,1\n", six);
    csv_error(text, 1, 2, "y", 7, 3, "found \"1e300\"", "within float range");
    snprintf(text, sizeof text, "%s1, ,3,1\n", six);
    csv_error(text, 1, 2, "y", 7, 2, "found \"\"", "expected a finite number");
    snprintf(text, sizeof text, "%s1,2 5,3,1\n", six);
    csv_error(text, 1, 2, "y", 7, 2, "found \"2 5\"", "expected a finite number");
    /* Regression targets must be numbers too. */
    snprintf(text, sizeof text, "%s1,2,3,x\n", six);
    csv_error(text, 1, 0, "y", 7, 4, "found \"x\"", "expected a finite number");

    /* Wrong column count: too few, too many, without a header. */
    snprintf(text, sizeof text, "%s1,2,3\n", six);
    csv_error(text, 1, 2, "y", 7, 4, "found 3 fields", "expected 4 (the header's");
    snprintf(text, sizeof text, "%s1,2,3,1,\n", six);
    csv_error(text, 1, 2, "y", 7, 5, "found 5 fields", "expected 4");
    csv_error("1,2,3\n\n1,2\n", 0, 0, NULL, 3, 3, "found 2 fields",
              "expected 3 (the first row's");

    /* Bad labels. */
    snprintf(text, sizeof text, "%s1,2,3,2\n", six);
    csv_error(text, 1, 2, "y", 7, 4, "found \"2\"", "expected an integer label 0..1");
    snprintf(text, sizeof text, "%s1,2,3,0.5\n", six);
    csv_error(text, 1, 2, "y", 7, 4, "found \"0.5\"", "expected an integer label 0..1");
    snprintf(text, sizeof text, "%s1,2,3,-1\n", six);
    csv_error(text, 1, 2, "y", 7, 4, "found \"-1\"", "expected an integer label 0..1");
    snprintf(text, sizeof text, "%s1,2,3,one\n", six);
    csv_error(text, 1, 2, "y", 7, 4, "found \"one\"", "expected an integer label 0..1");
    snprintf(text, sizeof text, "%s1,2,3,\n", six);
    csv_error(text, 1, 2, "y", 7, 4, "found \"\"", "expected an integer label 0..1");

    /* Unknown target: the message lists the header names. */
    csv_error("# header next\nalpha,beta,gamma\n1,2,3\n", 1, 0, "delta", 2, 0,
              "unknown target column \"delta\"", "alpha, beta, gamma");
    csv_error("1,2,3\n", 0, 0, "y", 0, 0, "target \"y\" is not a column index",
              "expected 0..2");
    csv_error("a,b\n1,2\n", 1, 0, "2", 1, 0, "unknown target column \"2\"", "0..1");
    /* No rows. */
    csv_error("# nothing\n\n", 1, 0, NULL, 0, 0, "no data rows", "expected");
    csv_error("a,b\n# only a header\n", 1, 0, NULL, 0, 0, "no data rows after the header",
              "expected at least one");
    /* Only targets, no inputs. */
    csv_error("y\n1\n", 1, 0, "y", 1, 0, "all of them targets", "at least one input");

    /* Options that cannot work. */
    isw_data_spec_t ds = csv_spec(tmp_path("never-written.csv"), 1, 0);
    isw_data_t d;
    isw_error_t err;
    CHECK_INT(isw_data_read_csv(&d, &ds, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "cannot open: No such file or directory");
    CHECK_STR(err.file, ds.path);
    ds.classes = 2;
    add_target(&ds, "a");
    add_target(&ds, "b");
    CHECK_INT(isw_data_read_csv(&d, &ds, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "expected exactly one label column");
}

/* ---- synthetic ---------------------------------------------------------- */

static isw_data_spec_t synth_spec(isw_generator_t g, long samples, int inputs, int targets,
                                  int classes, double noise)
{
    isw_data_spec_t ds;
    memset(&ds, 0, sizeof ds);
    ds.kind = ISW_DATA_SYNTHETIC;
    ds.generator = g;
    ds.samples = samples;
    ds.inputs = inputs;
    ds.targets = targets;
    ds.classes = classes;
    ds.noise = noise;
    ds.teacher_hidden = 16;
    ds.normalize = 1;
    ds.target_scale = 1;
    return ds;
}

/* data.target_scale multiplies regression targets exactly (a power of two
 * is exact in float); 0 gives the zero targets of the scaling-law sweeps. */
static void test_target_scale(void)
{
    isw_data_spec_t ds = synth_spec(ISW_GEN_GAUSSIAN, 50, 3, 2, 0, 0.0);
    isw_data_t a, b;
    isw_error_t err;
    CHECK_INT(isw_data_generate(&a, &ds, 5, &err), ISW_OK);
    ds.target_scale = 4;
    CHECK_INT(isw_data_generate(&b, &ds, 5, &err), ISW_OK);
    int same_x = memcmp(a.X, b.X, 50 * 3 * sizeof(float)) == 0, scaled = 1;
    for (size_t k = 0; k < 100; k++)
        scaled &= b.Y[k] == 4 * a.Y[k];
    CHECK(same_x);
    CHECK(scaled);
    isw_data_free(&b);
    ds.target_scale = 0;
    CHECK_INT(isw_data_generate(&b, &ds, 5, &err), ISW_OK);
    int zero = 1;
    for (size_t k = 0; k < 100; k++)
        zero &= b.Y[k] == 0.0f;
    CHECK(zero);
    isw_data_free(&a);
    isw_data_free(&b);
}

static size_t nbytes(const isw_data_t *d)
{
    return isw_data_nfloats(d->n, d->nin, d->nout) * sizeof(float);
}

/* Shape, one-hot rows, same seed identical, other seed different, and the
 * limit gives a prefix.  Returns the generated data (seed 7) in *out. */
static void check_generator(const isw_data_spec_t *ds, size_t nin, size_t nout, int classes,
                            isw_data_t *out)
{
    isw_data_t a, b, c;
    isw_error_t err;
    int st = isw_data_generate(&a, ds, 7, &err);
    if (st != ISW_OK)
        isw_error_print(stderr, &err);
    CHECK_INT(st, ISW_OK);
    CHECK_INT(a.n, ds->samples);
    CHECK_INT(a.nin, nin);
    CHECK_INT(a.nout, nout);
    CHECK_INT(a.classes, classes);
    CHECK_INT(isw_data_spec_classes(ds), classes);
    int bad = 0;
    for (size_t k = 0; k < a.n * (a.nin + a.nout); k++)
        bad += !isfinite(a.buf[k]);
    if (classes > 0)
        for (size_t i = 0; i < a.n; i++) {
            float sum = 0;
            for (size_t k = 0; k < a.nout; k++) {
                sum += a.Y[i * a.nout + k];
                bad += a.Y[i * a.nout + k] != 0.0f && a.Y[i * a.nout + k] != 1.0f;
            }
            bad += sum != 1.0f;
        }
    CHECK_INT(bad, 0);

    CHECK_INT(isw_data_generate(&b, ds, 7, &err), ISW_OK);
    CHECK(memcmp(a.buf, b.buf, nbytes(&a)) == 0);
    isw_data_free(&b);
    CHECK_INT(isw_data_generate(&b, ds, 8, &err), ISW_OK);
    CHECK(memcmp(a.X, b.X, a.n * a.nin * sizeof(float)) != 0);
    isw_data_free(&b);
    /* Seeds that differ only in their high 32 bits give different data too
     * (the seed is mixed before mt19937 keeps 32 bits of it). */
    CHECK_INT(isw_data_generate(&b, ds, 7 + (1ULL << 40), &err), ISW_OK);
    CHECK(memcmp(a.X, b.X, a.n * a.nin * sizeof(float)) != 0);
    isw_data_free(&b);

    /* limit = a prefix of the full set; normalize divides the inputs. */
    isw_data_spec_t lim = *ds;
    lim.limit = ds->samples / 3;
    lim.normalize = 4;
    CHECK_INT(isw_data_generate(&c, &lim, 7, &err), ISW_OK);
    CHECK_INT(c.n, lim.limit);
    bad = 0;
    for (size_t k = 0; k < c.n * c.nin; k++)
        bad += c.X[k] != a.X[k] / 4.0f;
    CHECK(memcmp(c.Y, a.Y, c.n * c.nout * sizeof(float)) == 0);
    CHECK_INT(bad, 0);
    isw_data_free(&c);
    *out = a;
}

static void class_counts(const isw_data_t *d, long *count)
{
    for (size_t k = 0; k < d->nout; k++)
        count[k] = 0;
    for (size_t i = 0; i < d->n; i++)
        count[isw_data_label(d, i)]++;
}

/* The generators' RNG as data.h documents it. */
static gsl_rng *doc_rng(uint64_t seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, (unsigned long)isw_seed_derive(seed, 0, 3));
    return r;
}

static void test_xor_spirals_blobs(void)
{
    isw_data_t d;
    long count[8];

    /* xor: balanced classes and clusters; with noise 0.1 every point is in
     * its cluster's quadrant, and the label is the XOR of its signs. */
    isw_data_spec_t ds = synth_spec(ISW_GEN_XOR, 1000, 0, 0, 0, 0.1);
    check_generator(&ds, 2, 2, 2, &d);
    class_counts(&d, count);
    CHECK_INT(count[0], 500);
    CHECK_INT(count[1], 500);
    int bad = 0, quad[2][2] = {{0, 0}, {0, 0}};
    double dev = 0;
    for (size_t i = 0; i < d.n; i++) {
        float x1 = d.X[2 * i], x2 = d.X[2 * i + 1];
        bad += ((x1 < 0) != (x2 < 0)) != isw_data_label(&d, i);
        quad[x1 > 0][x2 > 0]++;
        dev += (fabs(x1) - 1) * (fabs(x1) - 1) + (fabs(x2) - 1) * (fabs(x2) - 1);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(quad[0][0], 250);
    CHECK_INT(quad[1][1], 250);
    CHECK_INT(quad[0][1], 250);
    CHECK_INT(quad[1][0], 250);
    /* std about noise: 2000 coordinates, sd of the estimate ~1.6 % */
    CHECK_NEAR(sqrt(dev / 2000), 0.1, 0.006);
    isw_data_free(&d);
    ds.inputs = 3;
    isw_error_t err;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "data.inputs is 3, expected 2 for the xor generator");
    ds.inputs = 2;
    ds.classes = 3;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "expected 2 for the xor generator");

    /* spirals: default 3 arms; with 4 arms and no noise each point lies on
     * its arm: radius t, angle 2 pi (c/K + t). */
    ds = synth_spec(ISW_GEN_SPIRALS, 300, 2, 0, 0, 0.05);
    check_generator(&ds, 2, 3, 3, &d);
    class_counts(&d, count);
    CHECK(count[0] == 100 && count[1] == 100 && count[2] == 100);
    isw_data_free(&d);
    ds = synth_spec(ISW_GEN_SPIRALS, 401, 2, 0, 4, 0.0);
    check_generator(&ds, 2, 4, 4, &d);
    class_counts(&d, count);
    CHECK(count[0] == 101 && count[1] == 100 && count[2] == 100 && count[3] == 100);
    double worst = 0;
    for (size_t i = 0; i < d.n; i++) {
        double x1 = d.X[2 * i], x2 = d.X[2 * i + 1], t = hypot(x1, x2);
        double angle = 2 * TEST_PI * (isw_data_label(&d, i) / 4.0 + t);
        double e = hypot(x1 - t * cos(angle), x2 - t * sin(angle));
        worst = e > worst ? e : worst;
    }
    CHECK_NEAR(worst, 0.0, 1e-5);
    isw_data_free(&d);

    /* blobs: K clusters of std noise around centres drawn N(0, 4 I) first. */
    ds = synth_spec(ISW_GEN_BLOBS, 3000, 4, 0, 3, 0.5);
    check_generator(&ds, 4, 3, 3, &d);
    class_counts(&d, count);
    CHECK(count[0] == 1000 && count[1] == 1000 && count[2] == 1000);
    gsl_rng *r = doc_rng(7);
    double centre[3][4], ss = 0;
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 4; j++)
            centre[k][j] = gsl_ran_gaussian(r, 2.0);
    gsl_rng_free(r);
    double mean[3][4] = {{0}};
    for (size_t i = 0; i < d.n; i++) {
        int c = isw_data_label(&d, i);
        for (int j = 0; j < 4; j++) {
            double e = d.X[i * 4 + j] - centre[c][j];
            mean[c][j] += e / 1000;
            ss += e * e;
        }
    }
    /* cluster means within 5 standard errors (0.5 / sqrt(1000)) of the centres */
    worst = 0;
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 4; j++)
            worst = fabs(mean[k][j]) > worst ? fabs(mean[k][j]) : worst;
    CHECK_NEAR(worst, 0.0, 5 * 0.5 / sqrt(1000));
    CHECK_NEAR(sqrt(ss / 12000), 0.5, 0.02);
    isw_data_free(&d);
}

static void test_teacher(void)
{
    isw_data_t d;
    long count[4];
    /* Classification: labels are the argmax of the documented teacher. */
    isw_data_spec_t ds = synth_spec(ISW_GEN_TEACHER, 600, 5, 0, 4, 0.0);
    ds.teacher_hidden = 8;
    check_generator(&ds, 5, 4, 4, &d);
    class_counts(&d, count);
    for (int k = 0; k < 4; k++)
        CHECK(count[k] > 0);
    gsl_rng *r = doc_rng(7);
    double W1[8][5], W2[4][8];
    for (int u = 0; u < 8; u++)
        for (int j = 0; j < 5; j++)
            W1[u][j] = gsl_ran_gaussian(r, 1 / sqrt(5.0));
    for (int k = 0; k < 4; k++)
        for (int u = 0; u < 8; u++)
            W2[k][u] = gsl_ran_gaussian(r, 1 / sqrt(8.0));
    gsl_rng_free(r);
    int bad = 0;
    for (size_t i = 0; i < d.n; i++) {
        double o[4], h[8];
        for (int u = 0; u < 8; u++) {
            double a = 0;
            for (int j = 0; j < 5; j++)
                a += W1[u][j] * d.X[i * 5 + j];
            h[u] = tanh(a);
        }
        int best = 0;
        for (int k = 0; k < 4; k++) {
            o[k] = 0;
            for (int u = 0; u < 8; u++)
                o[k] += W2[k][u] * h[u];
            best = o[k] > o[best] ? k : best;
        }
        /* X was rounded to float; allow ties within rounding. */
        bad += best != isw_data_label(&d, i) &&
               fabs(o[best] - o[isw_data_label(&d, i)]) > 1e-5;
    }
    CHECK_INT(bad, 0);
    isw_data_free(&d);

    /* Regression, 2 targets: y - teacher(x) is N(0, noise^2). */
    ds = synth_spec(ISW_GEN_TEACHER, 2000, 3, 2, 0, 0.25);
    ds.teacher_hidden = 6;
    check_generator(&ds, 3, 2, 0, &d);
    r = doc_rng(7);
    double V1[6][3], V2[2][6];
    for (int u = 0; u < 6; u++)
        for (int j = 0; j < 3; j++)
            V1[u][j] = gsl_ran_gaussian(r, 1 / sqrt(3.0));
    for (int k = 0; k < 2; k++)
        for (int u = 0; u < 6; u++)
            V2[k][u] = gsl_ran_gaussian(r, 1 / sqrt(6.0));
    gsl_rng_free(r);
    double ss = 0, sx = 0;
    for (size_t i = 0; i < d.n; i++) {
        double h[6];
        for (int u = 0; u < 6; u++) {
            double a = 0;
            for (int j = 0; j < 3; j++)
                a += V1[u][j] * d.X[i * 3 + j];
            h[u] = tanh(a);
        }
        for (int k = 0; k < 2; k++) {
            double o = 0;
            for (int u = 0; u < 6; u++)
                o += V2[k][u] * h[u];
            ss += (d.Y[i * 2 + k] - o) * (d.Y[i * 2 + k] - o);
        }
        for (int j = 0; j < 3; j++)
            sx += d.X[i * 3 + j] * d.X[i * 3 + j];
    }
    CHECK_NEAR(sqrt(ss / 4000), 0.25, 0.01);
    CHECK_NEAR(sx / 6000, 1.0, 0.06);
    isw_data_free(&d);

    isw_error_t err;
    ds.teacher_hidden = 0;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "data.teacher_hidden is 0, expected at least 1");
    ds.teacher_hidden = 4;
    ds.classes = 1;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "data.classes is 1, expected at least 2");
}

static void test_linear_gaussian(void)
{
    enum { N = 2000, D = 3, M = 2 };
    const double noise = 0.2;
    isw_data_t d;
    isw_data_spec_t ds = synth_spec(ISW_GEN_LINEAR, N, D, M, 0, noise);
    check_generator(&ds, D, M, 0, &d);

    /* The true W (M, D) then b (M), drawn first. */
    gsl_rng *r = doc_rng(7);
    double W[M][D], b[M];
    for (int k = 0; k < M; k++)
        for (int j = 0; j < D; j++)
            W[k][j] = gsl_ran_gaussian(r, 1.0);
    for (int k = 0; k < M; k++)
        b[k] = gsl_ran_gaussian(r, 1.0);
    gsl_rng_free(r);

    /* Least squares on [X, 1] recovers W and b within 5 standard errors. */
    gsl_matrix *A = gsl_matrix_alloc(N, D + 1), *cov = gsl_matrix_alloc(D + 1, D + 1);
    gsl_vector *y = gsl_vector_alloc(N), *c = gsl_vector_alloc(D + 1);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(N, D + 1);
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < D; j++)
            gsl_matrix_set(A, i, j, d.X[i * D + j]);
        gsl_matrix_set(A, i, D, 1.0);
    }
    for (int k = 0; k < M; k++) {
        for (size_t i = 0; i < N; i++)
            gsl_vector_set(y, i, d.Y[i * M + k]);
        double chisq;
        CHECK_INT(gsl_multifit_linear(A, y, c, cov, &chisq, ws), GSL_SUCCESS);
        for (int j = 0; j <= D; j++) {
            double se = sqrt(gsl_matrix_get(cov, j, j));
            double truth = j < D ? W[k][j] : b[k];
            CHECK_NEAR(gsl_vector_get(c, j), truth, 5 * se);
            /* and the standard error is what the noise predicts */
            CHECK_NEAR(se, noise / sqrt(N), 0.3 * noise / sqrt(N));
        }
        /* residual std: relative standard error 1/sqrt(2N) = 1.6 % */
        CHECK_NEAR(sqrt(chisq / (N - D - 1)), noise, 0.01);
    }
    gsl_multifit_linear_free(ws);
    gsl_matrix_free(A);
    gsl_matrix_free(cov);
    gsl_vector_free(y);
    gsl_vector_free(c);
    isw_data_free(&d);

    isw_error_t err;
    ds.classes = 2;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "the linear generator makes regression targets");
    ds.classes = 0;
    ds.targets = 0;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "data.targets is 0, expected at least 1");
    ds.targets = 1;
    ds.samples = 0;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "data.samples is 0, expected at least 1");
    ds.samples = 10;
    ds.noise = -1;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "data.noise is -1");
    ds.noise = 0;
    ds.inputs = 0;
    CHECK_INT(isw_data_generate(&d, &ds, 1, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "data.inputs is 0, expected at least 1");

    /* gaussian: x then y per sample, all N(0, 1) in the documented order. */
    ds = synth_spec(ISW_GEN_GAUSSIAN, 272, 16, 4, 0, 0.0);
    check_generator(&ds, 16, 4, 0, &d);
    r = doc_rng(7);
    int bad = 0;
    double s = 0, s2 = 0;
    for (size_t i = 0; i < d.n; i++) {
        for (size_t j = 0; j < 16; j++)
            bad += d.X[i * 16 + j] != (float)gsl_ran_gaussian(r, 1.0);
        for (size_t k = 0; k < 4; k++)
            bad += d.Y[i * 4 + k] != (float)gsl_ran_gaussian(r, 1.0);
    }
    for (size_t k = 0; k < d.n * 20; k++) {
        s += d.buf[k];
        s2 += d.buf[k] * d.buf[k];
    }
    gsl_rng_free(r);
    CHECK_INT(bad, 0);
    CHECK_NEAR(s / (d.n * 20), 0.0, 4 / sqrt(d.n * 20.0));
    CHECK_NEAR(s2 / (d.n * 20), 1.0, 0.06);
    isw_data_free(&d);
}

/* isw_data_load: data.seed when given, else the base seed; limit/normalize. */
static void test_load_synthetic(void)
{
    isw_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.base_seed = 11;
    spec.seed = 99;   /* the run's seed: must not matter */
    spec.data = synth_spec(ISW_GEN_BLOBS, 90, 3, 0, 3, 0.3);
    isw_data_t a, b;
    isw_error_t err;
    CHECK_INT(isw_data_load(&a, &spec, &err), ISW_OK);
    CHECK_INT(isw_data_generate(&b, &spec.data, 11, &err), ISW_OK);
    CHECK(memcmp(a.buf, b.buf, nbytes(&a)) == 0);
    isw_data_free(&a);
    spec.seed = 5;
    CHECK_INT(isw_data_load(&a, &spec, &err), ISW_OK);
    CHECK(memcmp(a.buf, b.buf, nbytes(&a)) == 0);
    isw_data_free(&a);
    isw_data_free(&b);

    spec.data.has_seed = 1;
    spec.data.seed = 12;
    spec.data.limit = 10;
    CHECK_INT(isw_data_load(&a, &spec, &err), ISW_OK);
    spec.data.limit = 0;
    CHECK_INT(isw_data_generate(&b, &spec.data, 12, &err), ISW_OK);
    CHECK_INT(a.n, 10);
    CHECK(memcmp(a.X, b.X, 10 * 3 * sizeof(float)) == 0);
    isw_data_free(&a);
    isw_data_free(&b);
}

/* A UTF-8 byte order mark is not part of the first header name; infinite
 * values after normalisation are refused by isw_data_load. */
static void test_csv_bom(void)
{
    const char *path = tmp_path("bom.csv");
    const char text[] = "\xEF\xBB\xBFlabel,x\n0,1\n1,2\n";
    write_bytes(path, text, sizeof text - 1, 0);
    isw_data_spec_t ds = csv_spec(path, 1, 2);
    add_target(&ds, "label");
    isw_data_t d;
    isw_error_t err;
    if (CHECK_INT(isw_data_read_csv(&d, &ds, &err), ISW_OK)) {
        CHECK_INT(d.n, 2);
        CHECK_INT(isw_data_label(&d, 1), 1);
        isw_data_free(&d);
    }
    isw_spec_t s;
    isw_spec_defaults(&s);
    s.data = ds;
    s.data.kind = ISW_DATA_CSV;
    s.data.normalize = 1e-300;
    CHECK_INT(isw_data_load(&d, &s, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "data.normalize: 1e-300 makes input 0 of sample 0 inf");
}

int main(void)
{
    test_target_scale();
    gsl_set_error_handler_off();
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/isw-test-data-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_buffer();
    test_idx_good();
    test_idx_corrupt();
    test_fashion_mnist();
    test_csv_good();
    test_csv_errors();
    test_csv_bom();
    test_xor_spirals_blobs();
    test_teacher();
    test_linear_gaussian();
    test_load_synthetic();
    cleanup();
    return CHECK_DONE();
}
