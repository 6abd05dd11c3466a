/* Status strings, error reports, seed mixing, clock. */
#include "initsweep/common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *isw_strerror(int status)
{
    switch (status) {
    case ISW_OK: return "success";
    case ISW_EINVAL: return "invalid input";
    case ISW_EIO: return "input/output error";
    case ISW_ENOMEM: return "out of memory";
    case ISW_EINTR: return "interrupted";
    case ISW_EMPI: return "MPI error";
    case ISW_EGSL: return "GSL error";
    case ISW_ESTATE: return "output directory in use or holds another spec";
    default: return "unknown error";
    }
}

int isw_exit_status(int status)
{
    switch (status) {
    case ISW_OK: return ISW_EXIT_OK;
    case ISW_EINVAL:
    case ISW_ESTATE: return ISW_EXIT_INPUT;
    case ISW_EINTR: return ISW_EXIT_INTERRUPTED;
    default: return ISW_EXIT_FAIL;      /* ISW_EIO, ISW_ENOMEM, ... */
    }
}

int isw_errno_status(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG: return ISW_EINVAL;
    default: return ISW_EIO;
    }
}

void isw_error_clear(isw_error_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

int isw_error_set(isw_error_t *err, int status, const char *file, int line,
                  const char *fmt, ...)
{
    if (!err)
        return status;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->column = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
    return status;
}

void isw_error_print(FILE *out, const isw_error_t *err)
{
    if (err->file[0])
        fprintf(out, "%s:", err->file);
    if (err->line > 0)
        fprintf(out, "%d:", err->line);
    if (err->line > 0 && err->column > 0)
        fprintf(out, "%d:", err->column);
    fprintf(out, "%s%s\n", (err->file[0] || err->line > 0) ? " " : "", err->text);
}

uint64_t isw_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t isw_seed_derive(uint64_t base, uint64_t run, uint64_t stream)
{
    return isw_mix64(isw_mix64(isw_mix64(base) ^ run) ^ (stream * 0xd1b54a32d192ed03ULL));
}

double isw_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t isw_hash_bytes(uint64_t h, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

void isw_sb_fixed(isw_sb_t *b, char *buf, size_t size)
{
    *b = (isw_sb_t){.s = buf, .cap = size, .fixed = 1};
    if (size)
        buf[0] = '\0';
}

/* Room for n more bytes and the NUL; 0 when there is none (bounded: the
 * bytes are then only counted). */
static int sb_reserve(isw_sb_t *b, size_t n)
{
    if (b->oom)
        return 0;
    if (b->len + n < b->cap)
        return 1;
    if (b->fixed)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (b->len + n >= cap)
        cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->s = p;
    b->cap = cap;
    return 1;
}

void isw_sb_putn(isw_sb_t *b, const char *s, size_t n)
{
    if (sb_reserve(b, n)) {
        memcpy(b->s + b->len, s, n);
        b->s[b->len + n] = '\0';
    } else if (b->fixed && b->len < b->cap && b->cap) {
        size_t fit = b->cap - 1 - b->len;   /* what still fits, then NUL */
        memcpy(b->s + b->len, s, fit);
        b->s[b->cap - 1] = '\0';
    }
    b->len += n;
}

void isw_sb_puts(isw_sb_t *b, const char *s) { isw_sb_putn(b, s, strlen(s)); }

void isw_sb_putc(isw_sb_t *b, char c) { isw_sb_putn(b, &c, 1); }

void isw_sb_printf(isw_sb_t *b, const char *fmt, ...)
{
    /* one pass when it fits (the journal's hot path), a second after growing */
    size_t room = !b->oom && b->cap > b->len ? b->cap - b->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= room && !b->fixed && sb_reserve(b, (size_t)n)) {
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

int isw_sb_ok(const isw_sb_t *b) { return !b->oom && (b->fixed ? b->len < b->cap : 1); }

void isw_sb_free(isw_sb_t *b)
{
    if (b && !b->fixed) {
        free(b->s);
        *b = (isw_sb_t){0};
    }
}

int isw_parse_u64(const char *s, uint64_t *v)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    errno = 0;
    unsigned long long x = strtoull(s, NULL, 10);
    if (errno == ERANGE || x > UINT64_MAX)
        return 0;
    *v = (uint64_t)x;
    return 1;
}

int isw_parse_finite(const char *s, double *v)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return 0;
    char *end;
    double x = strtod(s, &end);
    if (*end || !isfinite(x))
        return 0;
    *v = x;
    return 1;
}

void *isw_grow(void *p, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : first;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / elem)
        return NULL;
    void *q = realloc(p, n * elem);
    if (q)
        *cap = n;
    return q;
}

void isw_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}
