/* The journal: runs.csv append, resume, lock, atomic writes (journal.h). */
#include "initsweep/journal.h"

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

const char *const ISW_RUNS_RECORD_COLUMNS[ISW_RUNS_NRECORD_COLUMNS] = {
    "outcome", "epochs", "epoch_converged", "loss_initial", "loss_final", "loss_best",
    "loss_max", "accuracy_final", "grad_norm_initial", "dead_fraction",
    "saturated_fraction", "output_saturated_fraction", "layer_dead",
    "sharpness_initial", "seconds"};

/* The files initsweep writes in an OUTDIR, which --fresh removes (plots and
 * anything else stay).  The journal comes last, so an interrupted --fresh
 * leaves a journal that the next run still recognises. */
static const char *const outdir_outputs[] = {
    "cells.csv", "boundary.csv", "fit.csv", "spec.yaml", "runs.csv", "journal.meta"};
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
};

/* ---- CSV fields ---------------------------------------------------------- */

static int csv_needs_quotes(const char *s)
{
    size_t n = strlen(s);
    if (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        return 1;
    return strpbrk(s, ",\"\n\r") != NULL;
}

int isw_csv_write_field(FILE *out, const char *s)
{
    if (!csv_needs_quotes(s))
        return fputs(s, out) < 0 ? EOF : 0;
    if (fputc('"', out) == EOF)
        return EOF;
    for (; *s; s++) {
        if (*s == '"' && fputc('"', out) == EOF)
            return EOF;
        if (fputc(*s, out) == EOF)
            return EOF;
    }
    return fputc('"', out) == EOF ? EOF : 0;
}

/* Splits one line (no newline) in place into at most maxf fields, undoing
 * the quoting.  Returns the number of fields, or -1 with *why set. */
static int csv_split(char *line, char **fields, int maxf, const char **why)
{
    char *p = line;
    int n = 0;
    for (;;) {
        if (n == maxf) {
            *why = "too many fields";
            return -1;
        }
        char sep;
        if (*p == '"') {
            char *start = ++p, *out = p;
            for (;;) {
                if (*p == '\0') {
                    *why = "a quoted field is not closed";
                    return -1;
                }
                if (*p == '"') {
                    if (p[1] == '"') {
                        *out++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *out++ = *p++;
            }
            if (*p != ',' && *p != '\0') {
                *why = "text after a closing quote";
                return -1;
            }
            sep = *p;
            *out = '\0';
            fields[n++] = start;
        } else {
            char *start = p;
            while (*p && *p != ',')
                p++;
            sep = *p;
            *p = '\0';
            fields[n++] = start;
        }
        if (sep == '\0')
            return n;
        p++;
    }
}

/* ---- line formatting ------------------------------------------------------ */

static void sb_field(isw_sb_t *b, const char *s)
{
    if (!csv_needs_quotes(s)) {
        isw_sb_printf(b, "%s", s);
        return;
    }
    isw_sb_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            isw_sb_putc(b, '"');
        isw_sb_putc(b, *s);
    }
    isw_sb_putc(b, '"');
}

/* ",%.17g", or "," alone for NaN (not defined). */
static void sb_double(isw_sb_t *b, double x)
{
    if (isnan(x))
        isw_sb_putc(b, ',');
    else
        isw_sb_printf(b, ",%.17g", x);
}

size_t isw_runs_line_bound(const char *const *values, int naxes)
{
    size_t n = 32 + 16 * 32;  /* task and 15 record fields of at most ~25 chars */
    for (int i = 0; i < naxes; i++)
        n += 2 * strlen(values[i]) + 3;
    return n;
}

long isw_runs_format_line(char *buf, size_t size, const char *const *values, int naxes,
                          const isw_record_t *rec)
{
    if (rec->outcome < 0 || rec->outcome >= ISW_NOUTCOMES)
        return -1;
    isw_sb_t b;
    isw_sb_fixed(&b, buf, size);
    isw_sb_printf(&b, "%" PRIu64, rec->task);
    for (int i = 0; i < naxes; i++) {
        isw_sb_putc(&b, ',');
        sb_field(&b, values[i]);
    }
    isw_sb_printf(&b, ",%s,%d,", isw_outcome_name(rec->outcome), (int)rec->epochs);
    if (rec->epoch_converged >= 0)
        isw_sb_printf(&b, "%d", (int)rec->epoch_converged);
    sb_double(&b, rec->loss_initial);
    sb_double(&b, rec->loss_final);
    sb_double(&b, rec->loss_best);
    sb_double(&b, rec->loss_max);
    sb_double(&b, rec->accuracy_final);
    sb_double(&b, rec->grad_norm_initial);
    sb_double(&b, rec->dead_fraction);
    sb_double(&b, rec->saturated_fraction);
    sb_double(&b, rec->output_saturated_fraction);
    isw_sb_printf(&b, ",%d", (int)rec->layer_dead);
    sb_double(&b, rec->sharpness_initial);
    sb_double(&b, rec->seconds);
    isw_sb_putc(&b, '\n');
    if (!isw_sb_ok(&b))
        return -1;
    return (long)b.len;
}

/* ---- runs table ------------------------------------------------------------ */

static size_t task_slot(uint64_t task, size_t nslots)
{
    return (size_t)(isw_mix64(task) & (uint64_t)(nslots - 1));
}

long isw_runs_find(const isw_runs_t *runs, uint64_t task)
{
    if (!runs || runs->nslots == 0)
        return -1;
    for (size_t s = task_slot(task, runs->nslots);; s = (s + 1) & (runs->nslots - 1)) {
        size_t v = runs->slots[s];
        if (v == 0)
            return -1;
        if (runs->runs[v - 1].rec.task == task)
            return (long)(v - 1);
    }
}

/* Puts runs 0..nruns into an empty table of nslots (a power of two). */
static void slots_fill(size_t *slots, size_t nslots, const isw_runs_t *runs)
{
    for (size_t i = 0; i < runs->nruns; i++) {
        size_t s = task_slot(runs->runs[i].rec.task, nslots);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = i + 1;
    }
}

/* Rebuilds the task set with nslots (a power of two > 2 * nruns). */
static int runs_rehash(isw_runs_t *runs, size_t nslots)
{
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return ISW_ENOMEM;
    slots_fill(slots, nslots, runs);
    free(runs->slots);
    runs->slots = slots;
    runs->nslots = nslots;
    return ISW_OK;
}

static int runs_set_axes(isw_runs_t *runs, char *const *axes, int naxes)
{
    runs->axes = calloc((size_t)naxes + 1, sizeof *runs->axes);
    if (!runs->axes)
        return ISW_ENOMEM;
    runs->naxes = naxes;
    for (int i = 0; i < naxes; i++)
        if (!(runs->axes[i] = strdup(axes[i])))
            return ISW_ENOMEM;
    return ISW_OK;
}

/* Adds a run without the duplicate check; source/line say where it came from. */
static int runs_push(isw_runs_t *runs, const char *const *values, const isw_record_t *rec,
                     int source, int line)
{
    isw_run_t *grown = isw_grow(runs->runs, &runs->cap, runs->nruns + 1, sizeof *grown, 256);
    if (!grown)
        return ISW_ENOMEM;
    runs->runs = grown;
    if (2 * (runs->nruns + 1) > runs->nslots) {
        int st = runs_rehash(runs, runs->nslots ? 2 * runs->nslots : 512);
        if (st != ISW_OK)
            return st;
    }
    /* values: naxes pointers followed by the strings, one allocation */
    size_t bytes = ((size_t)runs->naxes + 1) * sizeof(char *);
    for (int i = 0; i < runs->naxes; i++)
        bytes += strlen(values[i]) + 1;
    char **v = malloc(bytes);
    if (!v)
        return ISW_ENOMEM;
    char *p = (char *)(v + runs->naxes + 1);
    for (int i = 0; i < runs->naxes; i++) {
        size_t len = strlen(values[i]) + 1;
        memcpy(p, values[i], len);
        v[i] = p;
        p += len;
    }
    v[runs->naxes] = NULL;
    isw_run_t *r = &runs->runs[runs->nruns];
    r->rec = *rec;
    r->values = v;
    r->source = source;
    r->line = line;
    size_t s = task_slot(rec->task, runs->nslots);
    while (runs->slots[s])
        s = (s + 1) & (runs->nslots - 1);
    runs->slots[s] = ++runs->nruns;
    return ISW_OK;
}

/* Removes the run added last (an append whose write failed). */
static void runs_pop(isw_runs_t *runs)
{
    if (runs->nruns == 0)
        return;
    runs->nruns--;
    free(runs->runs[runs->nruns].values);
    /* open addressing cannot drop one entry: refill the same table */
    memset(runs->slots, 0, runs->nslots * sizeof *runs->slots);
    slots_fill(runs->slots, runs->nslots, runs);
}

void isw_runs_free(isw_runs_t *runs)
{
    if (!runs)
        return;
    for (size_t i = 0; i < runs->nruns; i++)
        free(runs->runs[i].values);
    free(runs->runs);
    if (runs->axes)
        for (int i = 0; i < runs->naxes; i++)
            free(runs->axes[i]);
    free(runs->axes);
    for (int i = 0; i < runs->nsources; i++)
        free(runs->sources[i]);
    free(runs->sources);
    free(runs->slots);
    memset(runs, 0, sizeof *runs);
}

/* ---- parsing runs.csv ------------------------------------------------------- */

static int parse_int(const char *s, int32_t *v)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || *end || x < INT32_MIN || x > INT32_MAX)
        return 0;
    *v = (int32_t)x;
    return 1;
}

/* Empty = NaN. */
static int parse_double(const char *s, double *v)
{
    if (!*s) {
        *v = NAN;
        return 1;
    }
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || end == s)
        return 0;
    *v = x;  /* ERANGE underflow keeps the denormal/zero strtod returns */
    return 1;
}

#define NCOLS(naxes) (1 + (naxes) + ISW_RUNS_NRECORD_COLUMNS)

/* Fills rec and values from the fields of one data row; on failure *col is
 * the offending column and *expected what it should hold. */
static int parse_row(char **f, int naxes, isw_record_t *rec, const char ***values,
                     int *col, const char **expected)
{
    int c = 0;
    memset(rec, 0, sizeof *rec);
    *expected = "a task id (unsigned integer)";
    if (!isw_parse_u64(f[c], &rec->task))
        goto bad;
    *values = (const char **)(f + 1);
    c = 1 + naxes;
    *expected = "an outcome (converged, diverged, dead, saturated, stalled, slow)";
    if ((rec->outcome = isw_outcome_parse(f[c])) < 0)
        goto bad;
    c++;
    *expected = "an integer";
    if (!parse_int(f[c], &rec->epochs))
        goto bad;
    c++;
    *expected = "an integer or empty";
    rec->epoch_converged = -1;
    if (*f[c] && !parse_int(f[c], &rec->epoch_converged))
        goto bad;
    c++;
    double *d1[] = {&rec->loss_initial, &rec->loss_final, &rec->loss_best, &rec->loss_max,
                    &rec->accuracy_final, &rec->grad_norm_initial, &rec->dead_fraction,
                    &rec->saturated_fraction, &rec->output_saturated_fraction};
    *expected = "a number or empty";
    for (size_t k = 0; k < sizeof d1 / sizeof d1[0]; k++, c++)
        if (!parse_double(f[c], d1[k]))
            goto bad;
    *expected = "an integer";
    if (!parse_int(f[c], &rec->layer_dead))
        goto bad;
    c++;
    *expected = "a number or empty";
    if (!parse_double(f[c], &rec->sharpness_initial))
        goto bad;
    c++;
    if (!parse_double(f[c], &rec->seconds))
        goto bad;
    return 1;
bad:
    *col = c;
    return 0;
}

static void strip_eol(char *line, ssize_t *len)
{
    while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r'))
        line[--*len] = '\0';
}

/* Outcome of parsing one file. */
typedef struct {
    off_t good_end;      /* bytes up to the end of the last accepted line */
    int have_header;     /* a complete header line was found */
    int dropped;         /* a torn or unparsable last line was skipped */
} parse_info_t;

/* Reads the header: checks it against runs->axes if set (else sets them). */
static int parse_header(isw_runs_t *runs, char *line, const char *path, int mismatch_status,
                        isw_error_t *err)
{
    int maxf = 4 * ISW_MAX_AXES + ISW_RUNS_NRECORD_COLUMNS + 2;
    char *f[4 * ISW_MAX_AXES + ISW_RUNS_NRECORD_COLUMNS + 2];
    const char *why = "";
    int nf = csv_split(line, f, maxf, &why);
    if (nf < 0)
        return isw_error_set(err, ISW_EINVAL, path, 1, "bad header: %s", why);
    int naxes = nf - 1 - ISW_RUNS_NRECORD_COLUMNS;
    int ok = naxes >= 0 && strcmp(f[0], "task") == 0;
    for (int k = 0; ok && k < ISW_RUNS_NRECORD_COLUMNS; k++)
        ok = strcmp(f[1 + naxes + k], ISW_RUNS_RECORD_COLUMNS[k]) == 0;
    if (!ok)
        return isw_error_set(err, ISW_EINVAL, path, 1,
                             "not a runs.csv header: expected task, the axis columns, "
                             "outcome, epochs, ..., seconds");
    if (!runs->axes)
        return runs_set_axes(runs, f + 1, naxes) == ISW_OK
                   ? ISW_OK
                   : isw_error_set(err, ISW_ENOMEM, path, 1, "out of memory");
    ok = naxes == runs->naxes;
    for (int i = 0; ok && i < naxes; i++)
        ok = strcmp(f[1 + i], runs->axes[i]) == 0;
    if (!ok) {
        char want[512] = "", *w = want;
        for (int i = 0; i < runs->naxes && w < want + sizeof want - 1; i++)
            w += snprintf(w, (size_t)(want + sizeof want - w), "%s%s", i ? ", " : "",
                          runs->axes[i]);
        return isw_error_set(err, mismatch_status, path, 1,
                             "the axis columns do not match this sweep's axes (%s)", want);
    }
    return ISW_OK;
}

/* Parses an open runs file into runs (source index `source`). */
static int parse_stream(isw_runs_t *runs, FILE *in, const char *path, int source,
                        int mismatch_status, parse_info_t *info, isw_error_t *err)
{
    memset(info, 0, sizeof *info);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, st = ISW_OK;
    char **f = NULL;
    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if (len == 0 || line[len - 1] != '\n') {
            info->dropped = 1;  /* torn: the last write did not finish */
            break;
        }
        ssize_t full = len;
        strip_eol(line, &len);
        if (lineno == 1) {
            if ((st = parse_header(runs, line, path, mismatch_status, err)) != ISW_OK)
                goto out;
            info->have_header = 1;
            info->good_end += full;
            if (!(f = malloc(((size_t)NCOLS(runs->naxes) + 1) * sizeof *f))) {
                st = isw_error_set(err, ISW_ENOMEM, path, 0, "out of memory");
                goto out;
            }
            continue;
        }
        const char *why = NULL;
        int col = -1, nf = csv_split(line, f, NCOLS(runs->naxes) + 1, &why);
        isw_record_t rec;
        const char **values = NULL;
        const char *expected = NULL;
        if (nf >= 0 && nf != NCOLS(runs->naxes))
            why = "wrong number of fields";
        if (!why && !parse_row(f, runs->naxes, &rec, &values, &col, &expected))
            why = "bad field";
        if (why) {
            int c = fgetc(in);
            if (c == EOF) {  /* an unparsable last line: torn */
                info->dropped = 1;
                break;
            }
            if (col >= 0) {
                const char *name = col == 0 ? "task"
                                   : col <= runs->naxes
                                       ? runs->axes[col - 1]
                                       : ISW_RUNS_RECORD_COLUMNS[col - 1 - runs->naxes];
                st = isw_error_set(err, ISW_EINVAL, path, lineno,
                                   "column '%s': expected %s, found '%s'", name, expected,
                                   f[col]);
            } else if (nf >= 0 || strcmp(why, "too many fields") == 0) {
                st = isw_error_set(err, ISW_EINVAL, path, lineno,
                                   "expected %d fields (task, %d axes, %d record columns)%s%d",
                                   NCOLS(runs->naxes), runs->naxes, ISW_RUNS_NRECORD_COLUMNS,
                                   nf >= 0 ? ", found " : ", found more than ",
                                   nf >= 0 ? nf : NCOLS(runs->naxes));
            } else {
                st = isw_error_set(err, ISW_EINVAL, path, lineno, "corrupt line: %s", why);
            }
            goto out;
        }
        long prev = isw_runs_find(runs, rec.task);
        if (prev >= 0) {
            const isw_run_t *p = &runs->runs[prev];
            st = isw_error_set(err, ISW_EINVAL, path, lineno,
                               "task %" PRIu64 " is recorded twice (first at %s:%d)",
                               rec.task, p->source >= 0 ? runs->sources[p->source] : "?",
                               p->line);
            goto out;
        }
        if ((st = runs_push(runs, values, &rec, source, lineno)) != ISW_OK) {
            isw_error_set(err, st, path, lineno, "out of memory");
            goto out;
        }
        info->good_end += full;
    }
    if (ferror(in))
        st = isw_error_set(err, ISW_EIO, path, 0, "read error: %s", strerror(errno));
out:
    free(f);
    free(line);
    return st;
}

static int runs_add_source(isw_runs_t *runs, const char *path)
{
    char **s = realloc(runs->sources, ((size_t)runs->nsources + 1) * sizeof *s);
    if (!s)
        return ISW_ENOMEM;
    runs->sources = s;
    if (!(s[runs->nsources] = strdup(path)))
        return ISW_ENOMEM;
    runs->nsources++;
    return ISW_OK;
}

int isw_runs_read_files(isw_runs_t *runs, const char *const *paths, int npaths,
                        isw_error_t *err)
{
    memset(runs, 0, sizeof *runs);
    int st = ISW_OK;
    for (int i = 0; i < npaths && st == ISW_OK; i++) {
        FILE *in = fopen(paths[i], "r");
        if (!in) {
            st = isw_error_set(err, isw_errno_status(errno), paths[i], 0, "cannot open: %s",
                               strerror(errno));
            break;
        }
        if ((st = runs_add_source(runs, paths[i])) != ISW_OK) {
            isw_error_set(err, st, paths[i], 0, "out of memory");
        } else {
            parse_info_t info;
            st = parse_stream(runs, in, paths[i], runs->nsources - 1, ISW_EINVAL, &info, err);
            if (st == ISW_OK && !info.have_header)
                st = isw_error_set(err, ISW_EINVAL, paths[i], 1,
                                   "empty file: expected a runs.csv header line");
        }
        fclose(in);
    }
    if (st != ISW_OK)
        isw_runs_free(runs);
    return st;
}

int isw_runs_read(isw_runs_t *runs, const char *path, isw_error_t *err)
{
    return isw_runs_read_files(runs, &path, 1, err);
}

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
    if (m->platform)
        fprintf(out, "platform %s\n", m->platform);
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
    st = runs_add_source(&j->runs, j->runs_path);
    if (st != ISW_OK) {
        fclose(in);
        return isw_error_set(err, st, j->runs_path, 0, "out of memory");
    }
    /* The header must name exactly this sweep's axes. */
    if ((st = runs_set_axes(&j->runs, (char *const *)axes, naxes)) != ISW_OK) {
        fclose(in);
        return isw_error_set(err, st, j->runs_path, 0, "out of memory");
    }
    parse_info_t info;
    st = parse_stream(&j->runs, in, j->runs_path, 0, ISW_ESTATE, &info, err);
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
    if (fresh) {
        for (size_t i = 0; i < NOUTPUTS; i++) {
            char p[ISW_PATH_MAX];
            if ((st = path_join(p, outdir, outdir_outputs[i], err)) != ISW_OK)
                goto fail;
            if (unlink(p) != 0 && errno != ENOENT) {
                st = isw_error_set(err, ISW_EIO, p, 0, "cannot remove: %s", strerror(errno));
                goto fail;
            }
        }
    } else {
        struct stat sb;
        int have_runs = lstat(j->runs_path, &sb) == 0;
        if (m == -3) {
            char then[40] = "none recorded";
            if (was)
                snprintf(then, sizeof then, "%016" PRIx64, was);
            st = isw_error_set(err, ISW_ESTATE, data[bad].source, 0,
                               "the data changed since the journal in %s was started (content "
                               "hash %s then, %016" PRIx64 " now): resuming would mix records "
                               "of two datasets; restore the data, or use --fresh to discard "
                               "the journal or -o to choose another output directory",
                               outdir, then, data[bad].hash);
            goto fail;
        }
        if (m == -1 || m == -2 || (m == 0 && have_runs)) {
            const char *what = m == -1  ? "an unreadable journal.meta"
                               : m == 0 ? "a runs.csv without journal.meta"
                                        : "the journal of another spec";
            st = isw_error_set(err, ISW_ESTATE, outdir, 0,
                               "%s holds %s; use --fresh to discard it or -o to choose "
                               "another output directory",
                               outdir, what);
            goto fail;
        }
        /* results without a journal are of unknown origin (another tool,
         * an older run, the user's own files): not ours to overwrite */
        for (size_t i = 0; m == 0 && i < NOUTPUTS; i++) {
            char p[ISW_PATH_MAX];
            if (path_join(p, outdir, outdir_outputs[i], NULL) == ISW_OK && lstat(p, &sb) == 0) {
                st = isw_error_set(err, ISW_ESTATE, p, 0,
                                   "exists, but %s holds no journal, so this run would "
                                   "overwrite a file it did not write; use --fresh to replace "
                                   "it or -o to choose another output directory",
                                   outdir);
                goto fail;
            }
        }
        if ((st = journal_resume(j, axes, naxes, err)) != ISW_OK)
            goto fail;
    }
    if (!j->runs.axes && (st = runs_set_axes(&j->runs, (char *const *)axes, naxes)) != ISW_OK) {
        isw_error_set(err, st, outdir, 0, "out of memory");
        goto fail;
    }
    meta_t meta = {spec_hash, data, ndata, axes, naxes, platform};
    if ((st = isw_file_write_atomic(outdir, "journal.meta", meta_write, &meta, err)) != ISW_OK)
        goto fail;

    if (j->fd < 0 &&
        (st = open_plain(&j->fd, j->runs_path, O_RDWR | O_APPEND | O_CREAT, err)) != ISW_OK)
        goto fail;
    if (j->size == 0) {  /* new, or not even the header survived */
        char *hdr = NULL;
        size_t hlen = 0;
        FILE *h = open_memstream(&hdr, &hlen);
        int bad = !h;
        if (h) {
            bad |= fputs("task", h) < 0;
            for (int i = 0; i < naxes; i++)
                bad |= fputc(',', h) == EOF || isw_csv_write_field(h, axes[i]) != 0;
            for (int k = 0; k < ISW_RUNS_NRECORD_COLUMNS; k++)
                bad |= fprintf(h, ",%s", ISW_RUNS_RECORD_COLUMNS[k]) < 0;
            bad |= fputc('\n', h) == EOF;
            bad |= fclose(h) != 0;
        }
        if (bad || ftruncate(j->fd, 0) != 0 || write_all(j->fd, hdr, hlen) != 0) {
            free(hdr);
            st = isw_error_set(err, ISW_EIO, j->runs_path, 0, "cannot write the header: %s",
                               strerror(errno));
            if (ftruncate(j->fd, 0) != 0) {
                /* a partial header reads as torn: the next open rewrites it */
            }
            goto fail;
        }
        free(hdr);
        j->size = (off_t)hlen;
    }
    *journal = j;
    return ISW_OK;
fail:
    isw_journal_close(j, NULL);
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
    int st = runs_push(&j->runs, axis_values, rec, -1, 0);
    if (st != ISW_OK)
        return isw_error_set(err, st, j->runs_path, 0, "out of memory");
    if (write_all(j->fd, j->line, (size_t)len) != 0) {
        int e = errno;
        runs_pop(&j->runs);
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
