/* The `run` command's policy: spec, shard, OUTDIR, journal, spec.yaml,
 * summaries and exit status (run.h).  No MPI: sched.c calls it. */
#include "initsweep/run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "initsweep/stats.h"

int isw_run_load_spec(isw_spec_t *spec, isw_sweep_t *sweep, const char *path,
                      const char *const *sets, int nsets, isw_error_t *err)
{
    int st = isw_spec_load(spec, sweep, path, err);
    for (int i = 0; st == ISW_OK && i < nsets; i++)
        st = isw_spec_override(spec, sweep, sets[i], err);
    if (st == ISW_OK && nsets > 0)
        st = isw_spec_validate(spec, "--set", err);
    return st;
}

/* "K/N" with 0 <= K < N (a Slurm array's 0-based task id and count). */
static int parse_shard(const char *text, int *k, int *n, isw_error_t *err)
{
    char *end;
    long kk = strtol(text, &end, 10);
    if (end != text && *end == '/') {
        const char *q = end + 1;
        long nn = strtol(q, &end, 10);
        if (end != q && *end == '\0' && nn >= 1 && nn <= 1000000 && kk >= 0 && kk < nn) {
            *k = (int)kk;
            *n = (int)nn;
            return ISW_OK;
        }
    }
    return isw_error_set(err, ISW_EINVAL, "--shard", 0,
                         "found \"%s\", expected K/N with 0 <= K < N (e.g. 3/8)", text);
}

/* OUTDIR, or results/<spec name>; a shard journals into its own
 * OUTDIR/shard-K-of-N, which `summarize OUTDIR` merges. */
static void outdir_of(isw_run_job_t *run)
{
    char base[ISW_PATH_MAX];
    if (run->opts.outdir)
        snprintf(base, sizeof base, "%s", run->opts.outdir);
    else
        snprintf(base, sizeof base, "results/%s", run->spec.name);
    if (run->shard_n > 1)
        snprintf(run->outdir, sizeof run->outdir, "%.900s/shard-%d-of-%d", base, run->shard_k,
                 run->shard_n);
    else
        snprintf(run->outdir, sizeof run->outdir, "%s", base);
}

int isw_run_setup(isw_run_job_t *run, const isw_run_opts_t *opts, isw_error_t *err)
{
    memset(run, 0, sizeof *run);
    run->opts = *opts;
    run->shard_n = 1;
    int st = ISW_OK;
    if (opts->shard)
        st = parse_shard(opts->shard, &run->shard_k, &run->shard_n, err);
    if (st != ISW_OK)
        return st;
    st = isw_run_load_spec(&run->spec, &run->sweep, opts->spec_path, opts->sets, opts->nsets,
                           err);
    if (st != ISW_OK)
        return st;
    st = isw_grid_init(&run->grid, &run->sweep, err);
    if (st == ISW_OK)
        st = isw_grid_validate(&run->grid, &run->spec, err);
    if (st == ISW_OK && run->sweep.refine.enabled)
        st = isw_refine_alloc(&run->refine, &run->grid, &run->sweep.refine, err);
    if (st != ISW_OK && err && err->file[0] == '\0')
        snprintf(err->file, sizeof err->file, "%s", opts->spec_path);
    if (st == ISW_OK)
        outdir_of(run);
    return st;
}

/* Where a dataset comes from, for the journal and its messages. */
static char *data_source(const isw_spec_t *s)
{
    char buf[2 * ISW_PATH_MAX + 64];
    const isw_data_spec_t *d = &s->data;
    if (d->kind == ISW_DATA_IDX)
        snprintf(buf, sizeof buf, "%s and %s", d->images, d->labels);
    else if (d->kind == ISW_DATA_CSV)
        snprintf(buf, sizeof buf, "%s", d->path);
    else
        snprintf(buf, sizeof buf, "synthetic data (generator %s)", isw_generator_name(d->generator));
    return strdup(buf);
}

int isw_run_identify_data(isw_run_job_t *run, const isw_data_t *group0, int (*stop)(void),
                          isw_error_t *err)
{
    const isw_grid_t *grid = &run->grid;
    run->ndata_ids = grid->ngroups;
    run->data_ids = calloc(grid->ngroups, sizeof *run->data_ids);
    if (!run->data_ids)
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory for %llu datasets",
                             (unsigned long long)grid->ngroups);
    for (uint64_t g = 0; g < grid->ngroups; g++) {
        if (stop && stop())
            return isw_error_set(err, ISW_EINTR, "", 0, "interrupted");
        isw_spec_t s;
        int st = isw_grid_group_spec(&s, grid, &run->spec, g, err);
        if (st != ISW_OK)
            return st;
        isw_journal_data_t *id = &run->data_ids[g];
        if (!(id->source = data_source(&s)))
            return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
        if (g == 0) {
            id->hash = isw_data_hash(group0);
            continue;
        }
        isw_data_t d;
        if ((st = isw_data_load(&d, &s, err)) != ISW_OK)
            return st;
        id->hash = isw_data_hash(&d);
        isw_data_free(&d);
    }
    return ISW_OK;
}

int isw_run_owns(const isw_run_job_t *run, uint64_t task)
{
    if (run->shard_n <= 1)
        return 1;
    uint64_t unit = run->refine ? isw_refine_slice_of_task(run->refine, task)
                                : isw_grid_unit_of(&run->grid, task);
    return unit % (uint64_t)run->shard_n == (uint64_t)run->shard_k;
}

/* Round-robin over slices of equal size, or over pack units: all of
 * unit_size tasks but the last of each family, which holds
 * family_size - (family_units - 1) * unit_size. */
uint64_t isw_run_owned_tasks(const isw_run_job_t *run)
{
    if (run->shard_n <= 1)
        return run->grid.ntasks;
    const isw_grid_t *g = &run->grid;
    uint64_t n = (uint64_t)run->shard_n, k = (uint64_t)run->shard_k;
    if (run->refine) {
        uint64_t done, slices;
        isw_refine_progress(run->refine, &done, &slices);
        return (slices / n + (k < slices % n)) * (g->ntasks / slices);
    }
    uint64_t units = g->nunits, owned = units / n + (k < units % n);
    /* Last units of families: unit F * fu + fu - 1 of family F; which of
     * them are ours repeats with period n in F. */
    uint64_t fu = g->family_units, families = units / fu, lasts = 0;
    uint64_t period = families < n ? families : n, in_period = 0, in_rest = 0;
    for (uint64_t f = 0; f < period; f++)
        if ((f % n * (fu % n) + (fu - 1) % n) % n == k) {
            in_period++;
            if (f < families % n)
                in_rest++;
        }
    lasts = families >= n ? families / n * in_period + in_rest : in_period;
    uint64_t short_by = g->unit_size - (g->family_size - (fu - 1) * g->unit_size);
    return owned * g->unit_size - lasts * short_by;
}

/* One resumed row: a grid task of this shard, or a refinement probe, whose
 * axis values are the task's own (a probe's lr is its own); anything else
 * did not come from this sweep and would be counted as if it had. */
static int check_row(const isw_run_job_t *run, const isw_run_t *r, const char *path,
                     isw_error_t *err)
{
    const isw_grid_t *grid = &run->grid;
    uint64_t t = r->rec.task;
    size_t idx[ISW_MAX_AXES];
    int probe = t >= grid->ntasks;
    if (!probe && !isw_run_owns(run, t))
        return isw_error_set(err, ISW_EINVAL, path, r->line,
                             "task %llu belongs to another shard than %d of %d",
                             (unsigned long long)t, run->shard_k, run->shard_n);
    if (!probe)
        isw_grid_task_index(grid, t, idx);
    else if (!run->refine || isw_refine_probe_index(run->refine, t, idx) != ISW_OK)
        return isw_error_set(err, ISW_EINVAL, path, r->line,
                             "task %llu is outside this sweep: its grid has tasks 0..%llu%s",
                             (unsigned long long)t, (unsigned long long)grid->ntasks - 1,
                             run->refine ? " and its refinement probes" : " and no refinement");
    for (int a = 0; a < grid->naxes; a++) {
        if (probe && a == grid->lr_axis)
            continue;
        isw_axis_buf_t num;
        const char *want = isw_axis_text(&grid->sweep->axes[a], idx[a], &num);
        if (strcmp(r->values[a], want) != 0)
            return isw_error_set(err, ISW_EINVAL, path, r->line,
                                 "task %llu has %s = \"%.200s\", but task %llu of this "
                                 "sweep has %s = \"%.200s\"", (unsigned long long)t,
                                 grid->sweep->axes[a].key, r->values[a],
                                 (unsigned long long)t, grid->sweep->axes[a].key, want);
    }
    return ISW_OK;
}

static int check_resumed(const isw_run_job_t *run, isw_error_t *err)
{
    const isw_runs_t *runs = isw_journal_runs(run->journal);
    const char *path = runs->nsources > 0 ? runs->sources[0] : "runs.csv";
    for (size_t i = 0; i < runs->nruns; i++) {
        int st = check_row(run, &runs->runs[i], path, err);
        if (st != ISW_OK)
            return st;
    }
    return ISW_OK;
}

/* The resolved spec as YAML text (malloc'ed): its hash identifies a
 * journal, and it is what OUTDIR/spec.yaml holds. */
static int spec_text(char **text, size_t *len, const isw_spec_t *spec, const isw_sweep_t *sweep,
                     isw_error_t *err)
{
    *text = NULL;
    *len = 0;
    FILE *f = open_memstream(text, len);
    if (!f)
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory for the resolved spec");
    int st = isw_spec_write(f, spec, sweep);
    fclose(f);
    if (st != ISW_OK)
        return isw_error_set(err, st, "", 0, "cannot write the resolved spec");
    return ISW_OK;
}

typedef struct {
    const char *text;
    size_t len;
} text_t;

static int write_text(FILE *out, void *user, isw_error_t *err)
{
    const text_t *t = user;
    if (fwrite(t->text, 1, t->len, out) != t->len)
        return isw_error_set(err, ISW_EIO, "spec.yaml", 0, "cannot write the spec");
    return ISW_OK;
}

int isw_run_write_spec(const char *outdir, const char *text, size_t len, isw_error_t *err)
{
    text_t t = {text, len};
    return isw_file_write_atomic(outdir, "spec.yaml", write_text, &t, err);
}

int isw_run_open(isw_run_job_t *run, const char *platform, isw_error_t *err)
{
    char *text = NULL;
    size_t len = 0;
    int st = spec_text(&text, &len, &run->spec, &run->sweep, err);
    /* the journal's identity is the spec without its fit section: how the
     * edges are fitted changes no run (a shallow copy, only read) */
    isw_sweep_t bare = run->sweep;
    bare.fit = (isw_fit_spec_t){.lo = NAN, .hi = NAN};
    char *htext = NULL;
    size_t hlen = 0;
    if (st == ISW_OK)
        st = spec_text(&htext, &hlen, &run->spec, &bare, err);
    uint64_t hash = st == ISW_OK ? isw_journal_hash(htext, hlen) : 0;
    free(htext);
    const char *axes[ISW_MAX_AXES];
    for (int a = 0; a < run->sweep.naxes; a++)
        axes[a] = run->sweep.axes[a].key;
    char meta[ISW_PATH_MAX + 32];
    snprintf(meta, sizeof meta, "%s/journal.meta", run->outdir);
    if (st == ISW_OK && run->opts.resume && access(meta, F_OK) != 0)
        st = isw_error_set(err, ISW_EINVAL, run->outdir, 0,
                           "--resume: no journal to resume here (a first run needs no "
                           "option; --resume only insists that one exists)");
    if (st == ISW_OK)
        st = isw_journal_open(&run->journal, run->outdir, hash, run->data_ids,
                              (int)run->ndata_ids, axes, run->sweep.naxes, run->opts.fresh,
                              run->opts.spec_path, platform, err);
    if (st == ISW_OK)
        st = check_resumed(run, err);
    if (st == ISW_OK)
        st = isw_journal_write_meta(run->journal, err);
    if (st == ISW_OK && !isw_journal_keeps(run->journal, "spec.yaml"))
        st = isw_run_write_spec(run->outdir, text, len, err);
    free(text);
    return st;
}

int isw_run_finish(isw_run_job_t *run, int status, int interrupted)
{
    if (status != ISW_EXIT_OK)
        return status;
    if (interrupted) {
        if (!run->opts.quiet)
            fprintf(stderr, "initsweep: interrupted; the journal in %s is complete up to "
                            "here, run the same command again to resume\n", run->outdir);
        return ISW_EXIT_INTERRUPTED;
    }
    isw_error_t err;
    isw_error_clear(&err);
    isw_stats_opts_t fit = {run->sweep.fit.axis, run->sweep.fit.lo, run->sweep.fit.hi};
    if (isw_stats_summarize_runs(isw_journal_runs(run->journal), run->outdir, &fit, &err) !=
        ISW_OK) {
        isw_error_print(stderr, &err);
        return ISW_EXIT_FAIL;
    }
    return ISW_EXIT_OK;
}

int isw_run_close(isw_run_job_t *run, int status)
{
    if (run->journal) {
        isw_error_t err;
        if (isw_journal_close(run->journal, &err) != ISW_OK) {
            isw_error_print(stderr, &err);
            if (status == ISW_EXIT_OK)
                status = ISW_EXIT_FAIL;
        }
        run->journal = NULL;
    }
    for (uint64_t g = 0; run->data_ids && g < run->ndata_ids; g++)
        free((char *)run->data_ids[g].source);
    free(run->data_ids);
    run->data_ids = NULL;
    isw_refine_free(run->refine);
    run->refine = NULL;
    isw_sweep_free(&run->sweep);
    return status;
}
