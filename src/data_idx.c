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

/* The images' and labels' headers agree and describe a usable dataset. */
static int idx_check_counts(size_t count, size_t nlabels, size_t rows, size_t cols,
                            const char *images, const char *labels, isw_error_t *err)
{
    if (count != nlabels)
        return isw_error_set(err, ISW_EINVAL, labels, 0,
                             "%s has %zu items but %s has %zu, expected equal counts", images,
                             count, labels, nlabels);
    if (count == 0)
        return isw_error_set(err, ISW_EINVAL, images, 0, "found 0 images, expected at least 1");
    if (rows == 0 || cols == 0 || rows * cols > (1u << 30))
        return isw_error_set(err, ISW_EINVAL, images, 0,
                             "image size %zux%zu, expected 1..2^30 pixels", rows, cols);
    return ISW_OK;
}

/* Reads total bytes of f through chunk (chunk_bytes at a time), handing
 * each piece to take(user, bytes, got, offset).  *done is the bytes read:
 * less than total when the file ended early (the caller names what). */
typedef int (*idx_take_fn)(void *user, const unsigned char *bytes, size_t got, size_t offset,
                           isw_error_t *err);

static int idx_stream(gzFile f, const char *path, unsigned char *chunk, size_t chunk_bytes,
                      size_t total, idx_take_fn take, void *user, size_t *done,
                      isw_error_t *err)
{
    *done = 0;
    while (*done < total) {
        size_t want = total - *done < chunk_bytes ? total - *done : chunk_bytes;
        size_t got;
        int st = idx_read(f, chunk, want, &got, path, err);
        if (st || (st = take(user, chunk, got, *done, err)))
            return st;
        *done += got;
        if (got < want)
            break;
    }
    return ISW_OK;
}

/* Pixels: X is (n, nin) of table[byte]. */
typedef struct {
    float *X;
    const float *table;
} pixels_t;

static int take_pixels(void *user, const unsigned char *bytes, size_t got, size_t offset,
                       isw_error_t *err)
{
    (void)err;
    const pixels_t *p = user;
    for (size_t j = 0; j < got; j++)
        p->X[offset + j] = p->table[bytes[j]];
    return ISW_OK;
}

/* Labels: Y is (n, classes), one-hot. */
typedef struct {
    float *Y;
    int classes;
    const char *path;
} labels_t;

static int take_labels(void *user, const unsigned char *bytes, size_t got, size_t offset,
                       isw_error_t *err)
{
    const labels_t *l = user;
    for (size_t j = 0; j < got; j++) {
        if (bytes[j] >= l->classes)
            return isw_error_set(err, ISW_EINVAL, l->path, 0,
                                 "label %u at index %zu out of range, expected 0..%d",
                                 (unsigned)bytes[j], offset + j, l->classes - 1);
        l->Y[(offset + j) * (size_t)l->classes + bytes[j]] = 1.0f;
    }
    return ISW_OK;
}

static int idx_read_data(gzFile fi, gzFile fl, const char *images, const char *labels,
                         unsigned char *chunk, size_t chunk_bytes, isw_data_t *data,
                         size_t rows, size_t cols, const float *table, isw_error_t *err)
{
    size_t n = data->n, total = n * rows * cols, done;
    pixels_t px = {data->buf, table};
    int st = idx_stream(fi, images, chunk, chunk_bytes, total, take_pixels, &px, &done, err);
    if (st)
        return st;
    if (done < total)
        return isw_error_set(err, ISW_EINVAL, images, 0,
                             "truncated: expected %zu bytes of pixel data (%zu images "
                             "of %zux%zu), found %zu", total, n, rows, cols, done);
    labels_t lb = {data->buf + total, data->classes, labels};
    if ((st = idx_stream(fl, labels, chunk, chunk_bytes, n, take_labels, &lb, &done, err)))
        return st;
    if (done < n)
        return isw_error_set(err, ISW_EINVAL, labels, 0,
                             "truncated: expected %zu bytes of labels, found %zu", n, done);
    return ISW_OK;
}

/* Read whole, a file must end where its header says, with an intact gzip
 * trailer (its CRC is checked only there): one more byte must be the end
 * of the stream. */
static int idx_check_end(gzFile f, const char *path, unsigned char *chunk, size_t n,
                         isw_error_t *err)
{
    size_t got;
    int st = idx_read(f, chunk, 1, &got, path, err);
    if (st)
        return st;
    int code = Z_OK;
    gzerror(f, &code);
    if (got || (code != Z_OK && code != Z_STREAM_END))
        return isw_error_set(err, ISW_EINVAL, path, 0,
                             got ? "found data after the %zu items its header counts, "
                                   "expected the file to end there"
                                 : "the gzip stream is truncated after its %zu items",
                             n);
    return ISW_OK;
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
    if ((st = idx_check_counts(count, hl[1], rows, cols, images, labels, err)))
        goto done;
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

    if ((st = idx_read_data(fi, fl, images, labels, chunk, chunk_bytes, data, rows, cols, table,
                            err)))
        goto done;
    if (n == count && ((st = idx_check_end(fi, images, chunk, n, err)) ||
                       (st = idx_check_end(fl, labels, chunk, n, err))))
        goto done;
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
