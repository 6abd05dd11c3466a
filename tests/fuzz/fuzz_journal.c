/* Fuzzes the journal's resume: an OUTDIR holding a fuzzed runs.csv (and
 * journal.meta) opened for resume against a small fixed sweep, then one
 * append, close, and a second resume.
 *
 * Input: the runs.csv bytes, optionally followed by a NUL byte and the
 * journal.meta bytes.  Without a NUL, journal.meta is the one the journal
 * itself writes for the fixed spec, so most inputs reach the runs.csv
 * parser.  Invariants when the first open succeeds:
 * - every resumed run is found by its task;
 * - appending a record for a task not yet done succeeds, and so do close
 *   and a second open;
 * - the second open resumes exactly the runs of the first plus the
 *   appended one, each formatting to the same runs.csv line. */
#define FUZZ_OWN_INIT
#include "fuzz_util.h"

#include <inttypes.h>

#include "initsweep/grid.h"
#include "initsweep/journal.h"
#include "initsweep/spec.h"

static const char fixed_spec[] =
    "name: fuzz-journal\n"
    "seed: 1\n"
    "data: {kind: synthetic, generator: xor, samples: 8}\n"
    "model: {hidden: [4]}\n"
    "train: {epochs: 2}\n"
    "sweep:\n"
    "  model.hidden: [[4], [4, 4]]\n"
    "  train.lr: [0.01, 0.1]\n"
    "  seed: {range: [0, 3]}\n";

static isw_spec_t spec;
static isw_sweep_t sweep;
static isw_grid_t grid;
static uint64_t spec_hash;
static const char *axes[ISW_MAX_AXES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    isw_error_t err;
    if (isw_spec_load_string(&spec, &sweep, fixed_spec, "fuzz-journal.yaml", &err) != ISW_OK ||
        isw_grid_init(&grid, &sweep, &err) != ISW_OK)
        fuzz_fail("the fixed spec: %s", err.text);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f || isw_spec_write(f, &spec, &sweep) != ISW_OK || fclose(f) != 0)
        fuzz_fail("cannot write the fixed spec");
    spec_hash = isw_journal_hash(text, len);
    free(text);
    for (int a = 0; a < sweep.naxes; a++)
        axes[a] = sweep.axes[a].key;
    return 0;
}

/* The runs.csv line of run i of runs (malloc'ed). */
static char *run_line(const isw_runs_t *runs, size_t i)
{
    const isw_run_t *r = &runs->runs[i];
    size_t cap = isw_runs_line_bound((const char *const *)r->values, runs->naxes);
    char *buf = malloc(cap);
    if (!buf)
        fuzz_fail("out of memory");
    if (isw_runs_format_line(buf, cap, (const char *const *)r->values, runs->naxes, &r->rec) < 0)
        fuzz_fail("run %zu (task %" PRIu64 ") does not format", i, r->rec.task);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_scratch();
    char runs_path[1024], meta_path[1024];
    fuzz_clear_dir(dir);
    fuzz_path(runs_path, sizeof runs_path, dir, "runs.csv");
    fuzz_path(meta_path, sizeof meta_path, dir, "journal.meta");
    const uint8_t *nul = memchr(data, 0, size);
    size_t nruns_bytes = nul ? (size_t)(nul - data) : size;
    fuzz_write_file(runs_path, data, nruns_bytes);
    if (nul) {
        fuzz_write_file(meta_path, nul + 1, size - nruns_bytes - 1);
    } else {
        char meta[1024];
        int n = snprintf(meta, sizeof meta, "spec_hash %016" PRIx64 "\naxes %d\n", spec_hash,
                         sweep.naxes);
        for (int a = 0; a < sweep.naxes; a++)
            n += snprintf(meta + n, sizeof meta - (size_t)n, "axis %s\n", axes[a]);
        fuzz_write_file(meta_path, (const uint8_t *)meta, (size_t)n);
    }

    isw_journal_t *j;
    isw_error_t err;
    int st = isw_journal_open(&j, dir, spec_hash, NULL, 0, axes, sweep.naxes, 0, NULL, NULL, &err);
    if (st != ISW_OK) {
        if (j)
            fuzz_fail("a failed open returned a journal");
        if (err.text[0] == '\0' || err.line < 0)
            fuzz_fail("a bad error report (line %d, \"%s\")", err.line, err.text);
        return 0;
    }
    const isw_runs_t *runs = isw_journal_runs(j);
    size_t n0 = isw_journal_count(j);
    if (n0 != runs->nruns || runs->naxes != sweep.naxes)
        fuzz_fail("count %zu, table %zu runs of %d axes", n0, runs->nruns, runs->naxes);
    char **before = calloc(n0 + 1, sizeof *before);
    if (!before)
        fuzz_fail("out of memory");
    for (size_t i = 0; i < n0; i++) {
        uint64_t t = runs->runs[i].rec.task;
        if (isw_runs_find(runs, t) != (long)i || !isw_journal_done(j, t))
            fuzz_fail("resumed task %" PRIu64 " (run %zu) is not found", t, i);
        before[i] = run_line(runs, i);
    }

    /* One more record, for the first grid task not yet done (or a probe id
     * past the grid when every task is). */
    uint64_t task = 0;
    while (task < grid.ntasks + n0 && isw_journal_done(j, task))
        task++;
    size_t idx[ISW_MAX_AXES] = {0};
    if (task < grid.ntasks)
        isw_grid_task_index(&grid, task, idx);
    isw_axis_buf_t nums[ISW_MAX_AXES];
    const char *vp[ISW_MAX_AXES];
    for (int a = 0; a < sweep.naxes; a++)
        vp[a] = isw_axis_text(&sweep.axes[a], idx[a], &nums[a]);
    isw_record_t rec;
    isw_record_init(&rec, task);
    rec.outcome = ISW_OUTCOME_CONVERGED;
    rec.epochs = 2;
    rec.epoch_converged = 1;
    rec.loss_initial = 0.7;
    rec.loss_final = rec.loss_best = 0.125;
    rec.loss_max = 0.7;
    rec.accuracy_final = 1;
    rec.seconds = 0.001;
    if ((st = isw_journal_append(j, vp, &rec, &err)) != ISW_OK)
        fuzz_fail("append of task %" PRIu64 " after a resume failed: %s", task, err.text);
    if ((st = isw_journal_close(j, &err)) != ISW_OK)
        fuzz_fail("close failed: %s", err.text);

    if ((st = isw_journal_open(&j, dir, spec_hash, NULL, 0, axes, sweep.naxes, 0, NULL, NULL, &err)) != ISW_OK)
        fuzz_fail("the second resume failed: %s:%d: %s", err.file, err.line, err.text);
    runs = isw_journal_runs(j);
    if (runs->nruns != n0 + 1)
        fuzz_fail("the second resume has %zu runs, expected %zu + 1", runs->nruns, n0);
    for (size_t i = 0; i <= n0; i++) {
        char *line = run_line(runs, i);
        if (i < n0 && strcmp(line, before[i]) != 0)
            fuzz_fail("run %zu changed across a resume:\n%s%s", i, before[i], line);
        if (i == n0 && runs->runs[i].rec.task != task)
            fuzz_fail("the appended run is task %" PRIu64 ", expected %" PRIu64,
                      runs->runs[i].rec.task, task);
        free(line);
    }
    if (isw_journal_close(j, &err) != ISW_OK)
        fuzz_fail("close failed: %s", err.text);
    for (size_t i = 0; i < n0; i++)
        free(before[i]);
    free(before);
    return 0;
}
