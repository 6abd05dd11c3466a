/* IDX reader (the MNIST format), plain or gzip: zlib's gzread reads both.
 *
 * Images: magic 0x00000803, then count, rows, columns (big-endian uint32),
 * then count*rows*columns unsigned bytes.  Labels: magic 0x00000801, then
 * count, then count unsigned bytes.  Data are read in chunks of CHUNK bytes
 * and converted through a 256-entry table, so 60000 MNIST images take about
 * as long as zlib takes to inflate them. */
#include "initsweep/data.h"
#include "data_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define CHUNK (1u << 20)

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads up to len bytes into dst and sets *got to the count read (short
 * only at the end of the file, or of a truncated gzip stream). */
static int idx_read(gzFile f, unsigned char *dst, size_t len, size_t *got_out,
                    const char *path, isw_error_t *err)
{
    size_t done = 0;
    *got_out = 0;
    while (done < len) {
        size_t want = len - done < CHUNK ? len - done : CHUNK;
        int got = gzread(f, dst + done, (unsigned)want);
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            if (code == Z_ERRNO)
                msg = strerror(errno);
            return isw_error_set(err, code == Z_DATA_ERROR ? ISW_EINVAL : ISW_EIO, path, 0,
                                 "read failed after %zu bytes: %s", done, msg);
        }
        if (got == 0)
            break;
        done += (size_t)got;
    }
    *got_out = done;
    return ISW_OK;
}

static gzFile idx_open(const char *path, isw_error_t *err)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        isw_error_set(err, errno ? isw_errno_status(errno) : ISW_ENOMEM, path, 0, "cannot open: %s",
                      errno ? strerror(errno) : "out of memory");
    else
        gzbuffer(f, 1u << 17);
    return f;
}

/* Reads a header of nwords big-endian words into h and checks the magic. */
static int idx_header(gzFile f, uint32_t *h, int nwords, uint32_t magic,
                      const char *what, const char *path, isw_error_t *err)
{
    unsigned char raw[16];
    size_t len = 4 * (size_t)nwords;
    size_t got;
    int st = idx_read(f, raw, len, &got, path, err);
    if (st != ISW_OK)
        return st;
    if (got >= 4 && be32(raw) != magic)
        return isw_error_set(err, ISW_EINVAL, path, 0,
                             "bad magic number 0x%08x, expected 0x%08x (%s)",
                             (unsigned)be32(raw), (unsigned)magic, what);
    if (got < len)
        return isw_error_set(err, ISW_EINVAL, path, 0,
                             "truncated: expected a %zu-byte header (%s), found %zu bytes",
                             len, what, got);
    for (int i = 0; i < nwords; i++)
        h[i] = be32(raw + 4 * i);
    return ISW_OK;
}

/* Most bytes a file whose header has been read can still deliver: the rest
 * of a plain file; for gzip, 1032 times its compressed size (deflate's
 * largest expansion); unbounded for what is not a regular file.  It lets a
 * header that claims more than the file holds be refused before the dataset
 * is allocated from the claim. */
static uint64_t idx_room(gzFile f, const char *path, size_t header)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return UINT64_MAX;
    uint64_t size = (uint64_t)sb.st_size;
    if (gzdirect(f))
        return size > header ? size - header : 0;
    return size > UINT64_MAX / 1032 ? UINT64_MAX : 1032 * size;
}

/* ISW_EINVAL when `need` bytes past the header cannot be in the file. */
static int idx_check_room(gzFile f, const char *path, size_t header, uint64_t need,
                          const char *what, isw_error_t *err)
{
    uint64_t room = idx_room(f, path, header);
    if (need <= room)
        return ISW_OK;
    if (gzdirect(f))
        return isw_error_set(err, ISW_EINVAL, path, 0,
                             "truncated: expected %llu bytes of %s, found %llu",
                             (unsigned long long)need, what, (unsigned long long)room);
    return isw_error_set(err, ISW_EINVAL, path, 0,
                         "truncated: expected %llu bytes of %s, a gzip file of %llu bytes "
                         "holds at most %llu", (unsigned long long)need, what,
                         (unsigned long long)(room / 1032), (unsigned long long)room);
}

int isw_data_read_idx(isw_data_t *data, const char *images, const char *labels,
                      long limit, double normalize, int classes, isw_error_t *err)
{
    memset(data, 0, sizeof *data);
    double divisor;
    int st = isw_data_check_options(limit, normalize, &divisor, images, err);
    if (st != ISW_OK)
        return st;
    if ((st = isw_data_check_classes(classes, NULL, err)) != ISW_OK) {
        isw_data_error_file(err, labels);
        return st;
    }
    if (classes > 256)
        return isw_error_set(err, ISW_EINVAL, labels, 0,
                             "data.classes is %d, expected at most 256 for IDX byte labels "
                             "(or 0 for 10)", classes);
    if (classes == 0)
        classes = 10;

    gzFile fi = NULL, fl = NULL;
    unsigned char *chunk = NULL;
    uint32_t hi[4] = {0}, hl[2] = {0};   /* header words: magic, dims */

    if (!(fi = idx_open(images, err))) {
        st = ISW_EIO;
        goto done;
    }
    if ((st = idx_header(fi, hi, 4, IDX_MAGIC_IMAGES,
                         "IDX unsigned-byte images, 3 dimensions", images, err)))
        goto done;
    if (!(fl = idx_open(labels, err))) {
        st = ISW_EIO;
        goto done;
    }
    if ((st = idx_header(fl, hl, 2, IDX_MAGIC_LABELS, "IDX unsigned-byte labels",
                         labels, err)))
        goto done;

    size_t count = hi[1], rows = hi[2], cols = hi[3];
    if (count != hl[1]) {
        st = isw_error_set(err, ISW_EINVAL, labels, 0,
                           "%s has %zu items but %s has %lu, expected equal counts",
                           images, count, labels, (unsigned long)hl[1]);
        goto done;
    }
    if (count == 0) {
        st = isw_error_set(err, ISW_EINVAL, images, 0,
                           "found 0 images, expected at least 1");
        goto done;
    }
    if (rows == 0 || cols == 0 || rows * cols > (1u << 30)) {
        st = isw_error_set(err, ISW_EINVAL, images, 0,
                           "image size %zux%zu, expected 1..2^30 pixels", rows, cols);
        goto done;
    }
    size_t nin = rows * cols;
    size_t n = isw_data_limited(count, limit);
    char what[128];
    snprintf(what, sizeof what, "pixel data (%zu images of %zux%zu)", n, rows, cols);
    if ((st = idx_check_room(fi, images, 16, (uint64_t)n * nin, what, err)) ||
        (st = idx_check_room(fl, labels, 8, n, "labels", err)))
        goto done;
    if ((st = isw_data_alloc(data, n, nin, (size_t)classes, classes, err))) {
        isw_data_error_file(err, images);
        goto done;
    }

    float table[256];   /* pixel byte -> input value */
    for (int b = 0; b < 256; b++)
        table[b] = (float)(b / divisor);

    size_t rows_per_chunk = CHUNK / nin ? CHUNK / nin : 1;
    size_t chunk_bytes = rows_per_chunk * nin;
    if (!(chunk = malloc(chunk_bytes))) {
        st = isw_error_set(err, ISW_ENOMEM, images, 0, "cannot allocate %zu bytes",
                           chunk_bytes);
        goto done;
    }

    /* Pixels: X is (n, nin). */
    float *X = data->buf;
    size_t total = n * nin, done_bytes = 0;
    while (done_bytes < total) {
        size_t want = total - done_bytes < chunk_bytes ? total - done_bytes : chunk_bytes;
        size_t got;
        if ((st = idx_read(fi, chunk, want, &got, images, err)))
            goto done;
        for (size_t j = 0; j < got; j++)
            X[done_bytes + j] = table[chunk[j]];
        done_bytes += got;
        if (got < want) {
            st = isw_error_set(err, ISW_EINVAL, images, 0,
                               "truncated: expected %zu bytes of pixel data (%zu images "
                               "of %zux%zu), found %zu", total, n, rows, cols, done_bytes);
            goto done;
        }
    }

    /* Labels: Y is (n, classes), one-hot. */
    float *Y = data->buf + n * nin;
    size_t done_labels = 0;
    while (done_labels < n) {
        size_t want = n - done_labels < chunk_bytes ? n - done_labels : chunk_bytes;
        size_t got;
        if ((st = idx_read(fl, chunk, want, &got, labels, err)))
            goto done;
        for (size_t j = 0; j < got; j++) {
            size_t i = done_labels + j;
            if (chunk[j] >= classes) {
                st = isw_error_set(err, ISW_EINVAL, labels, 0,
                                   "label %u at index %zu out of range, expected 0..%d",
                                   (unsigned)chunk[j], i, classes - 1);
                goto done;
            }
            Y[i * (size_t)classes + chunk[j]] = 1.0f;
        }
        done_labels += got;
        if (got < want) {
            st = isw_error_set(err, ISW_EINVAL, labels, 0,
                               "truncated: expected %zu bytes of labels, found %zu", n,
                               done_labels);
            goto done;
        }
    }
    /* Read whole, a file must end where its header says, with an intact
     * gzip trailer (its CRC is checked only there): one more byte must be
     * the end of the stream. */
    if (n == count) {
        for (int k = 0; k < 2; k++) {
            gzFile f = k ? fl : fi;
            const char *path = k ? labels : images;
            size_t got;
            if ((st = idx_read(f, chunk, 1, &got, path, err)))
                goto done;
            int code = Z_OK;
            gzerror(f, &code);
            if (got || (code != Z_OK && code != Z_STREAM_END)) {
                st = isw_error_set(err, ISW_EINVAL, path, 0,
                                   got ? "found data after the %zu items its header counts, "
                                         "expected the file to end there"
                                       : "the gzip stream is truncated after its %zu items",
                                   n);
                goto done;
            }
        }
    }
    st = ISW_OK;

done:
    free(chunk);
    if (fi)
        gzclose(fi);
    if (fl)
        gzclose(fl);
    if (st != ISW_OK)
        isw_data_free(data);
    return st;
}
