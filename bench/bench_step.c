/* bench_step: time of one SGD step of the MLP kernels, beside the machine's
 * single-thread OpenBLAS gemm peak measured in the same run.
 *
 * Cases (bench/README.md):
 *   a  784-15-10 sigmoid, sigmoid output, mse, mini-batch 10, float
 *      (Fashion-MNIST when present, else random data of that shape)
 *   b  16-16-1 tanh, linear output, mse, mean_field, full batch of 272
 *      random samples, 1,000 steps per repeat, float and double
 * Variants:
 *   preloaded  forward + backward + update on a batch already in net->X/Y
 *   trainer    what isw_train_run does per step: mini-batch: load_batch from
 *              a shuffled index (reshuffled every epoch), forward, batch loss,
 *              backward, update; full batch: load_batch, forward,
 *              stats_accumulate, backward, stats_get, grad_norms, update,
 *              params_finite
 * Each (case, variant) is warmed up, then timed `repeats` times; a repeat is
 * `steps` consecutive steps; the median and minimum of the per-step times
 * are reported.  GFLOP/s counts isw_mlp_flops (6 B sum(in*out) per step).
 *
 * Output: an aligned table, then one `RESULT key=value ...` line per row. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>

#include "initsweep/common.h"
#include "initsweep/data.h"
#include "initsweep/train.h"
#include "initsweep/init.h"
#include "initsweep/mlp.h"
#include "initsweep/spec.h"

#define MAX_REPEATS 101
#define FMNIST_IMAGES "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
#define FMNIST_LABELS "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"

typedef struct {
    int repeats;          /* timed repeats per row */
    double scale_steps;   /* multiplies every case's steps per repeat */
} options_t;

/* One measured row of the table. */
typedef struct {
    const char *name;     /* case id, e.g. "a_784-15-10_b10" */
    const char *variant;  /* preloaded | trainer */
    isw_prec_t prec;
    long steps;           /* steps per repeat */
    int repeats;
    double us_median, us_min;   /* microseconds per step */
    double flops;               /* per step, isw_mlp_flops */
    double peak;                /* GFLOP/s of gemm in the same precision */
    const char *data;           /* what the inputs were */
} row_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- gemm peak ------------------------------------------------------------ */

/* Best GFLOP/s of C = A B on n x n matrices over `tries` calls after one
 * warm-up call.  A, B, C are (n, n) row-major of the precision. */
static double gemm_peak(isw_prec_t prec, int n, int tries)
{
    size_t nn = (size_t)n * (size_t)n;
    size_t el = prec == ISW_PREC_FLOAT ? sizeof(float) : sizeof(double);
    void *A = malloc(nn * el), *B = malloc(nn * el), *C = calloc(nn, el);
    if (!A || !B || !C) {
        free(A);
        free(B);
        free(C);
        return NAN;
    }
    for (size_t i = 0; i < nn; i++) {
        double a = (double)(i % 97) / 97.0 - 0.5, b = (double)(i % 89) / 89.0 - 0.5;
        if (prec == ISW_PREC_FLOAT) {
            ((float *)A)[i] = (float)a;
            ((float *)B)[i] = (float)b;
        } else {
            ((double *)A)[i] = a;
            ((double *)B)[i] = b;
        }
    }
    double best = 0;
    for (int t = 0; t <= tries; t++) {
        double t0 = isw_now();
        if (prec == ISW_PREC_FLOAT)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
                        A, n, B, n, 0.0f, C, n);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0,
                        A, n, B, n, 0.0, C, n);
        double dt = isw_now() - t0;
        double gf = 2.0 * (double)n * (double)n * (double)n / dt * 1e-9;
        if (t > 0 && gf > best)
            best = gf;
    }
    free(A);
    free(B);
    free(C);
    return best;
}

/* ---- one case --------------------------------------------------------------- */

typedef struct {
    const char *name;
    isw_model_spec_t model;
    isw_init_spec_t init;
    isw_prec_t prec;
    const isw_data_t *data;
    size_t B;             /* rows per step; data->n for full batch */
    double lr;
    long steps;           /* per repeat */
    const char *data_desc;
} case_t;

typedef struct {
    isw_mlp_t net;
    size_t *perm;         /* (n) shuffled row order, trainer variant */
    size_t pos;           /* next row of perm */
    gsl_rng *rshuf;
    double norms[ISW_MAX_LAYERS];
    long nonfinite;       /* steps that ended with non-finite parameters */
} state_t;

/* The preloaded step: the batch is already in net->X and net->Y. */
static void step_preloaded(state_t *s, const case_t *c)
{
    isw_mlp_forward(&s->net, c->B);
    isw_mlp_backward(&s->net, c->B, 1.0 / (double)c->B, 0);
    isw_mlp_sgd_step(&s->net, c->lr, NULL, 0.0);
}

/* The trainer's step (train.c): mini-batch from a shuffled index, or the
 * full-batch evaluate-then-update step. */
static void step_trainer(state_t *s, const case_t *c)
{
    isw_mlp_t *net = &s->net;
    size_t n = c->data->n;
    if (c->B < n) {
        if (s->pos + c->B > n) {
            isw_train_shuffle(s->perm, n, s->rshuf);
            s->pos = 0;
        }
        isw_mlp_load_batch(net, c->data, s->perm + s->pos, 0, c->B);
        s->pos += c->B;
        isw_mlp_forward(net, c->B);
        double bl = isw_mlp_loss(net, c->B) / (double)c->B;
        if (!isfinite(bl))
            s->nonfinite++;
        isw_mlp_backward(net, c->B, 1.0 / (double)c->B, 0);
        isw_mlp_sgd_step(net, c->lr, NULL, 0.0);
    } else {
        isw_mlp_stats_t st;
        isw_mlp_stats_reset(net);
        isw_mlp_load_batch(net, c->data, NULL, 0, n);
        isw_mlp_forward(net, n);
        isw_mlp_stats_accumulate(net, n, 1e-3);
        isw_mlp_backward(net, n, 1.0 / (double)n, 0);
        isw_mlp_stats_get(net, &st);
        isw_mlp_grad_norms(net, s->norms);
        if (!isw_mlp_params_finite(net) || !isfinite(st.loss))
            s->nonfinite++;
        isw_mlp_sgd_step(net, c->lr, NULL, 0.0);
    }
}

/* Times one (case, variant); fills row.  Returns ISW_OK or a status. */
static int run_case(row_t *row, const case_t *c, int trainer, const options_t *opt,
                    double peak)
{
    state_t s = {0};
    const isw_data_t *d = c->data;
    int st = isw_mlp_alloc(&s.net, &c->model, d->nin, d->nout, c->prec, c->B);
    if (st != ISW_OK)
        return st;
    s.net.classification = d->classes > 0;
    double *scratch = malloc(s.net.nparams * sizeof *scratch);
    s.perm = malloc(d->n * sizeof *s.perm);
    gsl_rng *rinit = isw_init_rng(1, 0, ISW_STREAM_INIT);
    s.rshuf = isw_init_rng(1, 0, ISW_STREAM_SHUFFLE);
    if (!scratch || !s.perm || !rinit || !s.rshuf) {
        st = ISW_ENOMEM;
        goto done;
    }
    isw_init_params(&s.net, 0, &c->init, rinit, scratch);
    for (size_t i = 0; i < d->n; i++)
        s.perm[i] = i;
    isw_train_shuffle(s.perm, d->n, s.rshuf);
    /* The preloaded batch: the first B rows of a shuffled order. */
    isw_mlp_load_batch(&s.net, d, s.perm, 0, c->B);

    long steps = (long)ceil((double)c->steps * opt->scale_steps);
    if (steps < 1)
        steps = 1;
    double us[MAX_REPEATS];
    /* Warm-up: a quarter of a repeat, at least 10 steps (caches, page faults,
     * OpenBLAS's first-call setup). */
    long warm = steps / 4 > 10 ? steps / 4 : 10;
    for (long k = 0; k < warm; k++)
        trainer ? step_trainer(&s, c) : step_preloaded(&s, c);
    for (int r = 0; r < opt->repeats; r++) {
        double t0 = isw_now();
        if (trainer)
            for (long k = 0; k < steps; k++)
                step_trainer(&s, c);
        else
            for (long k = 0; k < steps; k++)
                step_preloaded(&s, c);
        us[r] = (isw_now() - t0) * 1e6 / (double)steps;
    }
    if (!isw_mlp_params_finite(&s.net))
        s.nonfinite++;

    row->name = c->name;
    row->variant = trainer ? "trainer" : "preloaded";
    row->prec = c->prec;
    row->steps = steps;
    row->repeats = opt->repeats;
    row->us_median = median(us, opt->repeats);
    row->us_min = us[0];   /* sorted by median() */
    row->flops = isw_mlp_flops(&c->model, d->nin, d->nout, c->B);
    row->peak = peak;
    row->data = c->data_desc;
    if (s.nonfinite)
        fprintf(stderr, "bench_step: warning: %s %s: parameters became non-finite "
                "(timings may be off)\n", c->name, row->variant);
done:
    free(scratch);
    free(s.perm);
    gsl_rng_free(rinit);
    gsl_rng_free(s.rshuf);
    isw_mlp_free(&s.net);
    return st;
}

/* ---- data ----------------------------------------------------------------- */

/* A N(0,1) draw by Box-Muller (gsl_randist.h would pull in gsl_cblas.h,
 * whose declarations clash with OpenBLAS's cblas.h). */
static double gaussian(gsl_rng *r)
{
    double u = gsl_rng_uniform_pos(r), v = gsl_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v); /* 2 pi */
}

/* n samples of N(0,1) inputs; classification (one-hot of a uniform label)
 * when classes > 0, else N(0,1) targets. */
static int random_data(isw_data_t *d, size_t n, size_t nin, size_t nout, int classes,
                       uint64_t seed, isw_error_t *err)
{
    int st = isw_data_alloc(d, n, nin, nout, classes, err);
    if (st != ISW_OK)
        return st;
    gsl_rng *r = isw_init_rng(seed, 0, ISW_STREAM_DATA);
    if (!r) {
        isw_data_free(d);
        return ISW_ENOMEM;
    }
    float *X = d->buf, *Y = d->buf + n * nin;
    for (size_t i = 0; i < n * nin; i++)
        X[i] = (float)gaussian(r);
    for (size_t i = 0; i < n; i++) {
        if (classes > 0)
            Y[i * nout + gsl_rng_uniform_int(r, (unsigned long)nout)] = 1.0f;
        else
            for (size_t j = 0; j < nout; j++)
                Y[i * nout + j] = (float)gaussian(r);
    }
    gsl_rng_free(r);
    return ISW_OK;
}

/* ---- main ------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench_step [--repeats N] [--scale X] [--random-data] [--peak]\n"
            "  --repeats N    timed repeats per row (default 15, at most %d)\n"
            "  --scale X      multiply every case's steps per repeat (default 1)\n"
            "  --random-data  case a on random data even when Fashion-MNIST is present\n"
            "  --peak         print the sgemm/dgemm peaks only\n",
            MAX_REPEATS);
}

static const char *prec_name(isw_prec_t p)
{
    return p == ISW_PREC_FLOAT ? "float" : "double";
}

int main(int argc, char **argv)
{
    options_t opt = {.repeats = 15, .scale_steps = 1.0};
    int force_random = 0, peak_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            opt.repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            opt.scale_steps = atof(argv[++i]);
        else if (!strcmp(argv[i], "--random-data"))
            force_random = 1;
        else if (!strcmp(argv[i], "--peak"))
            peak_only = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (opt.repeats < 1 || opt.repeats > MAX_REPEATS || !(opt.scale_steps > 0)) {
        usage(stderr);
        return 2;
    }
    gsl_set_error_handler_off();
    isw_mlp_blas_threads(1);

    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    printf("bench_step: %s; OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s, 1 thread\n",
           openblas_get_config(), ct ? ct : "(unset)", l2 ? l2 : "(unset)");

    /* Peaks first, on a quiet cache; best of 7 after a warm-up call. */
    double peak_s = gemm_peak(ISW_PREC_FLOAT, 1024, 7);
    double peak_d = gemm_peak(ISW_PREC_DOUBLE, 1024, 7);
    printf("peak: sgemm 1024^3 %.1f GFLOP/s, dgemm 1024^3 %.1f GFLOP/s (best of 7)\n",
           peak_s, peak_d);
    printf("RESULT case=peak_sgemm_1024 prec=float gflops=%.3f\n", peak_s);
    printf("RESULT case=peak_dgemm_1024 prec=double gflops=%.3f\n", peak_d);
    if (peak_only)
        return 0;

    isw_error_t err;
    isw_error_clear(&err);
    isw_spec_t base;
    isw_spec_defaults(&base);

    /* Case a data: Fashion-MNIST (first 10,000; the step does not depend on
     * n) or random data of the same shape. */
    isw_data_t da = {0}, db = {0};
    const char *desc_a = "fashion-mnist[10000]";
    int st = ISW_EINVAL;
    if (!force_random && access(FMNIST_IMAGES, R_OK) == 0 && access(FMNIST_LABELS, R_OK) == 0)
        st = isw_data_read_idx(&da, FMNIST_IMAGES, FMNIST_LABELS, 10000, 255.0, 10, &err);
    if (st != ISW_OK) {
        desc_a = "random[10000]";
        st = random_data(&da, 10000, 784, 10, 10, 1, &err);
    }
    if (st == ISW_OK)
        st = random_data(&db, 272, 16, 1, 0, 2, &err);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        isw_data_free(&da);
        return 1;
    }

    case_t cases[3];
    /* a: Nielsen's network; U[-0.5, 0.5] (the one that learns, so no
     * saturation tricks the timing), lr 0.5. */
    cases[0] = (case_t){.name = "a_784-15-10_sigmoid_b10", .model = base.model,
                        .init = base.init, .prec = ISW_PREC_FLOAT, .data = &da, .B = 10,
                        .lr = 0.5, .steps = 5000, .data_desc = desc_a};
    cases[0].model.nhidden = 1;
    cases[0].model.hidden[0] = 15;
    cases[0].model.activation = ISW_ACT_SIGMOID;
    cases[0].model.output = ISW_OUT_SIGMOID;
    cases[0].model.loss = ISW_LOSS_MSE;
    cases[0].model.bias = 1;
    cases[0].model.parameterization = ISW_PARAM_STANDARD;
    cases[0].init.dist = ISW_DIST_UNIFORM;
    cases[0].init.scale = 0.5;
    cases[0].init.bias = ISW_BIAS_SAME;
    /* b: 16-16-1 tanh, mean field, full batch 272, N(0,1) init, lr 0.1. */
    cases[1] = (case_t){.name = "b_16-16-1_tanh_full272", .model = base.model,
                        .init = base.init, .prec = ISW_PREC_FLOAT, .data = &db, .B = 272,
                        .lr = 0.1, .steps = 1000, .data_desc = "random[272]"};
    cases[1].model.nhidden = 1;
    cases[1].model.hidden[0] = 16;
    cases[1].model.activation = ISW_ACT_TANH;
    cases[1].model.output = ISW_OUT_LINEAR;
    cases[1].model.loss = ISW_LOSS_MSE;
    cases[1].model.bias = 1;
    cases[1].model.parameterization = ISW_PARAM_MEAN_FIELD;
    cases[1].init.dist = ISW_DIST_NORMAL;
    cases[1].init.scale = 1.0;
    cases[1].init.bias = ISW_BIAS_ZERO;
    cases[2] = cases[1];
    cases[2].prec = ISW_PREC_DOUBLE;

    row_t rows[6];
    int nrows = 0;
    for (int c = 0; c < 3 && st == ISW_OK; c++)
        for (int trainer = 0; trainer < 2 && st == ISW_OK; trainer++) {
            double peak = cases[c].prec == ISW_PREC_FLOAT ? peak_s : peak_d;
            st = run_case(&rows[nrows], &cases[c], trainer, &opt, peak);
            if (st == ISW_OK)
                nrows++;
        }
    if (st != ISW_OK) {
        fprintf(stderr, "bench_step: %s\n", isw_strerror(st));
        isw_data_free(&da);
        isw_data_free(&db);
        return 1;
    }

    printf("\n%-24s %-6s %-9s %-20s %6s %4s %10s %10s %8s %8s %8s\n", "case", "prec",
           "variant", "data", "steps", "reps", "us/step", "us_min", "GFLOP/s", "peak",
           "ratio");
    for (int i = 0; i < nrows; i++) {
        const row_t *r = &rows[i];
        double gf = r->flops / (r->us_median * 1e3);
        printf("%-24s %-6s %-9s %-20s %6ld %4d %10.3f %10.3f %8.3f %8.1f %8.4f\n", r->name,
               prec_name(r->prec), r->variant, r->data, r->steps, r->repeats, r->us_median,
               r->us_min, gf, r->peak, gf / r->peak);
    }
    printf("(us/step: median over repeats; GFLOP/s from the median and isw_mlp_flops; "
           "ratio = achieved / gemm peak)\n\n");
    for (int i = 0; i < nrows; i++) {
        const row_t *r = &rows[i];
        double gf = r->flops / (r->us_median * 1e3);
        printf("RESULT case=%s prec=%s variant=%s impl=initsweep steps=%ld repeats=%d "
               "us_per_step=%.4f us_min=%.4f flops_per_step=%.0f gflops=%.4f "
               "peak_gflops=%.3f ratio=%.5f\n",
               r->name, prec_name(r->prec), r->variant, r->steps, r->repeats, r->us_median,
               r->us_min, r->flops, gf, r->peak, gf / r->peak);
    }
    isw_data_free(&da);
    isw_data_free(&db);
    return 0;
}
