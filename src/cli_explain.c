/* `initsweep explain SPEC.yaml`: trains the spec's run with every
 * diagnostic on, looks at its init, names the mechanism (explain.h), then
 * trains the counterfactuals the diagnosis chose, spread over the ranks
 * under mpirun, and prints the verdict on rank 0. */
#include "initsweep/cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "initsweep/explain.h"
#include "initsweep/run.h"
#include "initsweep/sched.h"

typedef struct {
    isw_epoch_t *ep;
    int n, cap, failed;
} epochs_t;

static int keep_epoch(const isw_epoch_t *ep, void *user)
{
    epochs_t *e = user;
    if (e->n == e->cap) {
        int cap = e->cap ? 2 * e->cap : 64;
        isw_epoch_t *p = realloc(e->ep, (size_t)cap * sizeof *p);
        if (!p) {
            e->failed = 1;
            return 0;
        }
        e->ep = p;
        e->cap = cap;
    }
    e->ep[e->n++] = *ep;
    return 0;
}

/* Every run explain trains: the diagnostics it reads on. */
static void instrument(isw_spec_t *spec)
{
    spec->train.sharpness = 1;           /* lambda_0: lr lambda_0 against 2 */
    spec->train.eval_gradient = 1;       /* |grad| per layer at every evaluation */
}

typedef struct {
    const isw_spec_t *base;
    const isw_data_t *data;
    isw_counterfactual_t *cf;
} cf_job_t;

/* One counterfactual: the base spec with its --set applied, trained. */
static void run_cf(size_t i, void *result, void *user)
{
    const cf_job_t *job = user;
    isw_counterfactual_t *c = result;
    *c = job->cf[i];
    isw_error_t err;
    isw_error_clear(&err);
    isw_spec_t spec = *job->base;
    int st = isw_spec_override(&spec, NULL, c->set, &err);
    if (st == ISW_OK) {
        instrument(&spec);
        isw_record_init(&c->rec, 0);
        st = isw_train_run(&c->rec, &spec, job->data, NULL, NULL, &err);
    }
    c->status = st;
    if (st != ISW_OK)
        snprintf(c->error, sizeof c->error, "%.230s", err.text);
}

/* Whether this process is one rank of an mpirun/srun job of several. */
static int under_mpi(void)
{
    const char *v = getenv("OMPI_COMM_WORLD_SIZE");
    if (!v)
        v = getenv("PMI_SIZE");
    return v && atoi(v) > 1;
}

int isw_cli_explain(const isw_cli_args_t *args)
{
    isw_error_t err;
    isw_error_clear(&err);
    isw_spec_t spec;
    int st = isw_cli_run_spec(&spec, args, &err);
    isw_data_t data;
    if (st == ISW_OK)
        st = isw_data_load(&data, &spec, &err);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        return isw_exit_status(st);
    }
    isw_explain_t *ex = calloc(1, sizeof *ex);
    epochs_t eps = {0};
    isw_spec_t run = spec;
    instrument(&run);
    if (!ex)
        st = isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory");
    if (st == ISW_OK) {
        isw_record_init(&ex->rec, 0);
        st = isw_train_run(&ex->rec, &run, &data, keep_epoch, &eps, &err);
    }
    if (st == ISW_OK && eps.failed)
        st = isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory for the trajectory");
    if (st == ISW_OK)
        st = isw_train_probe_init(&ex->probe, &run, &data, &err);
    int root = 1;
    if (st == ISW_OK) {
        ex->ep = eps.ep;
        ex->nep = eps.n;
        isw_explain_diagnose(ex, &spec, &data);
        cf_job_t job = {&spec, &data, ex->cf};
        isw_counterfactual_t *out = calloc((size_t)ex->ncf + 1, sizeof *out);
        if (!out) {
            st = isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory");
        } else if (under_mpi()) {
            if (isw_sched_map((size_t)ex->ncf, sizeof *out, run_cf, &job, out, &root) != ISW_OK)
                st = isw_error_set(&err, ISW_EMPI, "", 0, "MPI could not start");
        } else {
            for (int i = 0; i < ex->ncf; i++)
                run_cf((size_t)i, &out[i], &job);
        }
        if (st == ISW_OK && root) {
            memcpy(ex->cf, out, (size_t)ex->ncf * sizeof *out);
            isw_explain_conclude(ex, &spec);
            isw_explain_print(stdout, ex, &spec, args->path, args->json);
        }
        free(out);
    }
    free(eps.ep);
    free(ex);
    isw_data_free(&data);
    if (st != ISW_OK) {
        isw_error_print(stderr, &err);
        return isw_exit_status(st);
    }
    return ISW_EXIT_OK;
}
