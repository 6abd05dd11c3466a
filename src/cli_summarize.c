/* `initsweep summarize OUTDIR`: the statistics again from OUTDIR/runs.csv,
 * merging the shards of a `run --shard K/N` job array first. */
#include "initsweep/cli.h"

#include <errno.h>
#include <math.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "initsweep/grid.h"
#include "initsweep/journal.h"
#include "initsweep/run.h"
#include "initsweep/stats.h"

typedef struct {
    const isw_runs_t *runs;
    const size_t *order;                 /* run indices sorted by task */
} merged_t;

static int write_merged(FILE *out, void *user, isw_error_t *err)
{
    const merged_t *m = user;
    const isw_runs_t *r = m->runs;
    isw_sb_t hdr = {0};
    isw_runs_format_header(&hdr, (const char *const *)r->axes, r->naxes);
    if (!isw_sb_ok(&hdr)) {
        isw_sb_free(&hdr);
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
    }
    fputs(hdr.s, out);  /* a stream error fails the atomic write */
    isw_sb_free(&hdr);
    char *line = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < r->nruns; i++) {
        const isw_run_t *run = &r->runs[m->order[i]];
        const char *const *vals = (const char *const *)run->values;
        size_t need = isw_runs_line_bound(vals, r->naxes);
        if (need > cap) {
            free(line);
            cap = need;
            line = malloc(cap);
            if (!line)
                return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
        }
        long len = isw_runs_format_line(line, cap, vals, r->naxes, &run->rec);
        if (len < 0 || fwrite(line, 1, (size_t)len, out) != (size_t)len) {
            free(line);
            return isw_error_set(err, ISW_EIO, "runs.csv", 0, "cannot write the merged runs");
        }
    }
    free(line);
    return ISW_OK;
}

typedef struct {
    uint64_t task;
    size_t index;
} task_index_t;

static int cmp_task(const void *a, const void *b)
{
    uint64_t x = ((const task_index_t *)a)->task, y = ((const task_index_t *)b)->task;
    return (x > y) - (x < y);
}

typedef struct {
    char *text;
    size_t len;
} bytes_t;

/* A whole file into b (malloc'ed); ISW_EINVAL when it does not exist. */
static int read_bytes(bytes_t *b, const char *path, isw_error_t *err)
{
    b->text = NULL;
    b->len = 0;
    FILE *in = fopen(path, "rb");
    if (!in)
        return isw_error_set(err, isw_errno_status(errno), path, 0, "cannot open: %s%s",
                             strerror(errno),
                             errno == ENOENT ? " (run that shard again to complete it)" : "");
    FILE *mem = open_memstream(&b->text, &b->len);
    char buf[8192];
    size_t n;
    int bad = !mem;
    while (!bad && (n = fread(buf, 1, sizeof buf, in)) > 0)
        bad = fwrite(buf, 1, n, mem) != n;
    bad |= ferror(in);
    fclose(in);
    if (mem)
        bad |= fclose(mem) != 0;
    if (bad) {
        free(b->text);
        b->text = NULL;
        return isw_error_set(err, ISW_EIO, path, 0, "cannot read");
    }
    return ISW_OK;
}

/* One shard of a job array: its directory, lock and identity. */
typedef struct {
    char dir[ISW_PATH_MAX + 64];
    char runs[ISW_PATH_MAX + 80];
    int lock;
    uint64_t hash;                       /* journal.meta's spec hash */
    bytes_t spec;                        /* its spec.yaml */
} shard_t;

/* Locks shard k (a shard still running is refused, not half-merged) and
 * reads its identity, which must be shard 0's: the same journal spec hash
 * and the same resolved spec.yaml, byte for byte. */
static int shard_open(shard_t *s, const shard_t *first, const char *outdir, int k, int n,
                      isw_error_t *err)
{
    snprintf(s->dir, sizeof s->dir, "%s/shard-%d-of-%d", outdir, k, n);
    snprintf(s->runs, sizeof s->runs, "%s/runs.csv", s->dir);
    if (access(s->runs, F_OK) != 0)
        return isw_error_set(err, ISW_EINVAL, s->runs, 0,
                             "shard %d of %d has no journal: run it (--shard %d/%d) first", k, n,
                             k, n);
    int st = isw_journal_lock(s->dir, &s->lock, err);
    if (st == ISW_OK)
        st = isw_journal_meta_hash(s->dir, &s->hash, err);
    char spec[ISW_PATH_MAX + 80];
    snprintf(spec, sizeof spec, "%s/spec.yaml", s->dir);
    if (st == ISW_OK)
        st = read_bytes(&s->spec, spec, err);
    if (st != ISW_OK || !first)
        return st;
    int same_spec = s->spec.len == first->spec.len &&
                    memcmp(s->spec.text, first->spec.text, s->spec.len) == 0;
    if (s->hash != first->hash || !same_spec) {
        char why[96];
        if (s->hash != first->hash)
            snprintf(why, sizeof why, "journal spec hash %016llx vs %016llx",
                     (unsigned long long)first->hash, (unsigned long long)s->hash);
        else
            snprintf(why, sizeof why, "their spec.yaml differ");
        return isw_error_set(err, ISW_EINVAL, s->dir, 0,
                             "holds the runs of another spec than %s (%s): summarize merges "
                             "the shards of one `run --shard K/N` job array of one spec",
                             first->dir, why);
    }
    return ISW_OK;
}

/* How many shard directories OUTDIR holds: all N of shard-K-of-N, or 0;
 * anything else is refused. */
static int count_shards(const char *outdir, int *n, isw_error_t *err)
{
    *n = 0;
    char pattern[ISW_PATH_MAX + 32];
    snprintf(pattern, sizeof pattern, "%s/journal.meta", outdir);
    if (access(pattern, F_OK) == 0)
        return ISW_OK;                   /* an MPI run's own journal: no merging */
    snprintf(pattern, sizeof pattern, "%s/shard-*-of-*", outdir);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0)
        return ISW_OK;
    int st = ISW_OK;
    const char *base = strrchr(g.gl_pathv[0], '/');
    if (sscanf(base ? base + 1 : g.gl_pathv[0], "shard-%*d-of-%d", n) != 1 || *n < 1 ||
        (size_t)*n != g.gl_pathc)
        st = isw_error_set(err, ISW_EINVAL, outdir, 0,
                           "found %zu shard directories, expected all N of shard-K-of-N "
                           "(K = 0..N-1) from the same --shard K/N job array",
                           g.gl_pathc);
    globfree(&g);
    return st;
}

/* OUTDIR/runs.csv := the runs sorted by task, as an MPI run's journal. */
static int write_sorted_runs(const char *outdir, const isw_runs_t *runs, isw_error_t *err)
{
    size_t n = runs->nruns ? runs->nruns : 1;
    size_t *order = malloc(n * sizeof *order);
    task_index_t *ti = malloc(n * sizeof *ti);
    int st = ISW_OK;
    if (!order || !ti) {
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
    } else {
        for (size_t i = 0; i < runs->nruns; i++)
            ti[i] = (task_index_t){runs->runs[i].rec.task, i};
        qsort(ti, runs->nruns, sizeof *ti, cmp_task);
        for (size_t i = 0; i < runs->nruns; i++)
            order[i] = ti[i].index;
        merged_t m = {runs, order};
        st = isw_file_write_atomic(outdir, "runs.csv", write_merged, &m, err);
    }
    free(ti);
    free(order);
    return st;
}

/* An unfinished shard is worth a warning, not a refusal: partial maps are
 * still maps. */
static void warn_missing(const char *spec_path, const isw_runs_t *runs)
{
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t e;
    isw_grid_t grid;
    if (isw_spec_load(&s, &sw, spec_path, &e) != ISW_OK)
        return;
    if (isw_grid_init(&grid, &sw, &e) == ISW_OK) {
        uint64_t have = 0;
        for (size_t i = 0; i < runs->nruns; i++)
            have += runs->runs[i].rec.task < grid.ntasks;
        if (have < grid.ntasks)
            fprintf(stderr, "initsweep: warning: the shards hold %llu of the %llu grid "
                            "runs; the statistics cover those\n",
                    (unsigned long long)have, (unsigned long long)grid.ntasks);
    }
    isw_sweep_free(&sw);
}

/* `run --shard K/N` journals into OUTDIR/shard-K-of-N.  Merges every shard's
 * runs into OUTDIR/runs.csv and copies the resolved spec, so the statistics
 * come out as an MPI run's.  Returns ISW_OK with *merged 0 when OUTDIR has
 * no shards. */
static int merge_shards(const char *outdir, int *merged, isw_error_t *err)
{
    int n;
    int st = count_shards(outdir, &n, err);
    *merged = 0;
    if (st != ISW_OK || n == 0)
        return st;
    shard_t *shards = calloc((size_t)n, sizeof *shards);
    const char **paths = calloc((size_t)n, sizeof *paths);
    if (!shards || !paths)
        st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
    for (int k = 0; shards && k < n; k++)
        shards[k].lock = -1;
    for (int k = 0; k < n && st == ISW_OK; k++) {
        st = shard_open(&shards[k], k ? &shards[0] : NULL, outdir, k, n, err);
        paths[k] = shards[k].runs;
    }
    isw_runs_t runs = {0};
    if (st == ISW_OK)
        st = isw_runs_read_files(&runs, paths, n, err);
    if (st == ISW_OK)
        st = write_sorted_runs(outdir, &runs, err);
    if (st == ISW_OK)
        st = isw_run_write_spec(outdir, shards[0].spec.text, shards[0].spec.len, err);
    if (st == ISW_OK) {
        char spec[ISW_PATH_MAX + 80];
        snprintf(spec, sizeof spec, "%s/spec.yaml", shards[0].dir);
        warn_missing(spec, &runs);
        *merged = n;
    }
    for (int k = 0; shards && k < n; k++) {
        isw_journal_unlock(shards[k].lock);
        free(shards[k].spec.text);
    }
    free(shards);
    free(paths);
    isw_runs_free(&runs);
    return st;
}

/* The fit section of OUTDIR/spec.yaml, then --set fit.* (the only keys
 * summarize takes: the runs are done, only how their edges are fitted can
 * change).  Without spec.yaml (runs.csv from elsewhere) the defaults. */
static int fit_options(const isw_cli_args_t *args, isw_sweep_t *sw, isw_stats_opts_t *opts,
                       isw_error_t *err)
{
    for (int i = 0; i < args->nsets; i++)
        if (strncmp(args->sets[i], "fit.", 4) != 0)
            return isw_error_set(err, ISW_EINVAL, "--set", 0,
                                 "%.200s: summarize changes only fit.axis and fit.range (the "
                                 "runs are done; run again to change anything else)",
                                 args->sets[i]);
    char path[ISW_PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/spec.yaml", args->path);
    isw_spec_t spec;
    int st = ISW_OK;
    if (access(path, F_OK) == 0)
        st = isw_run_load_spec(&spec, sw, path, args->sets, args->nsets, err);
    else if (args->nsets > 0)
        st = isw_error_set(err, ISW_EINVAL, path, 0,
                           "no such file: --set fit.* needs the run's resolved spec");
    *opts = (isw_stats_opts_t){sw->fit.axis, sw->fit.lo, sw->fit.hi};
    return st;
}

/* summarize holds OUTDIR's lock like run: a running job is not summarized
 * under its feet (it writes the summaries itself when it ends), and two
 * summaries do not race on the same files. */
int isw_cli_summarize(const isw_cli_args_t *args)
{
    isw_error_t err;
    isw_error_clear(&err);
    struct stat sb;
    if (stat(args->path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "%s: no such results directory (expected the OUTDIR of a run)\n",
                args->path);
        return ISW_EXIT_INPUT;
    }
    int lock = -1, merged = 0;
    int st = isw_journal_lock(args->path, &lock, &err);
    if (st == ISW_OK)
        st = merge_shards(args->path, &merged, &err);
    if (st == ISW_OK && merged)
        printf("merged %d shards into %s/runs.csv\n", merged, args->path);
    isw_sweep_t sw = {.fit = {.lo = NAN, .hi = NAN}};
    isw_stats_opts_t opts;
    if (st == ISW_OK)
        st = fit_options(args, &sw, &opts, &err);
    if (st == ISW_OK)
        st = isw_stats_summarize(args->path, &opts, &err);
    isw_sweep_free(&sw);
    isw_journal_unlock(lock);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        return isw_exit_status(st);
    }
    printf("wrote %s/cells.csv, boundary.csv, fit.csv, geometry.csv\n", args->path);
    return ISW_EXIT_OK;
}
