/* The MPI layer of `initsweep run`: signals, the workers, the node-shared
 * dataset, the set-up every rank agrees on and the phases of a run
 * (sched_internal.h has the protocol; sched_coord.c is rank 0's side). */
#include "sched_internal.h"


#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "initsweep/data.h"
#include "initsweep/grid.h"
#include "initsweep/journal.h"
#include "initsweep/mlp.h"
#include "initsweep/refine.h"
#include "initsweep/train.h"
#include "isw_revision.h"

/* Set by the signal handler, read by the loops: the one piece of mutable
 * static state, as a handler can reach nothing else. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

void isw_sched_nap(void)
{
    struct timespec ts = {0, POLL_NS};
    nanosleep(&ts, NULL);
}

/* Under mpirun or srun a rank whose launcher died (a double Ctrl-C kills
 * mpirun at once) is reparented: it must stop as if signalled, with the
 * journal flushed, rather than keep the OUTDIR lock and journal on. */
int isw_sched_interrupted(const ctx_t *c)
{
    if (!got_signal && c->parent > 0 && getppid() != c->parent)
        got_signal = SIGHUP;
    return got_signal != 0;
}

/* Abort the job after work has begun: the message names this rank and host.
 * The journal on rank 0 stays valid (every line is written whole). */
void isw_sched_die(const ctx_t *c, const isw_error_t *err, const char *what)
{
    fprintf(stderr, "initsweep: rank %d on %s: %s: ", c->rank, c->host, what);
    isw_error_print(stderr, err);
    fflush(stderr);
    MPI_Abort(c->comm, 1);
}

void isw_sched_train_item(const ctx_t *c, const work_item_t *w, isw_epoch_fn fn, void *fn_user,
                          isw_record_fn done, void *done_user)
{
    const isw_run_job_t *job = c->job;
    isw_error_t err;
    isw_error_clear(&err);
    uint64_t tasks[ISW_MAX_LANES];
    size_t n = 1;
    if (!w->probe)
        n = isw_grid_unit_tasks(&job->grid, w->id, tasks);
    isw_spec_t *specs = malloc(n * sizeof *specs);
    isw_record_t *recs = malloc(n * sizeof *recs);
    if (!specs || !recs) {
        isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory for a pack of %zu runs", n);
        isw_sched_die(c, &err, "training failed");
    }
    int st = ISW_OK;
    if (w->probe) {
        size_t idx[ISW_MAX_AXES];
        recs[0].task = w->id;
        if (!job->refine || isw_refine_probe_index(job->refine, w->id, idx) != ISW_OK)
            st = isw_error_set(&err, ISW_EINVAL, "", 0, "task %llu is outside the grid",
                               (unsigned long long)w->id);
        else
            st = isw_grid_point_spec(&specs[0], &job->grid, &job->spec, idx, w->lr, &err);
    }
    for (size_t i = 0; !w->probe && i < n && st == ISW_OK; i++) {
        recs[i].task = tasks[i];
        st = isw_grid_task_spec(&specs[i], &job->grid, &job->spec, tasks[i], &err);
    }
    if (st != ISW_OK)
        isw_sched_die(c, &err, "cannot build the run's spec");
    if (isw_train_pack(recs, specs, n, c->data, fn, fn_user, done, done_user, &err) != ISW_OK)
        isw_sched_die(c, &err, "training failed");
    free(specs);
    free(recs);
}

/* ---- worker ----------------------------------------------------------- */

typedef struct {
    ctx_t *c;
    work_item_t queue[2 * CHUNK_MAX];
    int qhead, qlen;
    work_item_t inbox[CHUNK_MAX];
    MPI_Request recv;                    /* always posted for rank 0's next message */
    int requested;                       /* a request is outstanding */
    int stop;                            /* STOP received */
    int abandon;
    isw_record_t outbox[RESULTS_MAX];    /* records not yet sent */
    int nout;
    double t_flush;                      /* isw_now() of the last send */
} worker_t;

static void worker_post(worker_t *wk)
{
    MPI_Irecv(wk->inbox, (int)sizeof wk->inbox, MPI_BYTE, 0, MPI_ANY_TAG, wk->c->comm, &wk->recv);
}

/* Takes rank 0's message if one has arrived. */
static void worker_poll(worker_t *wk)
{
    if (wk->stop)
        return;
    int flag;
    MPI_Status s;
    MPI_Test(&wk->recv, &flag, &s);
    if (!flag)
        return;
    if (s.MPI_TAG == TAG_STOP) {
        wk->stop = 1;
        return;
    }
    int bytes;
    MPI_Get_count(&s, MPI_BYTE, &bytes);
    int n = bytes / (int)sizeof(work_item_t);
    if (wk->qhead > 0) {
        memmove(wk->queue, wk->queue + wk->qhead, (size_t)wk->qlen * sizeof *wk->queue);
        wk->qhead = 0;
    }
    memcpy(wk->queue + wk->qlen, wk->inbox, (size_t)n * sizeof *wk->queue);
    wk->qlen += n;
    wk->requested = 0;
    worker_post(wk);
}

/* Ask for more while one item is still queued, so the next chunk arrives
 * while this one trains. */
static void worker_request(worker_t *wk)
{
    if (wk->requested || wk->stop || wk->qlen > 1)
        return;
    int want = CHUNK_MAX;
    MPI_Send(&want, 1, MPI_INT, 0, TAG_REQUEST, wk->c->comm);
    wk->requested = 1;
}

static int worker_epoch(const isw_epoch_t *ep, void *user)
{
    (void)ep;
    worker_t *wk = user;
    worker_poll(wk);
    if (wk->stop || isw_sched_interrupted(wk->c)) {
        wk->abandon = 1;
        return 1;
    }
    return 0;
}

/* The records so far, in one message. */
static void worker_flush(worker_t *wk)
{
    if (wk->nout > 0)
        MPI_Send(wk->outbox, wk->nout * (int)sizeof *wk->outbox, MPI_BYTE, 0, TAG_RESULT,
                 wk->c->comm);
    wk->nout = 0;
    wk->t_flush = isw_now();
}

/* The outbox is full, or has waited long enough. */
static int flush_due(const worker_t *wk)
{
    return wk->nout == RESULTS_MAX || isw_now() - wk->t_flush > FLUSH_SECONDS;
}

/* Records go to rank 0 in batches: when the outbox is full, when the item
 * ends, or FLUSH_SECONDS after the last send (progress stays live on long
 * packs); none once the pack is being abandoned (rank 0 said stop, or a
 * signal).  A record lost with a killed rank is retrained on resume. */
static void worker_done(const isw_record_t *rec, void *user)
{
    worker_t *wk = user;
    if (wk->abandon)
        return;
    wk->outbox[wk->nout++] = *rec;
    if (flush_due(wk))
        worker_flush(wk);
}

static int work(ctx_t *c)
{
    worker_t *wk = calloc(1, sizeof *wk);
    isw_error_t err;
    isw_error_clear(&err);
    if (!wk) {
        isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory");
        isw_sched_die(c, &err, "worker");
    }
    wk->c = c;
    wk->t_flush = isw_now();
    worker_post(wk);
    while (!wk->stop && !isw_sched_interrupted(c)) {
        worker_poll(wk);
        worker_request(wk);
        if (wk->qlen == 0) {
            isw_sched_nap();
            continue;
        }
        work_item_t w = wk->queue[wk->qhead++];
        wk->qlen--;
        wk->abandon = 0;
        isw_sched_train_item(c, &w, worker_epoch, wk, worker_done, wk);
        if (wk->abandon)
            break;
        /* the next item may be waiting already: batch across items */
        if (wk->qlen == 0 || flush_due(wk))
            worker_flush(wk);
    }
    /* The outbox holds finished runs only (an abandoned pack adds none). */
    worker_flush(wk);
    /* Leave: BYE once, then wait for rank 0's STOP (it may still be coming). */
    MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_BYE, c->comm);
    while (!wk->stop) {
        worker_poll(wk);
        if (!wk->stop)
            isw_sched_nap();
    }
    free(wk);
    return isw_sched_interrupted(c) ? ISW_EINTR : ISW_OK;
}

/* ---- set-up ------------------------------------------------------------ */

/* Waits for a request without spinning a core: a rank that only waits
 * (while another loads a dataset, say) leaves the CPU to those that work. */
static void wait_polling(MPI_Request *req)
{
    int done = 0;
    MPI_Test(req, &done, MPI_STATUS_IGNORE);
    while (!done) {
        isw_sched_nap();
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
    }
}

/* Every rank computes its status; all agree on the worst one. */
static int agree(const ctx_t *c, int st)
{
    int worst;
    MPI_Request req;
    MPI_Iallreduce(&st, &worst, 1, MPI_INT, MPI_MAX, c->comm, &req);
    wait_polling(&req);
    return worst;
}

/* Rank 0's value of *v on every rank, waiting by polling. */
static void bcast_polling(const ctx_t *c, long long *v)
{
    MPI_Request req;
    MPI_Ibcast(v, 1, MPI_LONG_LONG, 0, c->comm, &req);
    wait_polling(&req);
}

/* Loads the dataset once per node into an MPI-3 shared window: the node's
 * first rank reads it, the others map the same pages read-only. */
static int load_shared_data(const ctx_t *c, const isw_spec_t *spec, isw_data_t *data,
                            MPI_Comm *node, MPI_Win *win, isw_error_t *err)
{
    int nrank;
    if (*node == MPI_COMM_NULL)
        MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, node);
    MPI_Comm_rank(*node, &nrank);
    int st = ISW_OK;
    memset(data, 0, sizeof *data);
    if (nrank == 0)
        st = isw_data_load(data, spec, err);
    int worst = agree(c, st);
    if (worst != ISW_OK) {
        /* a node leader other than rank 0 that failed says why itself */
        if (st != ISW_OK && c->rank != 0) {
            fprintf(stderr, "initsweep: rank %d on %s: ", c->rank, c->host);
            isw_error_print(stderr, err);
        }
        if (nrank == 0)
            isw_data_free(data);
        return worst;
    }
    unsigned long long shape[4] = {data->n, data->nin, data->nout, (unsigned long long)data->classes};
    MPI_Bcast(shape, 4, MPI_UNSIGNED_LONG_LONG, 0, *node);
    size_t nfloats = isw_data_nfloats(shape[0], shape[1], shape[2]);
    float *base = NULL;
    MPI_Aint bytes = nrank == 0 ? (MPI_Aint)(nfloats * sizeof(float)) : 0;
    if (MPI_Win_allocate_shared(bytes, sizeof(float), MPI_INFO_NULL, *node, &base, win) !=
        MPI_SUCCESS)
        return isw_error_set(err, ISW_ENOMEM, "", 0, "cannot allocate a %zu-byte shared window",
                             nfloats * sizeof(float));
    MPI_Aint qsize;
    int qdisp;
    MPI_Win_shared_query(*win, 0, &qsize, &qdisp, &base);
    if (nrank == 0)
        memcpy(base, data->buf, nfloats * sizeof(float));
    else {
        data->n = shape[0];
        data->nin = shape[1];
        data->nout = shape[2];
        data->classes = (int)shape[3];
    }
    isw_data_attach(data, base);
    /* the copy is complete before any rank of the node reads it */
    MPI_Barrier(*node);
    return ISW_OK;
}

/* Frees the node-shared dataset (collective over the node). */
static void unload_shared_data(isw_data_t *data, MPI_Win *win)
{
    if (*win != MPI_WIN_NULL) {
        memset(data, 0, sizeof *data);
        MPI_Win_free(win);
    } else {
        isw_data_free(data);
    }
}

/* The OpenBLAS kernel set of every rank, gathered to rank 0 as one line
 * for journal.meta ("Haswell x 63, SkylakeX x 1 (rank 17)").  A float run
 * near an edge can come out differently on other kernels, so a job whose
 * ranks differ is warned about: its records may depend on which rank ran
 * which task. */
#define CORE_NAME_MAX 64  /* a kernel set or host name, with its NUL */
/* Every rank's `mine` (at most CORE_NAME_MAX - 1 characters) gathered on
 * rank 0 and summarised as "A x 3, B x 1" (first appearance order); *kinds
 * the number of distinct values, *odd the first rank that differs from rank
 * 0 (-1 if none).  NULL on the other ranks or without memory. */
static char *gather_counts(const ctx_t *c, const char *mine_text, int *kinds, int *odd)
{
    char mine[CORE_NAME_MAX] = {0};
    snprintf(mine, sizeof mine, "%s", mine_text);
    char *all = c->rank == 0 ? calloc((size_t)c->size, CORE_NAME_MAX) : NULL;
    MPI_Request req;
    MPI_Igather(mine, CORE_NAME_MAX, MPI_CHAR, all, CORE_NAME_MAX, MPI_CHAR, 0, c->comm, &req);
    wait_polling(&req);
    *kinds = 0;
    *odd = -1;
    if (c->rank != 0 || !all)
        return NULL;
    size_t cap = 64 + (size_t)c->size * (CORE_NAME_MAX + 12), off = 0;
    char *line = malloc(cap);
    for (int r = 0; line && r < c->size; r++) {
        const char *name = all + (size_t)r * CORE_NAME_MAX;
        int seen = 0, count = 0;
        for (int q = 0; q < r && !seen; q++)
            seen = strncmp(all + (size_t)q * CORE_NAME_MAX, name, CORE_NAME_MAX) == 0;
        if (seen)
            continue;
        for (int q = r; q < c->size; q++)
            count += strncmp(all + (size_t)q * CORE_NAME_MAX, name, CORE_NAME_MAX) == 0;
        if ((*kinds)++ && *odd < 0)
            *odd = r;
        off += (size_t)snprintf(line + off, cap - off, "%s%s x %d", *kinds > 1 ? ", " : "",
                                name, count);
    }
    free(all);
    return line;
}

/* journal.meta's platform lines: the program and its revision, the ranks,
 * their hosts and OpenBLAS kernels (a warning when kernels differ: float
 * runs near an edge could then depend on the rank), and when this attempt
 * started (UTC).  Rank 0 only; NULL elsewhere. */
static char *gather_platform(const ctx_t *c, int quiet)
{
    int kinds, odd, hk, ho;
    char host[MPI_MAX_PROCESSOR_NAME] = "?";
    int hlen = 0;
    MPI_Get_processor_name(host, &hlen);
    char *cores = gather_counts(c, isw_mlp_blas_core(), &kinds, &odd);
    char *hosts = gather_counts(c, host, &hk, &ho);
    if (c->rank != 0 || !cores || !hosts) {
        free(cores);
        free(hosts);
        return NULL;
    }
    if (kinds > 1 && !quiet)
        fprintf(stderr, "initsweep: warning: ranks use different OpenBLAS kernels (%s; rank %d "
                        "differs from rank 0): float runs near an edge may depend on which rank "
                        "ran them; set OPENBLAS_CORETYPE to one value for the whole job\n",
                cores, odd);
    char when[32] = "?";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    size_t cap = strlen(cores) + strlen(hosts) + 256;
    char *text = malloc(cap);
    if (text)
        snprintf(text, cap, "program initsweep %s git %s\nranks %d\nhosts %s\nblas_core %s\n"
                            "started %s", ISW_VERSION, ISW_GIT_REVISION, c->size, hosts, cores,
                 when);
    free(cores);
    free(hosts);
    return text;
}

/* Signals stop the loops at the next poll; the handler only sets a flag. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int signalled(void)
{
    return got_signal != 0;
}

/* Rank 0's error, printed once, as every rank's exit status. */
static int refuse(const ctx_t *c, int st, const isw_error_t *err)
{
    if (c->rank == 0 && err->text[0])
        isw_error_print(stderr, err);
    int status = isw_exit_status(st);
    return status == ISW_EXIT_OK ? ISW_EXIT_INPUT : status;
}

/* Validation before any work: every rank parses the same spec and checks
 * the grid; group 0's dataset is loaded node-shared before OUTDIR is
 * touched (a bad data file leaves no journal behind), rank 0 checks memory
 * and hashes every group's data, then alone opens OUTDIR.  All agree on the
 * verdict at each step.  Returns the exit status. */
static int prepare(ctx_t *c, isw_run_job_t *job, const isw_run_opts_t *opts, isw_data_t *data,
                   MPI_Comm *node, MPI_Win *win)
{
    isw_error_t err;
    isw_error_clear(&err);
    int st = agree(c, isw_run_setup(job, opts, &err));
    if (st != ISW_OK)
        return refuse(c, st, &err);
    isw_spec_t gspec;
    st = isw_grid_group_spec(&gspec, &job->grid, &job->spec, 0, &err);
    st = st == ISW_OK ? load_shared_data(c, &gspec, data, node, win, &err) : agree(c, st);
    if (st == ISW_OK && c->rank == 0 &&
        (st = isw_grid_check_memory(&job->grid, &job->spec, data, &err)) != ISW_OK &&
        err.file[0] == '\0')
        snprintf(err.file, sizeof err.file, "%s", opts->spec_path);
    if (st == ISW_OK && c->rank == 0)
        st = isw_run_identify_data(job, data, signalled, &err);
    if ((st = agree(c, st)) != ISW_OK)
        return refuse(c, st, &err);
    char *platform = gather_platform(c, opts->quiet);
    if (c->rank == 0)
        st = isw_run_open(job, platform, &err);
    free(platform);
    /* only rank 0 can fail here */
    if ((st = agree(c, st)) != ISW_OK)
        return refuse(c, st, &err);
    c->job = job;
    c->data = data;
    return ISW_EXIT_OK;
}

/* One phase per data group with work left, in group order: every rank
 * trains on the group's dataset, loaded node-shared when the phase starts,
 * so at most one dataset is in memory however many a sweep names.  Rank 0
 * picks the next group and tells the others.  Returns the exit status (a
 * dataset that changed or vanished while the sweep ran is bad input). */
static int run_phases(ctx_t *c, coord_t *co, isw_data_t *data, MPI_Comm *node, MPI_Win *win)
{
    uint64_t loaded = 0, next = 0;       /* the group whose data are loaded */
    for (;;) {
        long long group = c->rank == 0 ? isw_sched_coord_next_group(co, &next) : -1;
        bcast_polling(c, &group);
        if (group < 0)
            return ISW_EXIT_OK;
        if ((uint64_t)group != loaded) {
            isw_error_t err;
            isw_error_clear(&err);
            isw_spec_t gspec;
            unload_shared_data(data, win);
            int st = isw_grid_group_spec(&gspec, &c->job->grid, &c->job->spec,
                                         (uint64_t)group, &err);
            st = st == ISW_OK ? load_shared_data(c, &gspec, data, node, win, &err) : agree(c, st);
            if (st != ISW_OK) {
                if (c->rank == 0)
                    isw_error_print(stderr, &err);
                return isw_exit_status(st);
            }
            loaded = (uint64_t)group;
        }
        if (c->rank == 0) {
            isw_sched_coord_phase(co);
        } else {
            work(c);                     /* workers exit with rank 0's verdict */
        }
    }
}

int isw_sched_run(const isw_run_opts_t *opts, int *argc, char ***argv)
{
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "initsweep: MPI_Init failed\n");
        return ISW_EXIT_FAIL;
    }
    ctx_t c;
    memset(&c, 0, sizeof c);
    MPI_Comm_dup(MPI_COMM_WORLD, &c.comm);
    MPI_Comm_rank(c.comm, &c.rank);
    MPI_Comm_size(c.comm, &c.size);
    int hlen;
    MPI_Get_processor_name(c.host, &hlen);
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("SLURM_STEP_ID"))
        c.parent = getppid();
    catch_signals();

    isw_run_job_t job;
    isw_data_t data;
    memset(&data, 0, sizeof data);
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Win win = MPI_WIN_NULL;
    int status = prepare(&c, &job, opts, &data, &node, &win);
    if (status == ISW_EXIT_OK) {
        coord_t *co = NULL;
        if (c.rank == 0 && !(co = isw_sched_coord_new(&c, &job))) {
            isw_error_t err;
            isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory");
            isw_sched_die(&c, &err, "coordinator");
        }
        status = run_phases(&c, co, &data, &node, &win);
        if (c.rank == 0)
            status = isw_run_finish(&job, status, isw_sched_coord_end(co));
        MPI_Bcast(&status, 1, MPI_INT, 0, c.comm);
    }
    status = isw_run_close(&job, status);
    unload_shared_data(&data, &win);
    if (node != MPI_COMM_NULL)
        MPI_Comm_free(&node);
    MPI_Comm_free(&c.comm);
    MPI_Finalize();
    return status;
}
