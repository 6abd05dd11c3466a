/* The runs table and the runs.csv line format (runs.h, runs_internal.h). */
#include "runs_internal.h"
#include "initsweep/spec.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- CSV fields ---------------------------------------------------------- */

static int csv_needs_quotes(const char *s)
{
    size_t n = strlen(s);
    if (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        return 1;
    return strpbrk(s, ",\"\n\r") != NULL;
}

void isw_csv_put_field(isw_sb_t *b, const char *s)
{
    if (!csv_needs_quotes(s)) {
        isw_sb_puts(b, s);
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

int isw_csv_write_field(FILE *out, const char *s)
{
    isw_sb_t b = {0};
    isw_csv_put_field(&b, s);
    int st = isw_sb_ok(&b) && fputs(b.s ? b.s : "", out) >= 0 ? 0 : EOF;
    isw_sb_free(&b);
    return st;
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

size_t isw_runs_line_bound(const char *const *values, int naxes)
{
    /* the task and every record column, each with its comma */
    size_t n = (size_t)(1 + ISW_RECORD_NCOLUMNS) * (ISW_RECORD_FIELD_MAX + 1) + 2;
    for (int i = 0; i < naxes; i++)
        n += 2 * strlen(values[i]) + 3;
    return n;
}

/* "task,axes" as the header names them, or one run's values. */
static void put_task_and_axes(isw_sb_t *b, const char *task, const char *const *values,
                              int naxes)
{
    isw_sb_puts(b, task);
    for (int i = 0; i < naxes; i++) {
        isw_sb_putc(b, ',');
        isw_csv_put_field(b, values[i]);
    }
}

void isw_runs_format_header(isw_sb_t *b, const char *const *axes, int naxes)
{
    put_task_and_axes(b, "task", axes, naxes);
    for (int c = 0; c < ISW_RECORD_NCOLUMNS; c++) {
        isw_sb_putc(b, ',');
        isw_sb_puts(b, isw_record_columns[c].name);
    }
    isw_sb_putc(b, '\n');
}

long isw_runs_format_line(char *buf, size_t size, const char *const *values, int naxes,
                          const isw_record_t *rec)
{
    isw_sb_t b;
    isw_sb_fixed(&b, buf, size);
    char task[24];
    snprintf(task, sizeof task, "%" PRIu64, rec->task);
    put_task_and_axes(&b, task, values, naxes);
    for (int c = 0; c < ISW_RECORD_NCOLUMNS; c++) {
        isw_sb_putc(&b, ',');
        if (isw_record_format(&b, rec, c) != 0)
            return -1;
    }
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

int isw_runs_set_axes(isw_runs_t *runs, char *const *axes, int naxes)
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
/* Runs per block of value pointer arrays. */
#define ISW_RUNS_VBLOCK 4096

/* The table's copy of string s, stored once however many runs hold it;
 * NULL when out of memory. */
static char *intern(isw_runs_t *runs, const char *s)
{
    if (2 * (runs->nstrings + 1) > runs->nstring_slots) {
        size_t n = runs->nstring_slots ? 2 * runs->nstring_slots : 256;
        char **t = calloc(n, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < runs->nstring_slots; i++) {
            char *v = runs->strings[i];
            if (!v)
                continue;
            size_t h = (size_t)isw_hash_bytes(0, v, strlen(v)) & (n - 1);
            while (t[h])
                h = (h + 1) & (n - 1);
            t[h] = v;
        }
        free(runs->strings);
        runs->strings = t;
        runs->nstring_slots = n;
    }
    size_t len = strlen(s), mask = runs->nstring_slots - 1;
    size_t h = (size_t)isw_hash_bytes(0, s, len) & mask;
    for (; runs->strings[h]; h = (h + 1) & mask)
        if (strcmp(runs->strings[h], s) == 0)
            return runs->strings[h];
    char *v = malloc(len + 1);
    if (!v)
        return NULL;
    memcpy(v, s, len + 1);
    runs->strings[h] = v;
    runs->nstrings++;
    return v;
}

/* The value pointer array of run i (naxes + 1 pointers); NULL when out of
 * memory. */
static char **run_values(isw_runs_t *runs, size_t i)
{
    size_t b = i / ISW_RUNS_VBLOCK, per = (size_t)runs->naxes + 1;
    if (b >= runs->nvblocks) {
        char ***t = realloc(runs->vblocks, (b + 1) * sizeof *t);
        if (!t)
            return NULL;
        runs->vblocks = t;
        for (size_t k = runs->nvblocks; k <= b; k++)
            t[k] = NULL;
        runs->nvblocks = b + 1;
    }
    if (!runs->vblocks[b] && !(runs->vblocks[b] = malloc(ISW_RUNS_VBLOCK * per * sizeof(char *))))
        return NULL;
    return runs->vblocks[b] + (i % ISW_RUNS_VBLOCK) * per;
}

int isw_runs_push(isw_runs_t *runs, const char *const *values, const isw_record_t *rec,
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
    char **v = run_values(runs, runs->nruns);
    if (!v)
        return ISW_ENOMEM;
    for (int i = 0; i < runs->naxes; i++)
        if (!(v[i] = intern(runs, values[i])))
            return ISW_ENOMEM;
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

/* Removes the run added last (an append whose write failed).  Its value
 * strings stay interned (other runs may hold them). */
void isw_runs_pop(isw_runs_t *runs)
{
    if (runs->nruns == 0)
        return;
    runs->nruns--;
    /* open addressing cannot drop one entry: refill the same table */
    memset(runs->slots, 0, runs->nslots * sizeof *runs->slots);
    slots_fill(runs->slots, runs->nslots, runs);
}

void isw_runs_free(isw_runs_t *runs)
{
    if (!runs)
        return;
    for (size_t i = 0; i < runs->nstring_slots; i++)
        free(runs->strings[i]);
    free(runs->strings);
    for (size_t b = 0; b < runs->nvblocks; b++)
        free(runs->vblocks[b]);
    free(runs->vblocks);
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

#define NCOLS(naxes) (1 + (naxes) + ISW_RECORD_NCOLUMNS)

/* Fills rec and values from the fields of one data row; on failure *col is
 * the offending column and *expected what it should hold. */
static int parse_row(char **f, int naxes, isw_record_t *rec, const char ***values,
                     int *col, const char **expected)
{
    memset(rec, 0, sizeof *rec);
    *expected = "a task id (unsigned integer)";
    *col = 0;
    if (!isw_parse_u64(f[0], &rec->task))
        return 0;
    *values = (const char **)(f + 1);
    for (int c = 0; c < ISW_RECORD_NCOLUMNS; c++)
        if (!isw_record_parse(rec, c, f[1 + naxes + c], expected)) {
            *col = 1 + naxes + c;
            return 0;
        }
    return 1;
}

static void strip_eol(char *line, ssize_t *len)
{
    while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r'))
        line[--*len] = '\0';
}


/* Reads the header: checks it against runs->axes if set (else sets them). */
static int parse_header(isw_runs_t *runs, char *line, const char *path, int mismatch_status,
                        isw_error_t *err)
{
    int maxf = 4 * ISW_MAX_AXES + ISW_RECORD_NCOLUMNS + 2;
    char *f[4 * ISW_MAX_AXES + ISW_RECORD_NCOLUMNS + 2];
    const char *why = "";
    int nf = csv_split(line, f, maxf, &why);
    if (nf < 0)
        return isw_error_set(err, ISW_EINVAL, path, 1, "bad header: %s", why);
    int naxes = nf - 1 - ISW_RECORD_NCOLUMNS;
    int ok = naxes >= 0 && strcmp(f[0], "task") == 0;
    for (int k = 0; ok && k < ISW_RECORD_NCOLUMNS; k++)
        ok = strcmp(f[1 + naxes + k], isw_record_columns[k].name) == 0;
    if (!ok)
        return isw_error_set(err, ISW_EINVAL, path, 1,
                             "not a runs.csv header: expected task, the axis columns, "
                             "outcome, epochs, ..., seconds");
    if (!runs->axes)
        return isw_runs_set_axes(runs, f + 1, naxes) == ISW_OK
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
int isw_runs_parse_stream(isw_runs_t *runs, FILE *in, const char *path, int source,
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
                                       : isw_record_columns[col - 1 - runs->naxes].name;
                st = isw_error_set(err, ISW_EINVAL, path, lineno,
                                   "column '%s': expected %s, found '%s'", name, expected,
                                   f[col]);
            } else if (nf >= 0 || strcmp(why, "too many fields") == 0) {
                st = isw_error_set(err, ISW_EINVAL, path, lineno,
                                   "expected %d fields (task, %d axes, %d record columns)%s%d",
                                   NCOLS(runs->naxes), runs->naxes, ISW_RECORD_NCOLUMNS,
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
        if ((st = isw_runs_push(runs, values, &rec, source, lineno)) != ISW_OK) {
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

int isw_runs_add_source(isw_runs_t *runs, const char *path)
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
        if ((st = isw_runs_add_source(runs, paths[i])) != ISW_OK) {
            isw_error_set(err, st, paths[i], 0, "out of memory");
        } else {
            parse_info_t info;
            st = isw_runs_parse_stream(runs, in, paths[i], runs->nsources - 1, ISW_EINVAL, &info, err);
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

