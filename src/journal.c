/* The journal: runs.csv append, resume, lock, atomic writes (journal.h). */
#include "initsweep/journal.h"

#include "initsweep/spec.h"
#include "runs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* The files initsweep writes in an OUTDIR, which --fresh removes (plots and
 * anything else stay).  The journal comes last, so an interrupted --fresh
 * leaves a journal that the next run still recognises. */
static const char *const outdir_outputs[] = {
    "cells.csv", "boundary.csv", "fit.csv", "geometry.csv", "spec.yaml", "runs.csv",
    "journal.meta"};
#define NOUTPUTS (sizeof outdir_outputs / sizeof outdir_outputs[0])

struct isw_journal {
    char outdir[ISW_PATH_MAX];
    char runs_path[ISW_PATH_MAX];
    int lock_fd;             /* OUTDIR/.lock, holds the fcntl write lock */
    int fd;                  /* runs.csv, O_APPEND */
    off_t size;              /* bytes of complete lines in runs.csv */
    uint64_t spec_hash;
    int keep_spec;           /* OUTDIR/spec.yaml is the input spec: never replace it */
    isw_runs_t runs;         /* every finished run */
    char *line;              /* line buffer of line_cap bytes, grown by append */
    size_t line_cap;
    char *meta;              /* journal.meta's new text while a resumed journal's
                              * rewrite waits for isw_journal_write_meta; else NULL */
    size_t meta_len;
};

/* ---- files and directories --------------------------------------------- */

static int path_join(char *buf, const char *dir, const char *name, isw_error_t *err)
{
    int n = snprintf(buf, ISW_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= ISW_PATH_MAX)
        return isw_error_set(err, ISW_EINVAL, dir, 0, "path too long");
    return ISW_OK;
}

static int mkdir_p(const char *dir, isw_error_t *err)
{
    char p[ISW_PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return isw_error_set(err, ISW_EINVAL, dir, 0, "path too long");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return isw_error_set(err, isw_errno_status(errno), p, 0,
                                 "cannot create directory: %s", strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return isw_error_set(err, isw_errno_status(errno), p, 0, "cannot create directory: %s",
                             strerror(errno));
    struct stat sb;
    if (stat(p, &sb) != 0)
        return isw_error_set(err, isw_errno_status(errno), p, 0, "cannot stat: %s",
                             strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return isw_error_set(err, ISW_EINVAL, p, 0, "not a directory");
    return ISW_OK;
}

/* Anyone who can write into a shared OUTDIR can plant a symbolic link under
 * one of our file names; following it would let this job write or truncate
 * the link's target.  So OUTDIR's files are never opened through a link:
 * a link (or a device, FIFO, directory) where a file of ours should be is
 * refused, and every open uses O_NOFOLLOW. */
static int refuse_odd(const char *path, const struct stat *sb, isw_error_t *err)
{
    if (S_ISLNK(sb->st_mode))
        return isw_error_set(err, ISW_ESTATE, path, 0,
                             "is a symbolic link: initsweep never writes through or replaces a "
                             "link in an output directory; remove it or choose another -o");
    if (!S_ISREG(sb->st_mode))
        return isw_error_set(err, ISW_ESTATE, path, 0,
                             "is not a regular file; remove it or choose another -o");
    return ISW_OK;
}

/* ISW_OK when path is absent or a regular file (not a link). */
static int check_plain(const char *path, isw_error_t *err)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? ISW_OK
                               : isw_error_set(err, ISW_EIO, path, 0, "cannot stat: %s",
                                               strerror(errno));
    return refuse_odd(path, &sb, err);
}

/* open(2) of one of OUTDIR's files, never through a link and never of
 * anything but a regular file.  *fd is -1 and ISW_OK returned when the file
 * is absent and flags hold no O_CREAT. */
static int open_plain(int *fd, const char *path, int flags, isw_error_t *err)
{
    /* O_NONBLOCK: a FIFO planted under our name must not hang the open */
    *fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (*fd < 0) {
        int e = errno;
        struct stat sb;
        if (e == ENOENT && !(flags & O_CREAT))
            return ISW_OK;
        if (e == ELOOP && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
            return refuse_odd(path, &sb, err);
        return isw_error_set(err, ISW_EIO, path, 0, "cannot open: %s", strerror(e));
    }
    struct stat sb;
    int st = fstat(*fd, &sb) != 0 ? isw_error_set(err, ISW_EIO, path, 0, "cannot stat: %s",
                                                  strerror(errno))
                                  : refuse_odd(path, &sb, err);
    int fl = fcntl(*fd, F_GETFL);
    if (st == ISW_OK && (fl < 0 || fcntl(*fd, F_SETFL, fl & ~O_NONBLOCK) != 0))
        st = isw_error_set(err, ISW_EIO, path, 0, "fcntl failed: %s", strerror(errno));
    if (st != ISW_OK) {
        close(*fd);
        *fd = -1;
    }
    return st;
}

/* Makes a rename in dir durable. */
static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);  /* some filesystems refuse fsync on directories */
        close(fd);
    }
}

int isw_file_write_atomic(const char *outdir, const char *name, isw_file_writer_fn fn,
                          void *user, isw_error_t *err)
{
    char path[ISW_PATH_MAX], tmp[ISW_PATH_MAX];
    int st = path_join(path, outdir, name, err);
    if (st != ISW_OK)
        return st;
    /* the rename would replace a link, not follow it; refuse it anyway, so
     * that a planted link is reported instead of silently removed */
    if ((st = check_plain(path, err)) != ISW_OK)
        return st;
    /* a unique temp name (mkstemp opens it O_CREAT | O_EXCL, which never
     * follows a link): two writers in one OUTDIR never share a temp file */
    int n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", outdir, name);
    if (n < 0 || n >= (int)sizeof tmp)
        return isw_error_set(err, ISW_EINVAL, outdir, 0, "path too long");
    int fd = mkstemp(tmp);
    if (fd < 0)
        return isw_error_set(err, ISW_EIO, tmp, 0, "cannot create: %s", strerror(errno));
    mode_t mask = umask(0);  /* mkstemp's 0600 -> what a plain create gives */
    umask(mask);
    FILE *out = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        st = isw_error_set(err, ISW_EIO, tmp, 0, "cannot create: %s", strerror(errno));
        close(fd);
        unlink(tmp);
        return st;
    }
    st = fn(out, user, err);
    if (st == ISW_OK && (fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0))
        st = isw_error_set(err, ISW_EIO, path, 0, "write failed: %s", strerror(errno));
    if (fclose(out) != 0 && st == ISW_OK)
        st = isw_error_set(err, ISW_EIO, path, 0, "write failed: %s", strerror(errno));
    if (st == ISW_OK && rename(tmp, path) != 0)
        st = isw_error_set(err, ISW_EIO, path, 0, "cannot rename %s: %s", tmp,
                           strerror(errno));
    if (st != ISW_OK) {
        unlink(tmp);
        return st;
    }
    fsync_dir(outdir);
    return ISW_OK;
}

uint64_t isw_journal_hash(const void *bytes, size_t len)
{
    return isw_hash_bytes(ISW_HASH_INIT, bytes, len);
}

/* ---- the journal ------------------------------------------------------------ */

/* Removes the temp files (.NAME.XXXXXX) that a killed writer left behind.
 * Only under the lock: no live writer of ours is then using one. */
static void remove_stale_temps(const char *outdir)
{
    DIR *d = opendir(outdir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        for (size_t i = 0; i < NOUTPUTS; i++) {
            size_t len = strlen(outdir_outputs[i]);
            const char *s = e->d_name;
            if (s[0] == '.' && strncmp(s + 1, outdir_outputs[i], len) == 0 &&
                s[1 + len] == '.' && strlen(s + 2 + len) == 6) {
                char p[ISW_PATH_MAX];
                if (path_join(p, outdir, s, NULL) == ISW_OK)
                    (void)unlink(p);  /* a link is removed, never followed */
                break;
            }
        }
    }
    closedir(d);
}

int isw_journal_lock(const char *outdir, int *lock_fd, isw_error_t *err)
{
    char path[ISW_PATH_MAX];
    *lock_fd = -1;
    int st = path_join(path, outdir, ".lock", err);
    if (st != ISW_OK || (st = open_plain(lock_fd, path, O_RDWR | O_CREAT, err)) != ISW_OK)
        return st;
    struct stat sb;
    /* the pid is written by truncating the file: not through a hard link */
    if (fstat(*lock_fd, &sb) == 0 && sb.st_nlink > 1) {
        st = isw_error_set(err, ISW_ESTATE, path, 0,
                           "has %ld hard links: remove it (initsweep recreates it)",
                           (long)sb.st_nlink);
        goto fail;
    }
    for (int attempt = 0;; attempt++) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        if (fcntl(*lock_fd, F_SETLK, &fl) == 0)
            break;
        if (errno != EACCES && errno != EAGAIN) {
            st = isw_error_set(err, ISW_EIO, path, 0, "cannot lock: %s", strerror(errno));
            goto fail;
        }
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        if (fcntl(*lock_fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK) {
            st = isw_error_set(err, ISW_ESTATE, outdir, 0,
                               "%s is in use by another initsweep job (pid %ld)", outdir,
                               (long)q.l_pid);
            goto fail;
        }
        if (attempt == 2) {  /* released in between, three times */
            st = isw_error_set(err, ISW_ESTATE, outdir, 0,
                               "%s is in use by another initsweep job", outdir);
            goto fail;
        }
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(*lock_fd, 0) != 0 || pwrite(*lock_fd, pid, (size_t)n, 0) != n) {
        st = isw_error_set(err, ISW_EIO, path, 0, "cannot write: %s", strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < NOUTPUTS; i++) {
        char p[ISW_PATH_MAX];
        if ((st = path_join(p, outdir, outdir_outputs[i], err)) != ISW_OK ||
            (st = check_plain(p, err)) != ISW_OK)
            goto fail;
    }
    remove_stale_temps(outdir);
    return ISW_OK;
fail:
    close(*lock_fd);
    *lock_fd = -1;
    return st;
}

void isw_journal_unlock(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd);  /* releases the fcntl lock */
}

typedef struct {
    uint64_t hash;
    const isw_journal_data_t *data;
    int ndata;
    const char *const *axes;
    int naxes;
    const char *platform;
} meta_t;

static int meta_write(FILE *out, void *user, isw_error_t *err)
{
    (void)err;
    const meta_t *m = user;
    fprintf(out, "# initsweep journal: the spec this directory's runs.csv belongs to\n");
    fprintf(out, "spec_hash %016" PRIx64 "\n", m->hash);
    /* one line per dataset: its content hash, then its source to the end */
    for (int i = 0; i < m->ndata; i++)
        fprintf(out, "data %016" PRIx64 " %s\n", m->data[i].hash, m->data[i].source);
    /* one "platform" line per line of facts */
    for (const char *p = m->platform; p && *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(out, "platform %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
    fprintf(out, "axes %d\n", m->naxes);
    for (int i = 0; i < m->naxes; i++)
        fprintf(out, "axis %s\n", m->axes[i]);
    return ISW_OK;
}

/* Checks journal.meta against the spec hash and the datasets.  Returns 1
 * when it matches, 0 when there is no file, -1 when it is unreadable (or a
 * link: never followed), -2 another spec; -3 a dataset differs (*bad its
 * index, *was its old hash). */
static int meta_check(const char *path, uint64_t hash, const isw_journal_data_t *data,
                      int ndata, int *bad, uint64_t *was, uint64_t *stored)
{
    *bad = -1;
    int fd;
    if (open_plain(&fd, path, O_RDONLY, NULL) != ISW_OK)
        return -1;
    if (fd < 0)
        return 0;
    FILE *in = fdopen(fd, "r");
    if (!in) {
        close(fd);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int found = -1, nd = 0;
    while (getline(&line, &cap, in) > 0) {
        unsigned long long h;
        char end;
        int at = 0;
        if (sscanf(line, "spec_hash %16llx%c", &h, &end) == 2 && end == '\n') {
            found = (uint64_t)h == hash ? 1 : -2;
            *stored = (uint64_t)h;
        } else if (sscanf(line, "data %16llx %n", &h, &at) == 1 && at > 0) {
            if (*bad < 0 && (nd >= ndata || (uint64_t)h != data[nd].hash)) {
                *bad = nd < ndata ? nd : ndata - 1;
                *was = (uint64_t)h;
            }
            nd++;
        }
    }
    free(line);
    fclose(in);
    if (found == 1 && *bad < 0 && nd < ndata) {
        *bad = nd;   /* journaled before its data were identified */
        *was = 0;
    }
    return found == 1 && *bad >= 0 ? -3 : found;
}

int isw_journal_meta_hash(const char *outdir, uint64_t *hash, isw_error_t *err)
{
    char path[ISW_PATH_MAX];
    int st = path_join(path, outdir, "journal.meta", err);
    if (st != ISW_OK)
        return st;
    int bad;
    uint64_t was;
    int m = meta_check(path, 0, NULL, 0, &bad, &was, hash);
    if (m == 1 || m == -2)
        return ISW_OK;
    return isw_error_set(err, ISW_EINVAL, path, 0,
                         m == 0 ? "no such file: expected the journal.meta of a run"
                                : "unreadable: expected a spec_hash line");
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Loads an existing runs.csv of the same spec and cuts off a torn tail.
 * Leaves j->fd open on it (or -1 when there is none). */
static int journal_resume(isw_journal_t *j, const char *const *axes, int naxes,
                          isw_error_t *err)
{
    int st = open_plain(&j->fd, j->runs_path, O_RDWR | O_APPEND, err);
    if (st != ISW_OK || j->fd < 0)
        return st;
    int rfd = dup(j->fd);
    FILE *in = rfd >= 0 ? fdopen(rfd, "r") : NULL;
    if (!in) {
        if (rfd >= 0)
            close(rfd);
        return isw_error_set(err, ISW_EIO, j->runs_path, 0, "cannot read: %s",
                             strerror(errno));
    }
    st = isw_runs_add_source(&j->runs, j->runs_path);
    if (st != ISW_OK) {
        fclose(in);
        return isw_error_set(err, st, j->runs_path, 0, "out of memory");
    }
    /* The header must name exactly this sweep's axes. */
    if ((st = isw_runs_set_axes(&j->runs, (char *const *)axes, naxes)) != ISW_OK) {
        fclose(in);
        return isw_error_set(err, st, j->runs_path, 0, "out of memory");
    }
    parse_info_t info;
    st = isw_runs_parse_stream(&j->runs, in, j->runs_path, 0, ISW_ESTATE, &info, err);
    fclose(in);
    if (st != ISW_OK)
        return st;
    struct stat sb;
    if (fstat(j->fd, &sb) != 0)
        return isw_error_set(err, ISW_EIO, j->runs_path, 0, "cannot stat: %s",
                             strerror(errno));
    if (sb.st_size != info.good_end && ftruncate(j->fd, info.good_end) != 0)
        return isw_error_set(err, ISW_EIO, j->runs_path, 0,
                             "cannot cut off the torn last line: %s", strerror(errno));
    j->size = info.good_end;
    return ISW_OK;
}

/* The input spec must never be replaced or removed, whatever its name:
 * compared by device and inode, so a hard link or another spelling of the
 * path is caught too.  OUTDIR/spec.yaml may be the input only when it is
 * resumed as it is (then it is kept, not rewritten). */
static int protect_input(isw_journal_t *j, const char *input, int fresh, int have_journal,
                         isw_error_t *err)
{
    struct stat in;
    if (!input || stat(input, &in) != 0)
        return ISW_OK;
    for (size_t i = 0; i < NOUTPUTS; i++) {
        char p[ISW_PATH_MAX];
        struct stat sb;
        if (path_join(p, j->outdir, outdir_outputs[i], NULL) != ISW_OK || lstat(p, &sb) != 0 ||
            sb.st_dev != in.st_dev || sb.st_ino != in.st_ino)
            continue;
        int is_spec = strcmp(outdir_outputs[i], "spec.yaml") == 0;
        if (is_spec && !fresh && have_journal) {
            j->keep_spec = 1;
            return ISW_OK;
        }
        return isw_error_set(err, ISW_EINVAL, p, 0,
                             "is the input spec %s: %s would %s it; choose another output "
                             "directory with -o",
                             input, fresh ? "--fresh" : "this run",
                             fresh || !is_spec ? "remove or replace" : "replace");
    }
    return ISW_OK;
}

/* --fresh: removes OUTDIR's result files, the journal last. */
static int remove_outputs(const char *outdir, isw_error_t *err)
{
    for (size_t i = 0; i < NOUTPUTS; i++) {
        char p[ISW_PATH_MAX];
        int st = path_join(p, outdir, outdir_outputs[i], err);
        if (st != ISW_OK)
            return st;
        if (unlink(p) != 0 && errno != ENOENT)
            return isw_error_set(err, ISW_EIO, p, 0, "cannot remove: %s", strerror(errno));
    }
    return ISW_OK;
}

/* Without --fresh: OUTDIR may be resumed only when it holds this spec's
 * journal on the same data, or nothing of ours.  m, bad, was: meta_check's
 * verdict, the dataset that differs and its journaled hash. */
static int check_resumable(isw_journal_t *j, int m, int bad, uint64_t was,
                           const isw_journal_data_t *data, isw_error_t *err)
{
    const char *outdir = j->outdir;
    struct stat sb;
    int have_runs = lstat(j->runs_path, &sb) == 0;
    if (m == -3) {
        char then[40] = "none recorded";
        if (was)
            snprintf(then, sizeof then, "%016" PRIx64, was);
        return isw_error_set(err, ISW_ESTATE, data[bad].source, 0,
                             "the data changed since the journal in %s was started (content "
                             "hash %s then, %016" PRIx64 " now): resuming would mix records "
                             "of two datasets; restore the data, or use --fresh to discard "
                             "the journal or -o to choose another output directory",
                             outdir, then, data[bad].hash);
    }
    if (m == -1 || m == -2 || (m == 0 && have_runs)) {
        const char *what = m == -1  ? "an unreadable journal.meta"
                           : m == 0 ? "a runs.csv without journal.meta"
                                    : "the journal of another spec";
        return isw_error_set(err, ISW_ESTATE, outdir, 0,
                             "%s holds %s; use --fresh to discard it or -o to choose "
                             "another output directory",
                             outdir, what);
    }
    /* results without a journal are of unknown origin (another tool, an
     * older run, the user's own files): not ours to overwrite */
    for (size_t i = 0; m == 0 && i < NOUTPUTS; i++) {
        char p[ISW_PATH_MAX];
        if (path_join(p, outdir, outdir_outputs[i], NULL) == ISW_OK && lstat(p, &sb) == 0)
            return isw_error_set(err, ISW_ESTATE, p, 0,
                                 "exists, but %s holds no journal, so this run would "
                                 "overwrite a file it did not write; use --fresh to replace "
                                 "it or -o to choose another output directory",
                                 outdir);
    }
    return ISW_OK;
}

/* A new runs.csv (or one whose header did not survive) gets its header. */
static int write_header(isw_journal_t *j, const char *const *axes, int naxes,
                        isw_error_t *err)
{
    isw_sb_t hdr = {0};
    isw_runs_format_header(&hdr, axes, naxes);
    if (!isw_sb_ok(&hdr) || ftruncate(j->fd, 0) != 0 || write_all(j->fd, hdr.s, hdr.len) != 0) {
        isw_sb_free(&hdr);
        int st = isw_error_set(err, ISW_EIO, j->runs_path, 0, "cannot write the header: %s",
                               strerror(errno));
        if (ftruncate(j->fd, 0) != 0) {
            /* a partial header reads as torn: the next open rewrites it */
        }
        return st;
    }
    j->size = (off_t)hdr.len;
    isw_sb_free(&hdr);
    return ISW_OK;
}

int isw_journal_open(isw_journal_t **journal, const char *outdir, uint64_t spec_hash,
                     const isw_journal_data_t *data, int ndata, const char *const *axes,
                     int naxes, int fresh, const char *input, const char *platform,
                     isw_error_t *err)
{
    *journal = NULL;
    if (naxes < 0 || naxes > 4 * ISW_MAX_AXES || (naxes > 0 && !axes))
        return isw_error_set(err, ISW_EINVAL, "", 0, "journal: bad axis list");
    isw_journal_t *j = calloc(1, sizeof *j);
    if (!j)
        return isw_error_set(err, ISW_ENOMEM, outdir, 0, "out of memory");
    j->lock_fd = j->fd = -1;
    j->spec_hash = spec_hash;
    int st;
    if (snprintf(j->outdir, sizeof j->outdir, "%s", outdir) >= (int)sizeof j->outdir) {
        st = isw_error_set(err, ISW_EINVAL, outdir, 0, "path too long");
        goto fail;
    }
    char meta_path[ISW_PATH_MAX];
    if ((st = path_join(j->runs_path, outdir, "runs.csv", err)) != ISW_OK ||
        (st = path_join(meta_path, outdir, "journal.meta", err)) != ISW_OK ||
        (st = mkdir_p(outdir, err)) != ISW_OK ||
        (st = isw_journal_lock(outdir, &j->lock_fd, err)) != ISW_OK)
        goto fail;

    uint64_t was = 0;
    int bad = -1;
    uint64_t stored;
    int m = meta_check(meta_path, spec_hash, data, ndata, &bad, &was, &stored);
    if ((st = protect_input(j, input, fresh, m == 1, err)) != ISW_OK)
        goto fail;
    st = fresh ? remove_outputs(outdir, err)
               : check_resumable(j, m, bad, was, data, err);
    if (st == ISW_OK && !fresh)
        st = journal_resume(j, axes, naxes, err);
    if (st != ISW_OK)
        goto fail;
    if (!j->runs.axes && (st = isw_runs_set_axes(&j->runs, (char *const *)axes, naxes)) != ISW_OK) {
        isw_error_set(err, st, outdir, 0, "out of memory");
        goto fail;
    }
    meta_t meta = {spec_hash, data, ndata, axes, naxes, platform};
    if (m == 1 && !fresh) {
        /* a resumed journal keeps its journal.meta until the caller has
         * checked the rows it resumed: a refused resume changes nothing */
        FILE *f = open_memstream(&j->meta, &j->meta_len);
        if (!f || meta_write(f, &meta, err) != ISW_OK || fclose(f) != 0) {
            st = isw_error_set(err, ISW_ENOMEM, outdir, 0, "out of memory");
            goto fail;
        }
    } else if ((st = isw_file_write_atomic(outdir, "journal.meta", meta_write, &meta, err)) !=
               ISW_OK) {
        goto fail;
    }

    if (j->fd < 0 &&
        (st = open_plain(&j->fd, j->runs_path, O_RDWR | O_APPEND | O_CREAT, err)) != ISW_OK)
        goto fail;
    if (j->size == 0 && (st = write_header(j, axes, naxes, err)) != ISW_OK)
        goto fail;
    *journal = j;
    return ISW_OK;
fail:
    isw_journal_close(j, NULL);
    return st;
}

static int write_meta_text(FILE *out, void *user, isw_error_t *err)
{
    const isw_journal_t *j = user;
    if (fwrite(j->meta, 1, j->meta_len, out) != j->meta_len)
        return isw_error_set(err, ISW_EIO, "journal.meta", 0, "cannot write");
    return ISW_OK;
}

int isw_journal_write_meta(isw_journal_t *j, isw_error_t *err)
{
    if (!j->meta)
        return ISW_OK;
    int st = isw_file_write_atomic(j->outdir, "journal.meta", write_meta_text, j, err);
    free(j->meta);
    j->meta = NULL;
    return st;
}

int isw_journal_keeps(const isw_journal_t *j, const char *name)
{
    return j->keep_spec && strcmp(name, "spec.yaml") == 0;
}

int isw_journal_append(isw_journal_t *j, const char *const *axis_values,
                       const isw_record_t *rec, isw_error_t *err)
{
    if (isw_runs_find(&j->runs, rec->task) >= 0)
        return isw_error_set(err, ISW_EINVAL, j->runs_path, 0,
                             "task %" PRIu64 " is already in the journal", rec->task);
    for (int i = 0; i < j->runs.naxes; i++)
        if (strpbrk(axis_values[i], "\n\r"))
            return isw_error_set(err, ISW_EINVAL, j->runs_path, 0,
                                 "axis %s: value holds a newline", j->runs.axes[i]);
    size_t need = isw_runs_line_bound(axis_values, j->runs.naxes);
    if (need > j->line_cap) {
        char *b = realloc(j->line, need);
        if (!b)
            return isw_error_set(err, ISW_ENOMEM, j->runs_path, 0, "out of memory");
        j->line = b;
        j->line_cap = need;
    }
    long len = isw_runs_format_line(j->line, j->line_cap, axis_values, j->runs.naxes, rec);
    if (len < 0)
        return isw_error_set(err, ISW_EINVAL, j->runs_path, 0,
                             "task %" PRIu64 ": outcome %d is not an outcome", rec->task,
                             (int)rec->outcome);
    int st = isw_runs_push(&j->runs, axis_values, rec, -1, 0);
    if (st != ISW_OK)
        return isw_error_set(err, st, j->runs_path, 0, "out of memory");
    if (write_all(j->fd, j->line, (size_t)len) != 0) {
        int e = errno;
        isw_runs_pop(&j->runs);
        /* a partial line would glue onto the next one: cut it off again */
        if (ftruncate(j->fd, j->size) != 0) {
            /* nothing more to do: the next open drops the torn line */
        }
        return isw_error_set(err, ISW_EIO, j->runs_path, 0, "write failed: %s", strerror(e));
    }
    j->size += (off_t)len;
    return ISW_OK;
}

int isw_journal_sync(isw_journal_t *j, isw_error_t *err)
{
    if (j->fd >= 0 && fsync(j->fd) != 0)
        return isw_error_set(err, ISW_EIO, j->runs_path, 0, "fsync failed: %s",
                             strerror(errno));
    return ISW_OK;
}

int isw_journal_close(isw_journal_t *j, isw_error_t *err)
{
    if (!j)
        return ISW_OK;
    int st = ISW_OK;
    if (j->fd >= 0) {
        st = isw_journal_sync(j, err);
        if (close(j->fd) != 0 && st == ISW_OK)
            st = isw_error_set(err, ISW_EIO, j->runs_path, 0, "close failed: %s",
                               strerror(errno));
    }
    isw_journal_unlock(j->lock_fd);
    isw_runs_free(&j->runs);
    free(j->line);
    free(j->meta);
    free(j);
    return st;
}

int isw_journal_done(const isw_journal_t *j, uint64_t task)
{
    return isw_runs_find(&j->runs, task) >= 0;
}

size_t isw_journal_count(const isw_journal_t *j)
{
    return j->runs.nruns;
}

const isw_runs_t *isw_journal_runs(const isw_journal_t *j)
{
    return &j->runs;
}

const char *isw_journal_outdir(const isw_journal_t *j)
{
    return j->outdir;
}
