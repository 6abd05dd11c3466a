/* Helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 *
 * The readers under test take file names, so every harness writes its input
 * to files in a private scratch directory, made once per process: under
 * /dev/shm when it exists (the journal fsyncs on every open and close, which
 * is free on tmpfs), else under $TMPDIR or /tmp.  fuzz_fail() is how a
 * harness reports a broken invariant: it prints why and aborts, which
 * libFuzzer records as a crash with the input that caused it. */
#ifndef ISW_FUZZ_UTIL_H
#define ISW_FUZZ_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

static inline void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* The scratch directory of this process, created on first use. */
static inline const char *fuzz_scratch(void)
{
    static char dir[512];
    if (dir[0])
        return dir;
    const char *base = getenv("ISW_FUZZ_TMP");
    struct stat sb;
    if (!base && stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
        access("/dev/shm", W_OK) == 0)
        base = "/dev/shm";
    if (!base)
        base = getenv("TMPDIR");
    if (!base)
        base = "/tmp";
    snprintf(dir, sizeof dir, "%s/isw-fuzz-XXXXXX", base);
    if (!mkdtemp(dir))
        fuzz_fail("cannot create a scratch directory under %s", base);
    return dir;
}

/* dir/name into buf (of ISW_PATH_MAX or more bytes). */
static inline void fuzz_path(char *buf, size_t size, const char *dir, const char *name)
{
    if (snprintf(buf, size, "%s/%s", dir, name) >= (int)size)
        fuzz_fail("path too long: %s/%s", dir, name);
}

static inline void fuzz_write_file(const char *path, const uint8_t *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(bytes, 1, n, f) != n) || fclose(f) != 0)
        fuzz_fail("cannot write %s", path);
}

/* Removes every entry of dir (files only: no harness makes subdirectories). */
static inline void fuzz_clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        fuzz_path(path, sizeof path, dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

/* Removes the scratch directory at exit. */
static inline void fuzz_cleanup(void)
{
    const char *dir = fuzz_scratch();
    fuzz_clear_dir(dir);
    rmdir(dir);
}

/* What every harness does once: GSL must not abort on a domain error (the
 * program turns its handler off at start-up too), and the scratch
 * directory goes away when the fuzzer exits normally. */
static inline void fuzz_init(void)
{
    gsl_set_error_handler_off();
    fuzz_scratch();
    atexit(fuzz_cleanup);
}

/* libFuzzer's entry points; each harness is its own program, so the
 * shared initialiser is defined here once for all of them. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_OWN_INIT      /* a harness with more set-up defines its own */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}
#endif

#endif
