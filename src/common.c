/* Status strings, error reports, seed mixing, clock. */
#include "initsweep/common.h"

#include <errno.h>
#include <stdarg.h>
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
