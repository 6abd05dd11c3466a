/* Status codes, error reports and small helpers shared by every module. */
#ifndef ISW_COMMON_H
#define ISW_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The project's version: CMakeLists.txt's project(VERSION), passed in. */
#ifndef ISW_VERSION
#error "ISW_VERSION is defined by the build (CMakeLists.txt)"
#endif

/* Library status codes.  Every exported function that can fail returns one. */
enum {
    ISW_OK = 0,
    ISW_EINVAL = 1,  /* bad input: spec, option, data file content */
    ISW_EIO = 2,     /* the system refused or failed a file operation (EACCES,
                      * EROFS, ENOSPC, EFBIG, a read or write error): exit 1 */
    ISW_ENOMEM = 3,
    ISW_EINTR = 4,   /* interrupted by a signal, state is resumable */
    ISW_EMPI = 5,    /* an MPI call failed */
    ISW_EGSL = 6,    /* a GSL routine reported an error */
    ISW_ESTATE = 7   /* OUTDIR in use or holds another spec */
};

const char *isw_strerror(int status);

/* Process exit statuses (INTERFACE.md), and the one for a library status:
 * bad input (ISW_EINVAL, ISW_ESTATE) is 2, ISW_EINTR 3, any other failure 1. */
enum { ISW_EXIT_OK = 0, ISW_EXIT_FAIL = 1, ISW_EXIT_INPUT = 2, ISW_EXIT_INTERRUPTED = 3 };
int isw_exit_status(int status);

/* The status of a failed open/stat/mkdir of a path the user named, by its
 * errno: the path itself is wrong (ENOENT, ENOTDIR, EISDIR, ELOOP,
 * ENAMETOOLONG) is ISW_EINVAL, bad input; anything else (EACCES, EROFS,
 * ENOSPC, EIO, ...) is ISW_EIO, an I/O failure. */
int isw_errno_status(int e);

/* Where and why something failed, filled by parsers and loaders the way
 * jansson's json_error_t is: file (may be empty), line (0 = none), column
 * (0 = none) and a message that says what was found and what was expected. */
typedef struct {
    char file[2112];                     /* room for two paths (idx images and labels) */
    int line;
    int column;
    char text[1024];
} isw_error_t;

void isw_error_clear(isw_error_t *err);
/* Fills err (which may be NULL) and returns status, so callers can write
 * `return isw_error_set(err, ISW_EINVAL, path, line, "...", ...);`. */
int isw_error_set(isw_error_t *err, int status, const char *file, int line,
                  const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* "file:line:column: text" (the parts present) followed by a newline. */
void isw_error_print(FILE *out, const isw_error_t *err);

/* s as a JSON string literal: quotes, backslashes and control characters
 * escaped (the texts are ASCII or UTF-8, passed through). */
void isw_json_string(FILE *out, const char *s);

/* Sizes that bound the fixed-size config structs. */
#define ISW_MAX_HIDDEN 128           /* hidden layers */
#define ISW_MAX_LAYERS (ISW_MAX_HIDDEN + 1) /* weight layers */
#define ISW_MAX_TARGETS 64           /* CSV target columns */
#define ISW_PATH_MAX 1024
#define ISW_NAME_MAX 128

/* 64-bit mixing (splitmix64 finalizer): derives independent seeds from
 * (base seed, run seed, stream) without touching a global RNG. */
uint64_t isw_mix64(uint64_t x);
/* FNV-1a 64-bit hash of bytes, continuing from h (start with ISW_HASH_INIT):
 * stable across machines, for identities (spec text, dataset contents). */
#define ISW_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t isw_hash_bytes(uint64_t h, const void *bytes, size_t len);
uint64_t isw_seed_derive(uint64_t base, uint64_t run, uint64_t stream);

/* A string builder.  Growable (zero-initialised: `isw_sb_t b = {0}`, text on
 * the heap, freed with isw_sb_free) or bounded (isw_sb_fixed: the caller's
 * buffer, never reallocated).  Appends never fail on the spot: a failed
 * allocation sets oom, and a bounded builder keeps counting in len what
 * would have been written, so the caller checks once, with isw_sb_ok, at
 * the end.  s is NUL-terminated whenever it is not NULL. */
typedef struct {
    char *s;
    size_t len;                          /* bytes appended (bounded: may pass cap) */
    size_t cap;                          /* bytes s can hold, NUL included */
    int fixed;                           /* s is the caller's buffer */
    int oom;                             /* an allocation failed */
} isw_sb_t;

void isw_sb_fixed(isw_sb_t *b, char *buf, size_t size);
void isw_sb_putn(isw_sb_t *b, const char *s, size_t n);
void isw_sb_puts(isw_sb_t *b, const char *s);
void isw_sb_putc(isw_sb_t *b, char c);
void isw_sb_printf(isw_sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when everything appended is in s. */
int isw_sb_ok(const isw_sb_t *b);
void isw_sb_free(isw_sb_t *b);

/* Decimal integers: digits only (no sign, no spaces), in range; 1 on
 * success.  Callers that accept a sign strip it first. */
int isw_parse_u64(const char *s, uint64_t *v);
/* A finite real number with nothing around it (strtod syntax); 1 on success. */
int isw_parse_finite(const char *s, double *v);

/* Room for need elements of elem bytes in the array p of *cap elements,
 * doubling from first: the growth policy of every growable array.  Returns
 * the array (p itself when it is big enough), or NULL with p and *cap
 * unchanged when realloc fails. */
void *isw_grow(void *p, size_t *cap, size_t need, size_t elem, size_t first);

/* Wall clock in seconds (CLOCK_MONOTONIC). */
double isw_now(void);

#endif
