/* The `run` command's policy without MPI: shard arithmetic, OUTDIR naming,
 * --resume/--fresh, spec.yaml, refusing resumed rows of another sweep or
 * shard, the summaries at the end and the exit statuses. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "initsweep/run.h"
#include "initsweep/train.h"

static char dir[] = "/tmp/isw_test_run_XXXXXX";

/* xor, 4 lr x 3 seeds = 12 tasks, optionally refined along lr */
static const char *write_spec(const char *name, int refine)
{
    static char path[2][256];
    char *p = path[refine];
    snprintf(p, sizeof path[0], "%s/%s.yaml", dir, name);
    FILE *f = fopen(p, "w");
    fprintf(f, "name: %s\n"
               "data: {kind: synthetic, generator: xor, samples: 40}\n"
               "model: {hidden: [4], activation: tanh}\n"
               "train: {lr: 0.1, epochs: 3}\n"
               "sweep:\n"
               "  train.lr: {logspace: [0.01, 10, 4]}\n"
               "  seed: {range: [0, 3]}\n%s",
            name, refine ? "refine: {axis: train.lr, tolerance: 0.1, rounds: 2}\n" : "");
    fclose(f);
    return p;
}

static int exists(const char *d, const char *name)
{
    char p[2200];
    snprintf(p, sizeof p, "%s/%s", d, name);
    return access(p, F_OK) == 0;
}

static isw_run_opts_t opts_for(const char *spec, const char *outdir)
{
    isw_run_opts_t o = {0};
    o.spec_path = spec;
    o.outdir = outdir;
    o.quiet = 1;
    return o;
}

static void test_outdir_and_shards(const char *spec, const char *refined)
{
    isw_run_job_t job;
    isw_error_t err;
    isw_run_opts_t o = opts_for(spec, NULL);
    CHECK_INT(isw_run_setup(&job, &o, &err), ISW_OK);
    CHECK_STR(job.outdir, "results/plain");
    CHECK_INT(job.shard_n, 1);
    CHECK_INT(isw_run_owned_tasks(&job), 12);
    isw_run_close(&job, ISW_EXIT_OK);

    o = opts_for(spec, "out");
    o.shard = "1/3";
    CHECK_INT(isw_run_setup(&job, &o, &err), ISW_OK);
    CHECK_STR(job.outdir, "out/shard-1-of-3");
    isw_run_close(&job, ISW_EXIT_OK);

    const char *bad[] = {"3/3", "-1/2", "1", "1/", "a/2", "1/2x", "0/0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        o.shard = bad[i];
        CHECK_INT(isw_run_setup(&job, &o, &err), ISW_EINVAL);
        CHECK_CONTAINS(err.text, "expected K/N");
        isw_run_close(&job, ISW_EXIT_OK);
    }

    /* every task is owned by exactly one shard, and each shard's count is
     * what it owns; refined shards take whole slices (all lr of a seed) */
    for (int refine = 0; refine < 2; refine++) {
        for (int n = 1; n <= 5; n++) {
            int owners[12] = {0};
            uint64_t total = 0;
            for (int k = 0; k < n; k++) {
                char sh[16];
                snprintf(sh, sizeof sh, "%d/%d", k, n);
                o = opts_for(refine ? refined : spec, "out");
                o.shard = sh;
                CHECK_INT(isw_run_setup(&job, &o, &err), ISW_OK);
                uint64_t mine = 0;
                for (uint64_t t = 0; t < job.grid.ntasks; t++)
                    if (isw_run_owns(&job, t)) {
                        owners[t]++;
                        mine++;
                    }
                CHECK_INT(isw_run_owned_tasks(&job), mine);
                total += mine;
                for (uint64_t t = 0; refine && t < job.grid.ntasks; t++)
                    for (uint64_t u = 0; u < job.grid.ntasks; u++)
                        if (isw_refine_slice_of_task(job.refine, t) ==
                            isw_refine_slice_of_task(job.refine, u))
                            CHECK_INT(isw_run_owns(&job, t), isw_run_owns(&job, u));
                isw_run_close(&job, ISW_EXIT_OK);
            }
            CHECK_INT(total, 12);
            for (int t = 0; t < 12; t++)
                CHECK_INT(owners[t], 1);
        }
    }
}

/* Pack units: 3 seeds x 2 momenta x 50 lr x 2 init scales with a data axis
 * of 2: families are (samples, seed), 200 lane members each, in units of
 * 64, 64, 64, 8.  Every task is in exactly one unit, unit_of agrees, a
 * unit's tasks share every non-lane value, and shards own whole units with
 * counts that add up. */
static void test_units(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/units.yaml", dir);
    FILE *f = fopen(p, "w");
    fprintf(f, "name: units\n"
               "data: {kind: synthetic, generator: xor, samples: 40}\n"
               "model: {hidden: [4], activation: tanh}\n"
               "sweep:\n"
               "  data.samples: [40, 48]\n"
               "  seed: {range: [0, 3]}\n"
               "  train.momentum: [0, 0.5]\n"
               "  train.lr: {logspace: [0.01, 10, 50]}\n"
               "  init.scale: [0.5, 1]\n");
    fclose(f);
    isw_run_job_t job;
    isw_error_t err;
    isw_run_opts_t o = opts_for(p, "out");
    CHECK_INT(isw_run_setup(&job, &o, &err), ISW_OK);
    const isw_grid_t *g = &job.grid;
    CHECK_INT(g->ntasks, 1200);
    CHECK_INT(g->family_size, 200);
    CHECK_INT(g->family_units, 4);
    CHECK_INT(g->nunits, 24);
    int seen[1200] = {0};
    uint64_t tasks[ISW_MAX_LANES];
    for (uint64_t u = 0; u < g->nunits; u++) {
        size_t n = isw_grid_unit_tasks(g, u, tasks);
        CHECK_INT(n, u % 4 == 3 ? 8 : 64);
        size_t i0[ISW_MAX_AXES], ij[ISW_MAX_AXES];
        isw_grid_task_index(g, tasks[0], i0);
        for (size_t j = 0; j < n; j++) {
            CHECK(tasks[j] < 1200);
            seen[tasks[j]]++;
            CHECK_INT(isw_grid_unit_of(g, tasks[j]), u);
            CHECK_INT(isw_grid_group_of(g, tasks[j]), u / 12);
            isw_grid_task_index(g, tasks[j], ij);
            CHECK(ij[0] == i0[0] && ij[1] == i0[1]);
            if (j > 0)
                CHECK(tasks[j] != tasks[j - 1]);
        }
    }
    for (int t = 0; t < 1200; t++)
        CHECK_INT(seen[t], 1);
    isw_run_close(&job, ISW_EXIT_OK);
    for (int n = 2; n <= 7; n++) {
        uint64_t total = 0;
        for (int k = 0; k < n; k++) {
            char sh[16];
            snprintf(sh, sizeof sh, "%d/%d", k, n);
            o.shard = sh;
            CHECK_INT(isw_run_setup(&job, &o, &err), ISW_OK);
            uint64_t mine = 0;
            for (uint64_t t = 0; t < job.grid.ntasks; t++)
                if (isw_run_owns(&job, t)) {
                    mine++;
                    CHECK_INT(isw_grid_unit_of(&job.grid, t) % (uint64_t)n, k);
                }
            CHECK_INT(isw_run_owned_tasks(&job), mine);
            total += mine;
            isw_run_close(&job, ISW_EXIT_OK);
        }
        CHECK_INT(total, 1200);
    }
}

/* A record for task t, converged. */
static isw_record_t record(uint64_t t)
{
    isw_record_t r;
    isw_record_init(&r, t);
    r.outcome = ISW_OUTCOME_CONVERGED;
    r.epochs = 3;
    r.loss_initial = 1.0;
    r.loss_final = r.loss_best = 0.01;
    r.loss_max = 1.0;
    return r;
}

/* Opens OUTDIR for a job of spec with these flags; returns its status. */
static int open_job(isw_run_job_t *job, const char *spec, const char *out, int resume, int fresh,
                    isw_error_t *err)
{
    isw_run_opts_t o = opts_for(spec, out);
    o.resume = resume;
    o.fresh = fresh;
    int st = isw_run_setup(job, &o, err);
    isw_data_t data;
    memset(&data, 0, sizeof data);
    if (st == ISW_OK)
        st = isw_run_identify_data(job, &data, NULL, err);
    if (st == ISW_OK)
        st = isw_run_open(job, "blas_core test", err);
    return st;
}

static void test_open_resume_finish(const char *spec)
{
    char out[256];
    snprintf(out, sizeof out, "%s/out", dir);
    isw_run_job_t job;
    isw_error_t err;

    /* --resume with nothing to resume: refused, OUTDIR not created */
    CHECK_INT(open_job(&job, spec, out, 1, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "no journal to resume");
    CHECK(access(out, F_OK) != 0);
    CHECK_INT(isw_run_close(&job, isw_exit_status(ISW_EINVAL)), ISW_EXIT_INPUT);

    /* a first run: journal and spec.yaml; an interruption keeps it */
    CHECK_INT(open_job(&job, spec, out, 0, 0, &err), ISW_OK);
    CHECK(exists(out, "journal.meta") && exists(out, "spec.yaml") && exists(out, "runs.csv"));
    const char *vals[2] = {"0.01", "0"};
    isw_record_t r = record(0);
    CHECK_INT(isw_journal_append(job.journal, vals, &r, &err), ISW_OK);
    CHECK_INT(isw_run_finish(&job, ISW_EXIT_OK, 1), ISW_EXIT_INTERRUPTED);
    CHECK(!exists(out, "cells.csv"));
    CHECK_INT(isw_run_close(&job, ISW_EXIT_INTERRUPTED), ISW_EXIT_INTERRUPTED);

    /* resumed with --resume: the run is there; a failed phase is returned
     * as it is and writes no summaries; a whole run writes them */
    CHECK_INT(open_job(&job, spec, out, 1, 0, &err), ISW_OK);
    CHECK_INT(isw_journal_count(job.journal), 1);
    CHECK_INT(isw_run_finish(&job, ISW_EXIT_INPUT, 0), ISW_EXIT_INPUT);
    CHECK(!exists(out, "cells.csv"));
    CHECK_INT(isw_run_finish(&job, ISW_EXIT_OK, 0), ISW_EXIT_OK);
    CHECK(exists(out, "cells.csv") && exists(out, "boundary.csv") && exists(out, "fit.csv"));
    CHECK_INT(isw_run_close(&job, ISW_EXIT_OK), ISW_EXIT_OK);

    /* a row whose axis value is not its task's: refused, nothing lost */
    CHECK_INT(open_job(&job, spec, out, 0, 0, &err), ISW_OK);
    const char *wrong[2] = {"0.5", "1"};
    r = record(1);
    CHECK_INT(isw_journal_append(job.journal, wrong, &r, &err), ISW_OK);
    isw_run_close(&job, ISW_EXIT_OK);
    CHECK_INT(open_job(&job, spec, out, 0, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "task 1 has train.lr = \"0.5\", but task 1 of this sweep has");
    isw_run_close(&job, ISW_EXIT_INPUT);

    /* a task id beyond the grid (no refinement here) */
    CHECK_INT(open_job(&job, spec, out, 0, 1, &err), ISW_OK);
    CHECK_INT(isw_journal_count(job.journal), 0);   /* --fresh emptied it */
    r = record(99);
    CHECK_INT(isw_journal_append(job.journal, vals, &r, &err), ISW_OK);
    isw_run_close(&job, ISW_EXIT_OK);
    CHECK_INT(open_job(&job, spec, out, 0, 0, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "task 99 is outside this sweep");
    isw_run_close(&job, ISW_EXIT_INPUT);

    /* another spec into the same OUTDIR: refused as a state error (2) */
    char other[256];
    snprintf(other, sizeof other, "%s/other.yaml", dir);
    FILE *o = fopen(other, "w");
    fputs("name: other\ndata: {kind: synthetic, generator: xor, samples: 40}\n"
          "model: {hidden: [4]}\ntrain: {lr: 0.2, epochs: 3}\n", o);
    fclose(o);
    CHECK_INT(open_job(&job, other, out, 0, 0, &err), ISW_ESTATE);
    CHECK_INT(isw_exit_status(ISW_ESTATE), ISW_EXIT_INPUT);
    isw_run_close(&job, ISW_EXIT_INPUT);
}

static void test_shard_rows(const char *spec)
{
    char out[256];
    snprintf(out, sizeof out, "%s/sharded", dir);
    isw_run_job_t job;
    isw_error_t err;
    isw_run_opts_t o = opts_for(spec, out);
    o.shard = "0/2";
    isw_data_t none;
    memset(&none, 0, sizeof none);
    CHECK_INT(isw_run_setup(&job, &o, &err), ISW_OK);
    CHECK_INT(isw_run_identify_data(&job, &none, NULL, &err), ISW_OK);
    CHECK_INT(isw_run_open(&job, NULL, &err), ISW_OK);
    /* task 1 goes round-robin to shard 1 */
    const char *vals[2] = {"0.01", "1"};
    isw_record_t r = record(1);
    CHECK_INT(isw_journal_append(job.journal, vals, &r, &err), ISW_OK);
    isw_run_close(&job, ISW_EXIT_OK);
    CHECK_INT(isw_run_setup(&job, &o, &err), ISW_OK);
    CHECK_INT(isw_run_identify_data(&job, &none, NULL, &err), ISW_OK);
    CHECK_INT(isw_run_open(&job, NULL, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "task 1 belongs to another shard than 0 of 2");
    isw_run_close(&job, ISW_EXIT_INPUT);
}

static int stop_now(void)
{
    return 1;
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const char *spec = write_spec("plain", 0), *refined = write_spec("refined", 1);
    test_outdir_and_shards(spec, refined);
    test_open_resume_finish(spec);
    test_shard_rows(spec);
    test_units();

    isw_run_job_t job;
    isw_error_t err;
    isw_run_opts_t o = opts_for(spec, NULL);
    isw_data_t none;
    memset(&none, 0, sizeof none);
    CHECK_INT(isw_run_setup(&job, &o, &err), ISW_OK);
    CHECK_INT(isw_run_identify_data(&job, &none, stop_now, &err), ISW_EINTR);
    CHECK_INT(isw_run_close(&job, isw_exit_status(ISW_EINTR)), ISW_EXIT_INTERRUPTED);
    CHECK_INT(isw_exit_status(ISW_EIO), ISW_EXIT_FAIL);
    CHECK_INT(isw_exit_status(ISW_ENOMEM), ISW_EXIT_FAIL);
    CHECK_INT(isw_exit_status(ISW_OK), ISW_EXIT_OK);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return CHECK_DONE();
}
