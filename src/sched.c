/* The MPI layer of `initsweep run`: dynamic scheduling by rank 0, record
 * gathering, the node-shared dataset, progress and signals.
 *
 * Protocol (all on a duplicate of MPI_COMM_WORLD, tags are tag_t):
 *   worker -> 0   TAG_REQUEST  int: how many items it can take
 *   0 -> worker   TAG_WORK     work_item_t[1..CHUNK_MAX]
 *   worker -> 0   TAG_RESULT   isw_record_t (fixed size, MPI_BYTE)
 *   0 -> worker   TAG_STOP     empty: finish (or abandon) and leave
 *   worker -> 0   TAG_BYE      empty: last message of this worker
 * A request that cannot be served yet (refinement probes wait on results)
 * is parked until work appears.  Messages between a pair do not overtake
 * each other, so every result of a worker reaches rank 0 before its BYE.
 * Waiting ranks poll (MPI_Test / MPI_Iprobe and a short sleep): a blocked
 * MPI_Recv spins a core that another rank could train on. */
#include "initsweep/sched.h"

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
#include "initsweep/refine.h"
#include "initsweep/stats.h"
#include "initsweep/train.h"

typedef enum { TAG_REQUEST = 11, TAG_WORK, TAG_RESULT, TAG_STOP, TAG_BYE } tag_t;

/* One unit of work: a grid task, or a refinement probe with its lr. */
typedef struct {
    uint64_t task;
    double lr;                           /* NaN for grid tasks */
} work_item_t;

#define CHUNK_MAX 64
#define POLL_NS 100000L                  /* 0.1 ms between polls when idle */
#define CHUNK_SECONDS 0.5                /* aim: a chunk is this much work */

/* Set by the signal handler, read by the loops: the one piece of mutable
 * static state, as a handler can reach nothing else. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void nap(void)
{
    struct timespec ts = {0, POLL_NS};
    nanosleep(&ts, NULL);
}

/* ---- shared pieces ---------------------------------------------------- */

typedef struct {
    MPI_Comm comm;
    int rank, size;
    char host[MPI_MAX_PROCESSOR_NAME];
    const isw_spec_t *base;
    const isw_grid_t *grid;
    const isw_refine_t *refine;          /* NULL when the spec asks for none */
    const isw_data_t *data;
} ctx_t;

/* Abort the job after work has begun: the message names this rank and host.
 * The journal on rank 0 stays valid (every line is written whole). */
static void die(const ctx_t *c, const isw_error_t *err, const char *what)
{
    fprintf(stderr, "initsweep: rank %d on %s: %s: ", c->rank, c->host, what);
    isw_error_print(stderr, err);
    fflush(stderr);
    MPI_Abort(c->comm, 1);
}

/* The spec of one work item. */
static int item_spec(isw_spec_t *out, const ctx_t *c, const work_item_t *w, isw_error_t *err)
{
    if (w->task < c->grid->ntasks)
        return isw_grid_task_spec(out, c->grid, c->base, w->task, err);
    size_t idx[ISW_MAX_AXES];
    if (!c->refine || isw_refine_probe_index(c->refine, w->task, idx) != ISW_OK)
        return isw_error_set(err, ISW_EINVAL, "", 0, "task %llu is outside the grid",
                             (unsigned long long)w->task);
    char lr[64];
    snprintf(lr, sizeof lr, "%.17g", w->lr);
    return isw_grid_point_spec(out, c->grid, c->base, idx, lr, err);
}

/* ---- coordinator ------------------------------------------------------ */

typedef struct {
    ctx_t *c;
    isw_journal_t *journal;
    isw_refine_t *refine;
    int quiet;
    uint64_t next_task;                  /* next grid task to consider */
    int shard_k, shard_n;                /* this job runs shard k of n (n = 1: all) */
    uint64_t inflight;                   /* handed out, no result yet */
    uint64_t done, done_at_start;
    uint64_t total_grid;                 /* grid tasks: ids below are grid, above probes */
    uint64_t owned;                      /* grid tasks of this shard */
    uint64_t probes_done;
    uint64_t counts[ISW_NOUTCOMES];
    int *parked;                         /* worker asked, nothing to give yet */
    int *left;                           /* worker said BYE */
    int stop_sent, nleft;
    int stopping, interrupted;
    double mean_seconds;                 /* running mean of a run's seconds */
    uint64_t nmeasured;
    double t_start, t_progress, t_sync;
    int tty;
} coord_t;

static void count_outcome(coord_t *co, const isw_record_t *rec)
{
    if (rec->outcome >= 0 && rec->outcome < ISW_NOUTCOMES)
        co->counts[rec->outcome]++;
    co->done++;
    if (rec->task >= co->total_grid)
        co->probes_done++;
}

/* Refinement probes queued and not yet handed out. */
static size_t probes_queued(const coord_t *co)
{
    return co->refine ? isw_refine_queued(co->refine) : 0;
}

/* Whether a grid task belongs to this job's shard.  With refinement a
 * slice's runs must stay together (its probes need all of them), so shards
 * take whole slices; otherwise tasks go round-robin, which spreads slow and
 * fast regions of the grid evenly. */
static int owned(const coord_t *co, uint64_t task)
{
    if (co->shard_n <= 1)
        return 1;
    uint64_t unit = co->refine ? isw_refine_slice_of_task(co->refine, task) : task;
    return unit % (uint64_t)co->shard_n == (uint64_t)co->shard_k;
}

/* Skips grid tasks already journaled or of another shard. */
static void skip_tasks(coord_t *co)
{
    while (co->next_task < co->total_grid &&
           (!owned(co, co->next_task) || isw_journal_done(co->journal, co->next_task)))
        co->next_task++;
}

/* Next item to hand out: probes first (they unblock further rounds), then
 * grid tasks in order, skipping those already journaled.  A probe already
 * in the journal (a resumed sweep) is fed straight back to the refinement,
 * which may queue the next round at once. */
static int next_item(coord_t *co, work_item_t *w)
{
    if (co->stopping)
        return 0;
    isw_refine_probe_t p;
    while (co->refine && isw_refine_next(co->refine, &p)) {
        const isw_runs_t *runs = isw_journal_runs(co->journal);
        long i = isw_runs_find(runs, p.task);
        if (i >= 0) {
            isw_refine_record(co->refine, p.task, runs->runs[i].rec.outcome);
            continue;
        }
        *w = (work_item_t){p.task, p.lr};
        return 1;
    }
    skip_tasks(co);
    if (co->next_task < co->total_grid) {
        *w = (work_item_t){co->next_task++, NAN};
        return 1;
    }
    return 0;
}

/* Nothing left to hand out and nothing running: the sweep is complete. */
static int sweep_complete(coord_t *co)
{
    if (co->inflight > 0 || probes_queued(co) > 0)
        return 0;
    skip_tasks(co);
    return co->next_task >= co->total_grid;
}

/* Items per chunk: about CHUNK_SECONDS of work by the running mean, and at
 * most a quarter of a fair share of what is left, so the tail balances. */
static int chunk_size(const coord_t *co, int want)
{
    double k = co->nmeasured ? CHUNK_SECONDS / (co->mean_seconds + 1e-6) : 1.0;
    uint64_t left = co->total_grid - co->next_task + probes_queued(co);
    double fair = (double)left / (4.0 * co->c->size * (co->shard_n > 1 ? co->shard_n : 1));
    if (k > fair)
        k = fair;
    if (k > want)
        k = want;
    if (k > CHUNK_MAX)
        k = CHUNK_MAX;
    return k < 1.0 ? 1 : (int)k;
}

static void send_work(coord_t *co, int worker, int want)
{
    work_item_t items[CHUNK_MAX];
    int k = chunk_size(co, want), n = 0;
    while (n < k && next_item(co, &items[n]))
        n++;
    if (n == 0) {
        co->parked[worker] = want;
        return;
    }
    co->parked[worker] = 0;
    co->inflight += (uint64_t)n;
    MPI_Send(items, n * (int)sizeof(work_item_t), MPI_BYTE, worker, TAG_WORK, co->c->comm);
}

static void journal_record(coord_t *co, const isw_record_t *rec)
{
    const ctx_t *c = co->c;
    char vals[ISW_MAX_AXES][512];
    const char *vp[ISW_MAX_AXES];
    isw_error_t err;
    isw_error_clear(&err);
    double probe_lr = NAN;
    size_t idx[ISW_MAX_AXES];
    int probe = rec->task >= c->grid->ntasks;
    if (!probe) {
        isw_grid_task_index(c->grid, rec->task, idx);
    } else if (!co->refine || isw_refine_probe_index(co->refine, rec->task, idx) != ISW_OK ||
               isw_refine_probe_lr(co->refine, rec->task, &probe_lr) != ISW_OK) {
        isw_error_set(&err, ISW_EINVAL, "", 0, "a result for unknown task %llu",
                      (unsigned long long)rec->task);
        die(c, &err, "coordinator");
    }
    for (int a = 0; a < c->grid->naxes; a++) {
        if (probe && a == c->grid->lr_axis)
            isw_refine_format_lr(probe_lr, vals[a], sizeof vals[a]);
        else
            isw_axis_value(&c->grid->sweep->axes[a], idx[a], vals[a], sizeof vals[a]);
        vp[a] = vals[a];
    }
    if (isw_journal_append(co->journal, vp, rec, &err) != ISW_OK)
        die(c, &err, "cannot append to the journal");
    count_outcome(co, rec);
    co->mean_seconds += (rec->seconds - co->mean_seconds) / (double)(++co->nmeasured);
    if (co->refine)
        isw_refine_record(co->refine, rec->task, rec->outcome);
}

static void format_duration(char *buf, size_t size, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "?");
    else if (s < 60)
        snprintf(buf, size, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void progress(coord_t *co, int final)
{
    double now = isw_now();
    double every = co->tty ? 0.5 : 10.0;
    if (co->quiet || (!final && now - co->t_progress < every))
        return;
    co->t_progress = now;
    double el = now - co->t_start;
    uint64_t new_runs = co->done - co->done_at_start;
    double rate = el > 0 ? (double)new_runs / el : 0.0;
    uint64_t grid_done = co->done - co->probes_done;
    char eta[32];
    format_duration(eta, sizeof eta,
                    rate > 0 ? (double)(co->owned - grid_done) / rate : NAN);
    char line[512];
    int off = snprintf(line, sizeof line, "initsweep: %llu/%llu runs (%.1f%%)",
                       (unsigned long long)grid_done, (unsigned long long)co->owned,
                       co->owned ? 100.0 * (double)grid_done / (double)co->owned : 100.0);
    if (co->refine) {
        uint64_t sdone, stotal;
        isw_refine_progress(co->refine, &sdone, &stotal);
        off += snprintf(line + off, sizeof line - (size_t)off, " +%llu probes (%llu/%llu slices refined)",
                        (unsigned long long)co->probes_done, (unsigned long long)sdone,
                        (unsigned long long)(co->shard_n > 1 ? (stotal - (uint64_t)co->shard_k +
                                                                (uint64_t)co->shard_n - 1) /
                                                                   (uint64_t)co->shard_n
                                                             : stotal));
    }
    for (int o = 0; o < ISW_NOUTCOMES && off < (int)sizeof line; o++)
        off += snprintf(line + off, sizeof line - (size_t)off, " %s %llu", isw_outcome_name(o),
                        (unsigned long long)co->counts[o]);
    if (off < (int)sizeof line)
        snprintf(line + off, sizeof line - (size_t)off, "  %.3g runs/s%s%s", rate,
                 final ? "" : "  ETA ", final ? "" : eta);
    if (co->tty)
        fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

static void send_stop_all(coord_t *co)
{
    if (co->stop_sent)
        return;
    co->stop_sent = 1;
    for (int w = 1; w < co->c->size; w++)
        MPI_Send(NULL, 0, MPI_BYTE, w, TAG_STOP, co->c->comm);
}

/* Handles every message waiting at rank 0; returns how many. */
static int serve(coord_t *co)
{
    const ctx_t *c = co->c;
    int handled = 0;
    for (;;) {
        int flag;
        MPI_Status s;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, c->comm, &flag, &s);
        if (!flag)
            break;
        handled++;
        if (s.MPI_TAG == TAG_REQUEST) {
            int want;
            MPI_Recv(&want, 1, MPI_INT, s.MPI_SOURCE, TAG_REQUEST, c->comm, MPI_STATUS_IGNORE);
            if (!co->stopping)
                send_work(co, s.MPI_SOURCE, want);
        } else if (s.MPI_TAG == TAG_RESULT) {
            isw_record_t rec;
            MPI_Recv(&rec, (int)sizeof rec, MPI_BYTE, s.MPI_SOURCE, TAG_RESULT, c->comm,
                     MPI_STATUS_IGNORE);
            co->inflight--;
            journal_record(co, &rec);
        } else if (s.MPI_TAG == TAG_BYE) {
            MPI_Recv(NULL, 0, MPI_BYTE, s.MPI_SOURCE, TAG_BYE, c->comm, MPI_STATUS_IGNORE);
            co->left[s.MPI_SOURCE] = 1;
            co->nleft++;
            if (!co->stopping) {
                /* a worker left on its own: it was signalled */
                co->stopping = co->interrupted = 1;
            }
        } else {
            isw_error_t err;
            isw_error_set(&err, ISW_EMPI, "", 0, "unexpected message tag %d from rank %d",
                          s.MPI_TAG, s.MPI_SOURCE);
            die(c, &err, "coordinator");
        }
    }
    /* parked workers get work as soon as there is some */
    for (int w = 1; w < c->size && !co->stopping; w++)
        if (co->parked[w] && (probes_queued(co) > 0 || co->next_task < co->total_grid))
            send_work(co, w, co->parked[w]);
    if (got_signal && !co->stopping)
        co->stopping = co->interrupted = 1;
    if (!co->stopping && sweep_complete(co))
        co->stopping = 1;
    if (co->stopping)
        send_stop_all(co);
    double now = isw_now();
    if (now - co->t_sync > 5.0) {
        isw_error_t err;
        if (isw_journal_sync(co->journal, &err) != ISW_OK)
            die(c, &err, "cannot sync the journal");
        co->t_sync = now;
    }
    progress(co, 0);
    return handled;
}

typedef struct {
    coord_t *co;
    int abandon;
} self_train_t;

/* Rank 0's own runs call back after every epoch: serve the workers then. */
static int coord_epoch(const isw_epoch_t *ep, void *user)
{
    (void)ep;
    self_train_t *st = user;
    serve(st->co);
    if (st->co->interrupted) {
        st->abandon = 1;
        return 1;
    }
    return 0;
}

static int coordinate(coord_t *co)
{
    ctx_t *c = co->c;
    int trains = c->size <= ISW_SCHED_TRAINING_COORDINATOR;
    isw_error_t err;
    isw_error_clear(&err);
    while (!(co->stopping && co->nleft == c->size - 1 && (co->inflight == 0 || co->interrupted))) {
        int handled = serve(co);
        work_item_t w;
        if (trains && !co->stopping && next_item(co, &w)) {
            co->inflight++;
            isw_spec_t spec;
            if (item_spec(&spec, c, &w, &err) != ISW_OK)
                die(c, &err, "cannot build the run's spec");
            isw_record_t rec;
            rec.task = w.task;
            self_train_t st = {co, 0};
            if (isw_train_run(&rec, &spec, c->data, coord_epoch, &st, &err) != ISW_OK)
                die(c, &err, "training failed");
            co->inflight--;
            if (!st.abandon)
                journal_record(co, &rec);
            continue;
        }
        if (!handled)
            nap();
    }
    progress(co, 1);
    return co->interrupted ? ISW_EINTR : ISW_OK;
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
    if (wk->stop || got_signal) {
        wk->abandon = 1;
        return 1;
    }
    return 0;
}

static int work(ctx_t *c)
{
    worker_t *wk = calloc(1, sizeof *wk);
    isw_error_t err;
    isw_error_clear(&err);
    if (!wk) {
        isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory");
        die(c, &err, "worker");
    }
    wk->c = c;
    worker_post(wk);
    while (!wk->stop && !got_signal) {
        worker_poll(wk);
        worker_request(wk);
        if (wk->qlen == 0) {
            nap();
            continue;
        }
        work_item_t w = wk->queue[wk->qhead++];
        wk->qlen--;
        isw_spec_t spec;
        if (item_spec(&spec, c, &w, &err) != ISW_OK)
            die(c, &err, "cannot build the run's spec");
        isw_record_t rec;
        rec.task = w.task;
        wk->abandon = 0;
        if (isw_train_run(&rec, &spec, c->data, worker_epoch, wk, &err) != ISW_OK)
            die(c, &err, "training failed");
        if (wk->abandon)
            break;
        MPI_Send(&rec, (int)sizeof rec, MPI_BYTE, 0, TAG_RESULT, c->comm);
    }
    /* Leave: BYE once, then wait for rank 0's STOP (it may still be coming). */
    MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_BYE, c->comm);
    while (!wk->stop) {
        worker_poll(wk);
        if (!wk->stop)
            nap();
    }
    free(wk);
    return got_signal ? ISW_EINTR : ISW_OK;
}

/* ---- set-up ------------------------------------------------------------ */

/* Every rank computes its status; all agree on the worst one. */
static int agree(const ctx_t *c, int st)
{
    int worst;
    MPI_Allreduce(&st, &worst, 1, MPI_INT, MPI_MAX, c->comm);
    return worst;
}

/* Loads the dataset once per node into an MPI-3 shared window: the node's
 * first rank reads it, the others map the same pages read-only. */
static int load_shared_data(const ctx_t *c, const isw_spec_t *spec, isw_data_t *data,
                            MPI_Comm *node, MPI_Win *win, isw_error_t *err)
{
    int nrank;
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
        return isw_error_set(err, ISW_EIO, "spec.yaml", 0, "cannot write the resolved spec");
    return ISW_OK;
}

/* OUTDIR, or results/<spec name>; a shard journals into its own
 * OUTDIR/shard-K-of-N, which `summarize OUTDIR` merges. */
static void default_outdir(char *buf, size_t size, const isw_cli_args_t *args,
                           const isw_spec_t *spec, int shard_k, int shard_n)
{
    char base[ISW_PATH_MAX];
    if (args->outdir)
        snprintf(base, sizeof base, "%s", args->outdir);
    else
        snprintf(base, sizeof base, "results/%s", spec->name);
    if (shard_n > 1)
        snprintf(buf, size, "%.900s/shard-%d-of-%d", base, shard_k, shard_n);
    else
        snprintf(buf, size, "%s", base);
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

int isw_sched_run(const isw_cli_args_t *args, int *argc, char ***argv)
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

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    isw_error_t err;
    isw_error_clear(&err);
    isw_spec_t spec;
    isw_sweep_t sweep;
    memset(&sweep, 0, sizeof sweep);
    isw_grid_t grid;
    isw_refine_t *refine = NULL;
    isw_journal_t *journal = NULL;
    isw_data_t data;
    memset(&data, 0, sizeof data);
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Win win = MPI_WIN_NULL;
    char outdir[ISW_PATH_MAX];
    int status = ISW_EXIT_OK;

    /* Validation, before any work: every rank parses the same spec and
     * checks the grid; rank 0 alone opens OUTDIR; all agree on the verdict. */
    int shard_k = 0, shard_n = 1;
    int st = ISW_OK;
    if (args->shard)
        st = parse_shard(args->shard, &shard_k, &shard_n, &err);
    if (st == ISW_OK)
        st = isw_cli_load_spec(&spec, &sweep, args, &err);
    if (st == ISW_OK) {
        st = isw_grid_init(&grid, &sweep, &err);
        if (st == ISW_OK)
            st = isw_grid_validate(&grid, &spec, &err);
        if (st == ISW_OK && sweep.refine.enabled)
            st = isw_refine_alloc(&refine, &grid, &sweep.refine, &err);
        if (st != ISW_OK && err.file[0] == '\0')
            snprintf(err.file, sizeof err.file, "%s", args->path);
    }
    if ((st = agree(&c, st)) != ISW_OK) {
        if (c.rank == 0)
            isw_error_print(stderr, &err);
        status = isw_cli_exit_status(st);
        goto out;
    }
    /* the data before OUTDIR: a bad data file must leave no journal behind */
    st = load_shared_data(&c, &spec, &data, &node, &win, &err);
    if (st != ISW_OK) {
        if (c.rank == 0)
            isw_error_print(stderr, &err);
        status = isw_cli_exit_status(st);
        goto out;
    }
    default_outdir(outdir, sizeof outdir, args, &spec, shard_k, shard_n);
    if (c.rank == 0) {
        text_t resolved;
        char *text = NULL;
        st = spec_text(&text, &resolved.len, &spec, &sweep, &err);
        resolved.text = text;
        uint64_t hash = st == ISW_OK ? isw_journal_hash(text, resolved.len) : 0;
        const char *axes[ISW_MAX_AXES];
        for (int a = 0; a < sweep.naxes; a++)
            axes[a] = sweep.axes[a].key;
        char meta[ISW_PATH_MAX + 32];
        snprintf(meta, sizeof meta, "%s/journal.meta", outdir);
        if (st == ISW_OK && args->resume && access(meta, F_OK) != 0)
            st = isw_error_set(&err, ISW_EINVAL, outdir, 0,
                               "--resume: no journal to resume here (a first run needs no "
                               "option; --resume only insists that one exists)");
        if (st == ISW_OK)
            st = isw_journal_open(&journal, outdir, hash, axes, sweep.naxes, args->fresh,
                                  args->path, &err);
        if (st == ISW_OK && !isw_journal_keeps(journal, "spec.yaml"))
            st = isw_file_write_atomic(outdir, "spec.yaml", write_text, &resolved, &err);
        free(text);
    }
    /* only rank 0 can fail here: every rank exits with its status */
    if ((st = agree(&c, st)) != ISW_OK) {
        if (c.rank == 0)
            isw_error_print(stderr, &err);
        status = isw_cli_exit_status(st);
        goto out;
    }
    c.base = &spec;
    c.grid = &grid;
    c.refine = refine;
    c.data = &data;

    if (c.rank == 0) {
        coord_t co;
        memset(&co, 0, sizeof co);
        co.c = &c;
        co.journal = journal;
        co.refine = refine;
        co.quiet = args->quiet;
        co.total_grid = grid.ntasks;
        co.shard_k = shard_k;
        co.shard_n = shard_n;
        if (shard_n > 1)
            for (uint64_t t = 0; t < grid.ntasks; t++)
                co.owned += (uint64_t)owned(&co, t);
        else
            co.owned = grid.ntasks;
        co.parked = calloc((size_t)c.size, sizeof *co.parked);
        co.left = calloc((size_t)c.size, sizeof *co.left);
        co.t_start = co.t_progress = co.t_sync = isw_now();
        co.tty = isatty(STDERR_FILENO);
        if (!co.parked || !co.left) {
            isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory");
            die(&c, &err, "coordinator");
        }
        /* what the journal already holds counts as done */
        const isw_runs_t *runs = isw_journal_runs(journal);
        for (size_t i = 0; i < runs->nruns; i++) {
            count_outcome(&co, &runs->runs[i].rec);
            if (refine && runs->runs[i].rec.task < grid.ntasks)
                isw_refine_record(refine, runs->runs[i].rec.task, runs->runs[i].rec.outcome);
        }
        co.done_at_start = co.done;
        if (!args->quiet && co.done)
            fprintf(stderr, "initsweep: resuming %s: %llu runs already done\n", outdir,
                    (unsigned long long)co.done);
        st = coordinate(&co);
        free(co.parked);
        free(co.left);
        if (st == ISW_OK) {
            st = isw_stats_summarize(outdir, &err);
            if (st != ISW_OK) {
                isw_error_print(stderr, &err);
                status = ISW_EXIT_FAIL;
            }
        } else {
            status = ISW_EXIT_INTERRUPTED;
            if (!args->quiet)
                fprintf(stderr, "initsweep: interrupted; the journal in %s is complete up to "
                                "here, run the same command again to resume\n", outdir);
        }
    } else {
        st = work(&c);
        /* workers exit with the coordinator's verdict, told below */
    }
    int verdict = status;
    MPI_Bcast(&verdict, 1, MPI_INT, 0, c.comm);
    status = verdict;

out:
    if (journal) {
        isw_error_t cerr;
        if (isw_journal_close(journal, &cerr) != ISW_OK) {
            isw_error_print(stderr, &cerr);
            if (status == ISW_EXIT_OK)
                status = ISW_EXIT_FAIL;
        }
    }
    if (win != MPI_WIN_NULL) {
        memset(&data, 0, sizeof data);
        MPI_Win_free(&win);
    } else {
        isw_data_free(&data);
    }
    if (node != MPI_COMM_NULL)
        MPI_Comm_free(&node);
    isw_refine_free(refine);
    isw_sweep_free(&sweep);
    MPI_Comm_free(&c.comm);
    MPI_Finalize();
    return status;
}
