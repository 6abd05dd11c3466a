/* CSV reader.  The file is read whole into memory and walked twice: once to
 * count the data rows (so the dataset buffer is allocated once, at its
 * final size), once to parse them.  Fields are not quoted; each is trimmed
 * of blanks (spaces, tabs, a CR before the newline). */
#include "initsweep/data.h"
#include "data_internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;   /* first character */
    size_t len;      /* without the newline */
    int lineno;      /* 1-based physical line */
} csv_line_t;

typedef struct {
    const char *text;   /* whole file, NUL-terminated */
    size_t size;
    size_t pos;
    int lineno;
} csv_reader_t;

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Next line holding data (not blank, not a '#' comment); 0 at the end. */
static int csv_next(csv_reader_t *r, csv_line_t *line)
{
    while (r->pos < r->size) {
        const char *s = r->text + r->pos;
        const char *nl = memchr(s, '\n', r->size - r->pos);
        size_t len = nl ? (size_t)(nl - s) : r->size - r->pos;
        r->pos += len + (nl ? 1 : 0);
        r->lineno++;
        size_t k = 0;
        while (k < len && is_blank(s[k]))
            k++;
        if (k == len || s[k] == '#')
            continue;
        line->s = s;
        line->len = len;
        line->lineno = r->lineno;
        return 1;
    }
    return 0;
}

static size_t csv_nfields(const csv_line_t *line)
{
    size_t n = 1;
    for (size_t k = 0; k < line->len; k++)
        n += line->s[k] == ',';
    return n;
}

/* Splits a line into at most max fields, trimmed: start[j], len[j].
 * Returns the number of fields in the line (which may exceed max). */
static size_t csv_split(const csv_line_t *line, const char **start, size_t *len, size_t max)
{
    size_t nf = 0;
    const char *p = line->s, *end = line->s + line->len;
    for (;;) {
        const char *q = memchr(p, ',', (size_t)(end - p));
        const char *fe = q ? q : end;
        const char *a = p, *b = fe;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (nf < max) {
            start[nf] = a;
            len[nf] = (size_t)(b - a);
        }
        nf++;
        if (!q)
            return nf;
        p = q + 1;
    }
}

/* A trimmed field as a double that is finite in float: 1 on success, 0 when
 * it is not a finite number, -1 when it overflows a float.  The character
 * after the field is a blank, ',', '\n' or NUL, none of which continues a
 * number, so strtod stops inside the field. */
static int csv_number(const char *s, size_t len, double *out)
{
    if (len == 0)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (end != s + len || !isfinite(v))
        return 0;
    if (fabs(v) > FLT_MAX)
        return -1;
    *out = v;
    return 1;
}

/* Error at a field: "found "<field>", expected <what>". */
static int csv_field_error(isw_error_t *err, const char *path, int line, size_t column,
                           const char *s, size_t len, const char *expected)
{
    int shown = len > 60 ? 60 : (int)len;
    isw_error_set(err, ISW_EINVAL, path, line, "found \"%.*s%s\", expected %s", shown, s,
                  len > 60 ? "..." : "", expected);
    if (err)
        err->column = (int)column;
    return ISW_EINVAL;
}

/* Column index of target name t: a header name first, then a 0-based
 * decimal index; -1 when neither. */
static long csv_target_column(const char *t, const char **names, const size_t *nlen,
                              size_t ncols)
{
    size_t tl = strlen(t);
    if (names)
        for (size_t j = 0; j < ncols; j++)
            if (nlen[j] == tl && memcmp(names[j], t, tl) == 0)
                return (long)j;
    if (tl == 0 || tl > 18)
        return -1;
    long v = 0;
    for (size_t k = 0; k < tl; k++) {
        if (t[k] < '0' || t[k] > '9')
            return -1;
        v = v * 10 + (t[k] - '0');
    }
    return v < (long)ncols ? v : -1;
}

static int csv_unknown_target(isw_error_t *err, const char *path, int line, const char *t,
                              const char **names, const size_t *nlen, size_t ncols)
{
    if (!names)
        return isw_error_set(err, ISW_EINVAL, path, 0,
                             "target \"%s\" is not a column index, expected 0..%zu "
                             "(the file has no header, so targets are 0-based indices)",
                             t, ncols - 1);
    char list[800];
    size_t used = 0;
    list[0] = '\0';
    for (size_t j = 0; j < ncols && used + 8 < sizeof list; j++) {
        int w = snprintf(list + used, sizeof list - used, "%s%.*s", j ? ", " : "",
                         (int)nlen[j], names[j]);
        if (w < 0 || (size_t)w >= sizeof list - used) {
            snprintf(list + (sizeof list - 8), 8, ", ...");
            break;
        }
        used += (size_t)w;
    }
    return isw_error_set(err, ISW_EINVAL, path, line,
                         "unknown target column \"%s\", expected a header name (%s) or "
                         "a 0-based index 0..%zu", t, list, ncols - 1);
}

static int csv_read_file(const char *path, char **text, size_t *size, isw_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return isw_error_set(err, isw_errno_status(errno), path, 0, "cannot open: %s",
                             strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int st = ISW_OK;
    while (buf) {
        if (cap - n < 2) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (!buf)
        st = isw_error_set(err, ISW_ENOMEM, path, 0, "cannot hold the file in memory");
    else if (ferror(f)) {
        st = isw_error_set(err, ISW_EIO, path, 0, "read failed: %s", strerror(errno));
        free(buf);
    } else {
        buf[n] = '\0';
        *text = buf;
        *size = n;
    }
    fclose(f);
    return st;
}

/* The columns of a CSV file and what each is for. */
typedef struct {
    size_t ncols;
    const char **fs;     /* (ncols) field starts of the current line */
    size_t *fl;          /* (ncols) field lengths */
    const char **names;  /* (ncols) header names, NULL without a header */
    size_t *nlen;
    long *role;          /* (ncols) -1 input, else index into Y's columns */
} csv_cols_t;

static void csv_cols_free(csv_cols_t *c)
{
    free(c->fs);
    free(c->fl);
    free(c->names);
    free(c->nlen);
    free(c->role);
}

/* Sizes the columns from the first line, whose fields are the names when
 * there is a header. */
static int csv_cols_alloc(csv_cols_t *c, const csv_line_t *first, int header,
                          const char *path, isw_error_t *err)
{
    memset(c, 0, sizeof *c);
    c->ncols = csv_nfields(first);
    c->fs = malloc(c->ncols * sizeof *c->fs);
    c->fl = malloc(c->ncols * sizeof *c->fl);
    c->role = malloc(c->ncols * sizeof *c->role);
    if (header) {
        c->names = malloc(c->ncols * sizeof *c->names);
        c->nlen = malloc(c->ncols * sizeof *c->nlen);
    }
    if (!c->fs || !c->fl || !c->role || (header && (!c->names || !c->nlen)))
        return isw_error_set(err, ISW_ENOMEM, path, 0, "cannot allocate %zu columns",
                             c->ncols);
    if (header)
        csv_split(first, c->names, c->nlen, c->ncols);
    return ISW_OK;
}

/* Roles: targets in the order given (the last column by default), the rest
 * inputs in file order.  line: the header's line for messages, 0 without. */
static int csv_assign_roles(csv_cols_t *c, const isw_data_spec_t *ds, int nt, int line,
                            const char *path, isw_error_t *err)
{
    for (size_t j = 0; j < c->ncols; j++)
        c->role[j] = -1;
    for (int t = 0; t < nt; t++) {
        long col = (long)c->ncols - 1;
        if (ds->ntargets > 0) {
            col = csv_target_column(ds->target[t], c->names, c->nlen, c->ncols);
            if (col < 0)
                return csv_unknown_target(err, path, line, ds->target[t], c->names, c->nlen,
                                          c->ncols);
        }
        if (c->role[col] >= 0)
            return isw_error_set(err, ISW_EINVAL, path, 0,
                                 "target \"%s\" names column %ld again, expected distinct "
                                 "target columns", ds->target[t], col);
        c->role[col] = t;
    }
    return ISW_OK;
}

/* Parses one data row into x (nin inputs, divided by divisor) and y (nout
 * targets: one-hot of the label when K > 0). */
static int csv_parse_row(const csv_cols_t *c, const csv_line_t *line, int K, double divisor,
                         const char *origin, float *x, float *y, const char *path,
                         isw_error_t *err)
{
    size_t nf = csv_split(line, c->fs, c->fl, c->ncols);
    if (nf != c->ncols) {
        int st = isw_error_set(err, ISW_EINVAL, path, line->lineno,
                               "found %zu fields, expected %zu (%s column count)", nf,
                               c->ncols, origin);
        if (err)
            err->column = (int)(nf < c->ncols ? nf + 1 : c->ncols + 1);
        return st;
    }
    size_t in = 0;
    for (size_t j = 0; j < c->ncols; j++) {
        double v;
        if (c->role[j] >= 0 && K > 0) {
            if (csv_number(c->fs[j], c->fl[j], &v) != 1 || v != floor(v) || v < 0 || v >= K) {
                char expected[64];
                snprintf(expected, sizeof expected, "an integer label 0..%d", K - 1);
                return csv_field_error(err, path, line->lineno, j + 1, c->fs[j], c->fl[j],
                                       expected);
            }
            y[(size_t)v] = 1.0f;
            continue;
        }
        int ok = csv_number(c->fs[j], c->fl[j], &v);
        if (ok != 1)
            return csv_field_error(err, path, line->lineno, j + 1, c->fs[j], c->fl[j],
                                   ok == 0 ? "a finite number"
                                           : "a finite number within float range "
                                             "(|x| <= 3.4e38)");
        if (c->role[j] >= 0)
            y[c->role[j]] = (float)v;
        else
            x[in++] = (float)(v / divisor);
    }
    return ISW_OK;
}

int isw_data_read_csv(isw_data_t *data, const isw_data_spec_t *ds, isw_error_t *err)
{
    memset(data, 0, sizeof *data);
    const char *path = ds->path;
    double divisor;
    int st = isw_data_check_options(ds->limit, ds->normalize, &divisor, path, err);
    if (st != ISW_OK)
        return st;
    int K = ds->classes;
    int ntargets = ds->ntargets;
    if ((st = isw_data_check_classes(K, NULL, err)) != ISW_OK ||
        (st = isw_data_check_csv_label(K, ntargets, NULL, err)) != ISW_OK) {
        isw_data_error_file(err, path);
        return st;
    }
    if (ntargets < 0 || ntargets > ISW_MAX_TARGETS)
        return isw_error_set(err, ISW_EINVAL, path, 0,
                             "%d target columns, expected 0..%d", ntargets, ISW_MAX_TARGETS);

    char *text = NULL;
    size_t size = 0;
    if ((st = csv_read_file(path, &text, &size, err)))
        return st;
    csv_cols_t cols = {0};
    /* a UTF-8 byte order mark (spreadsheet exports) is not part of the
     * first column's name */
    size_t bom = size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    csv_reader_t r = {text + bom, size - bom, 0, 0};
    csv_line_t first, line;
    int nt = ntargets ? ntargets : 1;
    if (!csv_next(&r, &first)) {
        st = isw_error_set(err, ISW_EINVAL, path, 0,
                           "no data rows, expected %s comma-separated rows",
                           ds->header ? "a header line and" : "");
        goto done;
    }
    if ((st = csv_cols_alloc(&cols, &first, ds->header, path, err)) != ISW_OK ||
        (st = csv_assign_roles(&cols, ds, nt, ds->header ? first.lineno : 0, path, err)) !=
            ISW_OK)
        goto done;
    if (cols.ncols <= (size_t)nt) {
        st = isw_error_set(err, ISW_EINVAL, path, first.lineno,
                           "found %zu columns, all of them targets; expected at least one "
                           "input column", cols.ncols);
        goto done;
    }
    size_t nin = cols.ncols - (size_t)nt;
    size_t nout = K > 0 ? (size_t)K : (size_t)nt;

    /* Pass 1: count the data rows. */
    size_t rows = ds->header ? 0 : 1;
    csv_reader_t r1 = r;
    while (csv_next(&r1, &line))
        rows++;
    if (rows == 0) {
        st = isw_error_set(err, ISW_EINVAL, path, 0,
                           "no data rows after the header, expected at least one");
        goto done;
    }
    size_t n = isw_data_limited(rows, ds->limit);
    if ((st = isw_data_alloc(data, n, nin, nout, K, err))) {
        isw_data_error_file(err, path);
        goto done;
    }

    /* Pass 2: parse.  X is (n, nin), Y is (n, nout). */
    float *X = data->buf, *Y = data->buf + n * nin;
    const char *origin = ds->header ? "the header's" : "the first row's";
    int have = !ds->header;   /* the first line is already a data row */
    line = first;
    for (size_t i = 0; i < n && st == ISW_OK; i++) {
        if (!have && !csv_next(&r, &line))
            break;   /* cannot happen: pass 1 counted the rows */
        have = 0;
        st = csv_parse_row(&cols, &line, K, divisor, origin, X + i * nin, Y + i * nout, path,
                           err);
    }

done:
    csv_cols_free(&cols);
    free(text);
    if (st != ISW_OK)
        isw_data_free(data);
    return st;
}
