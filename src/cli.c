/* Subcommands without MPI (train, and the option parser shared by all). */
#include "initsweep/cli.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "initsweep/data.h"
#include "initsweep/grid.h"
#include "initsweep/journal.h"
#include "initsweep/stats.h"
#include "initsweep/mlp.h"
#include "initsweep/train.h"

void isw_cli_usage(FILE *out)
{
    fputs("usage:\n"
          "  initsweep run SPEC.yaml [-o OUTDIR] [--set KEY=VALUE]... [--resume|--fresh] [--shard K/N] [--quiet]\n"
          "  initsweep plan SPEC.yaml [--set KEY=VALUE]... [--ranks N]\n"
          "  initsweep train SPEC.yaml [--set KEY=VALUE]...\n"
          "  initsweep summarize OUTDIR\n"
          "  initsweep --help | --version\n"
          "\n"
          "run        train every run of the spec's sweep grid (under mpirun/srun on N ranks)\n"
          "           into OUTDIR (default results/<spec name>): runs.csv, cells.csv,\n"
          "           boundary.csv, fit.csv, spec.yaml; resumes a journal of the same spec\n"
          "plan       print the grid, its size and a cost estimate; trains nothing\n"
          "train      one run of the spec (sweep ignored): a line per epoch, then its record\n"
          "summarize  recompute cells.csv, boundary.csv and fit.csv from OUTDIR/runs.csv\n"
          "           (merging a job array's OUTDIR/shard-K-of-N first)\n"
          "\n"
          "--set KEY=VALUE  override a dotted key (train.lr=0.5, model.hidden=[15]);\n"
          "                 on run also a sweep axis: --set 'sweep.train.lr={logspace: [1e-3, 1, 7]}'\n"
          "--resume         insist on resuming: fail if OUTDIR holds no journal (a plain\n"
          "                 run resumes a journal of the same spec anyway)\n"
          "--fresh          start over, replacing OUTDIR's journal and results\n"
          "--shard K/N      run only shard K (0-based) of N into OUTDIR/shard-K-of-N;\n"
          "                 summarize OUTDIR merges the shards\n"
          "--quiet          no progress lines\n"
          "\n"
          "OUTDIR is locked while run or summarize works in it: a second one is refused\n"
          "(\"in use by another initsweep job\"); run writes the summaries itself when it ends.\n"
          "exit status: 0 done; 2 bad input (spec, options, data, an OUTDIR in use or\n"
          "holding another spec's files); 3 interrupted (resumable); 1 an I/O failure\n"
          "(permission denied, read-only or full file system, file size limit) or any\n"
          "other failure\n",
          out);
}

void isw_cli_startup(void)
{
    /* past `ulimit -f` a write must fail with EFBIG (an I/O error, exit 1,
     * the journal cut back to its last whole line), not kill the process */
    signal(SIGXFSZ, SIG_IGN);
    gsl_set_error_handler_off();
    isw_mlp_blas_threads(1);
}

int isw_cli_exit_status(int status)
{
    switch (status) {
    case ISW_OK: return ISW_EXIT_OK;
    case ISW_EINVAL:
    case ISW_ESTATE: return ISW_EXIT_INPUT;
    case ISW_EINTR: return ISW_EXIT_INTERRUPTED;
    default: return ISW_EXIT_FAIL;      /* ISW_EIO, ISW_ENOMEM, ... */
    }
}

static int bad_option(isw_error_t *err, const char *fmt, const char *what)
{
    isw_error_set(err, ISW_EINVAL, "", 0, fmt, what);
    return ISW_EINVAL;
}

int isw_cli_parse(isw_cli_args_t *args, int argc, char **argv, isw_error_t *err)
{
    memset(args, 0, sizeof *args);
    if (argc < 2)
        return bad_option(err, "%s", "no command given; expected run, plan, train or summarize (see --help)");
    args->command = argv[1];
    if (strcmp(args->command, "run") && strcmp(args->command, "plan") &&
        strcmp(args->command, "train") && strcmp(args->command, "summarize"))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "unknown command \"%s\"; expected run, plan, train or summarize",
                             args->command);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--set") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "--outdir") == 0 ||
            strcmp(a, "--shard") == 0 || strcmp(a, "--ranks") == 0) {
            if (i + 1 >= argc)
                return bad_option(err, "option %s needs a value", a);
            val = argv[++i];
        } else if (strncmp(a, "--set=", 6) == 0) {
            val = a + 6;
            a = "--set";
        }
        if (strcmp(a, "--set") == 0) {
            if (args->nsets == ISW_MAX_SETS)
                return bad_option(err, "too many --set options (at most %s)", "256");
            args->sets[args->nsets++] = val;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--outdir") == 0) {
            args->outdir = val;
        } else if (strcmp(a, "--shard") == 0) {
            args->shard = val;
        } else if (strcmp(a, "--ranks") == 0) {
            char *end;
            long r = strtol(val, &end, 10);
            if (*end || r < 1 || r > 10000000)
                return bad_option(err, "--ranks: found \"%s\", expected a positive integer", val);
            args->ranks = (int)r;
        } else if (strcmp(a, "--resume") == 0) {
            args->resume = 1;
        } else if (strcmp(a, "--fresh") == 0) {
            args->fresh = 1;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            args->quiet = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return bad_option(err, "unknown option \"%s\" (see --help)", a);
        } else if (!args->path) {
            args->path = a;
        } else {
            return bad_option(err, "unexpected argument \"%s\" (see --help)", a);
        }
    }
    if (!args->path)
        return isw_error_set(err, ISW_EINVAL, "", 0, "%s: missing %s argument", args->command,
                             strcmp(args->command, "summarize") ? "SPEC.yaml" : "OUTDIR");
    if (args->resume && args->fresh)
        return bad_option(err, "%s", "--resume and --fresh exclude each other");
    /* each command takes only its own options: one that would be ignored
     * is refused, so a user never believes it had an effect */
    int run = strcmp(args->command, "run") == 0, plan = strcmp(args->command, "plan") == 0;
    int train = strcmp(args->command, "train") == 0;
    const char *stray = !run && args->outdir      ? "-o"
                        : !run && args->shard     ? "--shard"
                        : !run && args->resume    ? "--resume"
                        : !run && args->fresh     ? "--fresh"
                        : !plan && args->ranks    ? "--ranks"
                        : !run && args->quiet     ? "--quiet"
                        : !(run || plan || train) && args->nsets ? "--set" : NULL;
    if (stray)
        return isw_error_set(err, ISW_EINVAL, "", 0, "%s does not apply to %s (see --help)",
                             stray, args->command);
    if (args->outdir && args->outdir[0] == '\0')
        return bad_option(err, "%s", "-o: found an empty OUTDIR, expected a directory name");
    for (int i = 0; train && i < args->nsets; i++)
        if (strncmp(args->sets[i], "sweep.", 6) == 0 || strncmp(args->sets[i], "refine.", 7) == 0)
            return isw_error_set(err, ISW_EINVAL, "", 0,
                                 "--set %.200s: train runs the spec's base run, so sweep and "
                                 "refine keys do not apply (set the key itself, or use run)",
                                 args->sets[i]);
    return ISW_OK;
}

int isw_cli_load_spec(isw_spec_t *spec, isw_sweep_t *sweep, const isw_cli_args_t *args,
                      isw_error_t *err)
{
    int st = isw_spec_load(spec, sweep, args->path, err);
    if (st != ISW_OK)
        return st;
    for (int i = 0; i < args->nsets; i++) {
        st = isw_spec_override(spec, sweep, args->sets[i], err);
        if (st != ISW_OK)
            return st;
    }
    if (args->nsets > 0)
        st = isw_spec_validate(spec, "--set", err);
    return st;
}

static void print_num(FILE *out, const char *key, double v)
{
    if (isnan(v))
        fprintf(out, "  %-26s\n", key);
    else
        fprintf(out, "  %-26s %.9g\n", key, v);
}

static int print_epoch(const isw_epoch_t *ep, void *user)
{
    FILE *out = user;
    fprintf(out, "epoch %4d  loss %-12.6g", ep->epoch, ep->loss);
    if (!isnan(ep->accuracy))
        fprintf(out, "  acc %.4f", ep->accuracy);
    fputs("  |grad|", out);
    for (int l = 0; l < ep->nlayers; l++)
        fprintf(out, " %.3g", ep->grad_norm[l]);
    fprintf(out, "  dead %.3f  sat %.3f  outsat %.3f%s\n", ep->dead_fraction,
            ep->saturated_fraction, ep->output_saturated_fraction,
            ep->layer_dead ? "  (a layer is dead)" : "");
    fflush(out);
    return 0;
}

static void print_record(FILE *out, const isw_record_t *r)
{
    fprintf(out, "record:\n  %-26s %s\n", "outcome", isw_outcome_name(r->outcome));
    fprintf(out, "  %-26s %d\n", "epochs", r->epochs);
    if (r->epoch_converged >= 0)
        fprintf(out, "  %-26s %d\n", "epoch_converged", r->epoch_converged);
    else
        fprintf(out, "  %-26s\n", "epoch_converged");
    print_num(out, "loss_initial", r->loss_initial);
    print_num(out, "loss_final", r->loss_final);
    print_num(out, "loss_best", r->loss_best);
    print_num(out, "loss_max", r->loss_max);
    print_num(out, "accuracy_final", r->accuracy_final);
    print_num(out, "grad_norm_initial", r->grad_norm_initial);
    print_num(out, "dead_fraction", r->dead_fraction);
    print_num(out, "saturated_fraction", r->saturated_fraction);
    print_num(out, "output_saturated_fraction", r->output_saturated_fraction);
    fprintf(out, "  %-26s %d\n", "layer_dead", r->layer_dead);
    print_num(out, "sharpness_initial", r->sharpness_initial);
    print_num(out, "seconds", r->seconds);
}

int isw_cli_train(const isw_cli_args_t *args)
{
    isw_error_t err;
    isw_error_clear(&err);
    isw_spec_t spec;
    isw_sweep_t sweep;
    memset(&sweep, 0, sizeof sweep);
    int st = isw_cli_load_spec(&spec, &sweep, args, &err);
    isw_sweep_free(&sweep);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        return isw_cli_exit_status(st);
    }
    isw_data_t data;
    st = isw_data_load(&data, &spec, &err);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        return isw_cli_exit_status(st);
    }
    printf("# %s: %zu samples, %zu inputs, %zu outputs%s; %zu parameters; lr %g, %s, %s\n",
           spec.name, data.n, data.nin, data.nout, data.classes ? " (classes)" : "",
           isw_mlp_nparams(&spec.model, data.nin, data.nout), spec.train.lr,
           isw_dist_name(spec.init.dist), spec.train.precision == ISW_PREC_FLOAT ? "float" : "double");
    if (spec.train.sharpness)
        printf("# sharpness_initial is computed before epoch 0's line\n");
    isw_record_t rec;
    isw_record_init(&rec, 0);
    st = isw_train_run(&rec, &spec, &data, print_epoch, stdout, &err);
    isw_data_free(&data);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        return isw_cli_exit_status(st);
    }
    print_record(stdout, &rec);
    if (spec.train.sharpness && rec.sharpness_initial > 0)
        printf("  %-26s %.9g\n", "lr_times_sharpness_over_2", spec.train.lr * rec.sharpness_initial / 2);
    return ISW_EXIT_OK;
}

/* ---- plan ------------------------------------------------------------- */

/* Runs per second rank 0 can hand out and journal, measured with
 * bench/bench_coordinator.sh on zero-length runs (25-35 us per run). */
#define COORDINATOR_RUNS_PER_S 3e4

static void print_axis(const isw_axis_t *ax)
{
    isw_axis_buf_t na, nb;
    const char *a = isw_axis_text(ax, 0, &na), *b = isw_axis_text(ax, ax->n - 1, &nb);
    static const char *const forms[] = {"list", "linspace", "logspace", "range"};
    printf("  %-24s %6zu values  %s", ax->key, ax->n, forms[ax->form]);
    if (ax->n <= 6) {
        printf(":");
        for (size_t i = 0; i < ax->n; i++) {
            printf(" %s", isw_axis_text(ax, i, &na));
        }
        printf("\n");
    } else {
        printf(" %s .. %s\n", a, b);
    }
}

int isw_cli_plan(const isw_cli_args_t *args)
{
    isw_error_t err;
    isw_error_clear(&err);
    isw_spec_t spec;
    isw_sweep_t sweep;
    memset(&sweep, 0, sizeof sweep);
    isw_grid_t grid;
    isw_data_t data;
    memset(&data, 0, sizeof data);
    int st = isw_cli_load_spec(&spec, &sweep, args, &err);
    if (st == ISW_OK)
        st = isw_grid_init(&grid, &sweep, &err);
    if (st == ISW_OK)
        st = isw_grid_validate(&grid, &spec, &err);
    /* every data group's dataset is read and checked, as `run` does */
    for (uint64_t g = 1; st == ISW_OK && g < grid.ngroups; g++) {
        isw_spec_t gs;
        if ((st = isw_grid_group_spec(&gs, &grid, &spec, g, &err)) == ISW_OK &&
            (st = isw_data_load(&data, &gs, &err)) == ISW_OK)
            isw_data_free(&data);
    }
    isw_spec_t g0;
    if (st == ISW_OK && (st = isw_grid_group_spec(&g0, &grid, &spec, 0, &err)) == ISW_OK)
        st = isw_data_load(&data, &g0, &err);
    if (st != ISW_OK) {
        if (err.file[0] == '\0')
            snprintf(err.file, sizeof err.file, "%s", args->path);
        isw_error_print(stderr, &err);
        isw_sweep_free(&sweep);
        return isw_cli_exit_status(st);
    }
    int ranks = args->ranks > 0 ? args->ranks : 1;
    printf("spec       %s (%s)\n", spec.name, args->path);
    printf("data       %zu samples, %zu inputs, %zu outputs%s\n", data.n, data.nin, data.nout,
           data.classes ? " (one-hot classes)" : "");
    printf("axes       %d (the first varies slowest)\n", sweep.naxes);
    for (int a = 0; a < sweep.naxes; a++)
        print_axis(&sweep.axes[a]);
    printf("runs       %llu", (unsigned long long)grid.ntasks);
    if (sweep.refine.enabled && grid.lr_axis >= 0) {
        uint64_t nlr = grid.dims[grid.lr_axis];
        uint64_t nseed = grid.seed_axis >= 0 ? grid.dims[grid.seed_axis] : 1;
        uint64_t slices = grid.ntasks / (nlr * nseed);
        printf(" + at most %llu refinement probes (%llu slices x 2 edges x %d rounds x %llu seeds)",
               (unsigned long long)(slices * 2 * (uint64_t)sweep.refine.rounds * nseed),
               (unsigned long long)slices, sweep.refine.rounds, (unsigned long long)nseed);
    }
    printf("\n");

    /* Cost of the first task's model (axes may change it per task). */
    isw_spec_t first;
    st = isw_grid_task_spec(&first, &grid, &spec, 0, &err);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        isw_data_free(&data);
        isw_sweep_free(&sweep);
        return isw_cli_exit_status(st);
    }
    if ((st = isw_grid_check_memory(&grid, &spec, &data, &err)) != ISW_OK) {
        if (err.file[0] == '\0')
            snprintf(err.file, sizeof err.file, "%s", args->path);
        isw_error_print(stderr, &err);
        isw_data_free(&data);
        isw_sweep_free(&sweep);
        return isw_cli_exit_status(st);
    }
    size_t B = first.train.batch > 0 && (size_t)first.train.batch < data.n ? (size_t)first.train.batch
                                                                           : data.n;
    double flops_epoch = isw_mlp_flops(&first.model, data.nin, data.nout, data.n);
    size_t evalrows = data.n < 2048 ? data.n : 2048;
    size_t net_bytes = isw_mlp_nbytes(&first.model, data.nin, data.nout, first.train.precision,
                                      B > evalrows ? B : evalrows);
    double data_bytes = (double)isw_data_nfloats(data.n, data.nin, data.nout) * sizeof(float);
    printf("per run    %zu parameters, %.3g FLOP per epoch (training; an evaluation pass "
           "costs about as much again), %d epochs at most\n",
           isw_mlp_nparams(&first.model, data.nin, data.nout), flops_epoch, first.train.epochs);
    printf("memory     %.1f MiB per rank for the network, %.1f MiB per node for the "
           "shared dataset\n", (double)net_bytes / 1048576.0, data_bytes / 1048576.0);

    /* Calibration: one epoch of up to three tasks spread over the grid. */
    uint64_t picks[3] = {0, grid.ntasks / 2, grid.ntasks - 1};
    double secs = 0.0;
    int ncal = 0;
    for (int i = 0; i < 3; i++) {
        if (i > 0 && picks[i] == picks[i - 1])
            continue;
        isw_spec_t s;
        if (isw_grid_task_spec(&s, &grid, &spec, picks[i], &err) != ISW_OK)
            continue;
        int full_epochs = s.train.epochs;
        s.train.epochs = s.train.epochs > 0 ? 1 : 0;
        s.criteria.stop_on_target = s.criteria.stop_on_flat = 0;
        s.train.sharpness = 0;
        isw_record_t rec;
        isw_record_init(&rec, picks[i]);
        if (isw_train_run(&rec, &s, &data, NULL, NULL, &err) != ISW_OK)
            continue;
        /* one epoch plus two evaluation passes: count it as 1.5 epochs of a
         * full-length run (one pass per epoch) */
        double per_epoch = rec.seconds / (s.train.epochs ? 1.5 : 1.0);
        secs += per_epoch * (full_epochs > 0 ? full_epochs : 1);
        ncal++;
    }
    if (ncal > 0) {
        double mean = secs / ncal;
        double total = mean * (double)grid.ntasks / ranks;
        printf("estimate   %.3g s per full-length run (from %d calibration run%s); "
               "at most %.3g s = %.2f h on %d rank%s\n"
               "           (diverging and early-stopping runs end sooner)\n",
               mean, ncal, ncal > 1 ? "s" : "", total, total / 3600.0, ranks,
               ranks > 1 ? "s" : "");
        /* Rank 0 hands out and journals every run: on the order of 3e4
         * runs/s (bench/bench_coordinator.sh).  Very short runs on many
         * ranks hit that ceiling before they run out of cores. */
        double floor_s = (double)grid.ntasks / COORDINATOR_RUNS_PER_S;
        if (floor_s > total)
            printf("           note: rank 0 journals about %.0f runs/s, so this sweep takes at "
                   "least %.3g s however many ranks run it\n",
                   COORDINATOR_RUNS_PER_S, floor_s);
    }
    isw_data_free(&data);
    isw_sweep_free(&sweep);
    return ISW_EXIT_OK;
}

/* ---- summarize ---------------------------------------------------------- */

typedef struct {
    const isw_runs_t *runs;
    const size_t *order;                 /* run indices sorted by task */
} merged_t;

static int write_merged(FILE *out, void *user, isw_error_t *err)
{
    const merged_t *m = user;
    const isw_runs_t *r = m->runs;
    fputs("task", out);
    for (int a = 0; a < r->naxes; a++) {
        fputc(',', out);
        isw_csv_write_field(out, r->axes[a]);
    }
    for (int c = 0; c < ISW_RUNS_NRECORD_COLUMNS; c++)
        fprintf(out, ",%s", ISW_RUNS_RECORD_COLUMNS[c]);
    fputc('\n', out);
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

static int write_bytes(FILE *out, void *user, isw_error_t *err)
{
    const bytes_t *b = user;
    if (fwrite(b->text, 1, b->len, out) != b->len)
        return isw_error_set(err, ISW_EIO, "spec.yaml", 0, "cannot write the merged spec");
    return ISW_OK;
}

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

/* `run --shard K/N` journals into OUTDIR/shard-K-of-N.  Merges every shard's
 * runs into OUTDIR/runs.csv (sorted by task, as an MPI run's sorted
 * journal) and copies the resolved spec, so the statistics come out as an
 * MPI run's.  Returns ISW_OK with *merged 0 when OUTDIR has no shards. */
static int merge_shards(const char *outdir, int *merged, isw_error_t *err)
{
    *merged = 0;
    char pattern[ISW_PATH_MAX + 32];
    snprintf(pattern, sizeof pattern, "%s/journal.meta", outdir);
    if (access(pattern, F_OK) == 0)
        return ISW_OK;                   /* an MPI run's own journal: no merging */
    snprintf(pattern, sizeof pattern, "%s/shard-*-of-*", outdir);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0)
        return ISW_OK;
    int n = 0, st = ISW_OK;
    const char *base = strrchr(g.gl_pathv[0], '/');
    if (sscanf(base ? base + 1 : g.gl_pathv[0], "shard-%*d-of-%d", &n) != 1 || n < 1 ||
        (size_t)n != g.gl_pathc) {
        st = isw_error_set(err, ISW_EINVAL, outdir, 0,
                           "found %zu shard directories, expected all N of shard-K-of-N "
                           "(K = 0..N-1) from the same --shard K/N job array",
                           g.gl_pathc);
        globfree(&g);
        return st;
    }
    globfree(&g);
    shard_t *shards = calloc((size_t)n, sizeof *shards);
    const char **paths = calloc((size_t)n, sizeof *paths);
    if (!shards || !paths) {
        free(shards);
        free(paths);
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
    }
    for (int k = 0; k < n; k++)
        shards[k].lock = -1;
    for (int k = 0; k < n && st == ISW_OK; k++) {
        st = shard_open(&shards[k], k ? &shards[0] : NULL, outdir, k, n, err);
        paths[k] = shards[k].runs;
    }
    isw_runs_t runs = {0};
    size_t *order = NULL;
    if (st == ISW_OK)
        st = isw_runs_read_files(&runs, paths, n, err);
    if (st == ISW_OK) {
        order = malloc((runs.nruns ? runs.nruns : 1) * sizeof *order);
        if (!order)
            st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
    }
    if (st == ISW_OK) {
        task_index_t *ti = malloc((runs.nruns ? runs.nruns : 1) * sizeof *ti);
        if (!ti) {
            st = isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < runs.nruns; i++)
            ti[i] = (task_index_t){runs.runs[i].rec.task, i};
        qsort(ti, runs.nruns, sizeof *ti, cmp_task);
        for (size_t i = 0; i < runs.nruns; i++)
            order[i] = ti[i].index;
        free(ti);
        merged_t m = {&runs, order};
        st = isw_file_write_atomic(outdir, "runs.csv", write_merged, &m, err);
    }
    if (st == ISW_OK) {
        char spec[ISW_PATH_MAX + 80];
        snprintf(spec, sizeof spec, "%s/spec.yaml", shards[0].dir);
        st = isw_file_write_atomic(outdir, "spec.yaml", write_bytes, &shards[0].spec, err);
        /* an unfinished shard is worth a warning, not a refusal: partial
         * maps are still maps */
        isw_spec_t s;
        isw_sweep_t sw;
        isw_error_t e2;
        isw_grid_t grid;
        if (st == ISW_OK && isw_spec_load(&s, &sw, spec, &e2) == ISW_OK) {
            if (isw_grid_init(&grid, &sw, &e2) == ISW_OK) {
                uint64_t have = 0;
                for (size_t i = 0; i < runs.nruns; i++)
                    have += runs.runs[i].rec.task < grid.ntasks;
                if (have < grid.ntasks)
                    fprintf(stderr, "initsweep: warning: the shards hold %llu of the %llu grid "
                                    "runs; the statistics cover those\n",
                            (unsigned long long)have, (unsigned long long)grid.ntasks);
            }
            isw_sweep_free(&sw);
        }
        *merged = n;
    }
cleanup:
    for (int k = 0; k < n; k++) {
        isw_journal_unlock(shards[k].lock);
        free(shards[k].spec.text);
    }
    free(shards);
    free(paths);
    free(order);
    isw_runs_free(&runs);
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
    if (st == ISW_OK)
        st = isw_stats_summarize(args->path, &err);
    isw_journal_unlock(lock);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        return isw_cli_exit_status(st);
    }
    printf("wrote %s/cells.csv, boundary.csv, fit.csv\n", args->path);
    return ISW_EXIT_OK;
}
