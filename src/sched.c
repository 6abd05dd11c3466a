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
#include "initsweep/mlp.h"
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
    const isw_data_t *data;              /* the dataset of the current data group */
    pid_t parent;                        /* launcher's pid (0: not launched by one) */
} ctx_t;

/* Under mpirun or srun a rank whose launcher died (a double Ctrl-C kills
 * mpirun at once) is reparented: it must stop as if signalled, with the
 * journal flushed, rather than keep the OUTDIR lock and journal on. */
static int interrupted(const ctx_t *c)
{
    if (!got_signal && c->parent > 0 && getppid() != c->parent)
        got_signal = SIGHUP;
    return got_signal != 0;
}

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
    uint64_t group;                      /* the data group being trained */
    uint64_t cursor;                     /* next task of the group to consider */
    work_item_t *deferred;               /* probes not yet handed out, any group */
    size_t ndeferred, deferred_cap;
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

/* Whether a grid task belongs to shard k of n.  With refinement a slice's
 * runs must stay together (its probes need all of them), so shards take
 * whole slices; otherwise tasks go round-robin, which spreads slow and fast
 * regions of the grid evenly. */
static int shard_owns(const isw_refine_t *refine, int shard_k, int shard_n, uint64_t task)
{
    if (shard_n <= 1)
        return 1;
    uint64_t unit = refine ? isw_refine_slice_of_task(refine, task) : task;
    return unit % (uint64_t)shard_n == (uint64_t)shard_k;
}

static int owned(const coord_t *co, uint64_t task)
{
    return shard_owns(co->refine, co->shard_k, co->shard_n, task);
}

/* Grid tasks of shard k of n, by arithmetic (a grid may hold 10^12 tasks):
 * round-robin over tasks, or over slices of equal size. */
static uint64_t shard_tasks(const isw_grid_t *grid, const isw_refine_t *refine, int shard_k,
                            int shard_n)
{
    if (shard_n <= 1)
        return grid->ntasks;
    uint64_t units = grid->ntasks, per = 1, n = (uint64_t)shard_n;
    if (refine) {
        uint64_t done;
        isw_refine_progress(refine, &done, &units);
        per = grid->ntasks / units;
    }
    return (units / n + ((uint64_t)shard_k < units % n)) * per;
}

/* Skips the group's tasks already journaled or of another shard.  A shard
 * of a huge resumed grid may skip for long: the loop watches for signals. */
static void skip_tasks(coord_t *co)
{
    const isw_grid_t *g = co->c->grid;
    for (unsigned spins = 0; co->cursor < g->group_size; co->cursor++) {
        uint64_t t = isw_grid_group_task(g, co->group, co->cursor);
        if (owned(co, t) && !isw_journal_done(co->journal, t))
            break;
        if (++spins % (1u << 20) == 0 && interrupted(co->c))
            break;
    }
}

static int defer_probe(coord_t *co, work_item_t w)
{
    if (co->ndeferred == co->deferred_cap) {
        size_t cap = co->deferred_cap ? 2 * co->deferred_cap : 64;
        work_item_t *d = realloc(co->deferred, cap * sizeof *d);
        if (!d)
            return ISW_ENOMEM;
        co->deferred = d;
        co->deferred_cap = cap;
    }
    co->deferred[co->ndeferred++] = w;
    return ISW_OK;
}

/* Moves the refinement's queued probes to the deferred list, feeding those
 * already in the journal (a resumed sweep) straight back to it, which may
 * queue the next round at once. */
static void drain_probes(coord_t *co)
{
    isw_refine_probe_t p;
    while (co->refine && isw_refine_next(co->refine, &p)) {
        const isw_runs_t *runs = isw_journal_runs(co->journal);
        long i = isw_runs_find(runs, p.task);
        if (i >= 0) {
            isw_refine_record(co->refine, p.task, runs->runs[i].rec.outcome);
            continue;
        }
        if (defer_probe(co, (work_item_t){p.task, p.lr}) != ISW_OK) {
            isw_error_t err;
            isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory for refinement probes");
            die(co->c, &err, "coordinator");
        }
    }
}

static uint64_t probe_group(const coord_t *co, uint64_t task)
{
    size_t idx[ISW_MAX_AXES];
    if (isw_refine_probe_index(co->refine, task, idx) != ISW_OK)
        return UINT64_MAX;
    return isw_grid_index_group(co->c->grid, idx);
}

/* Index of the first deferred probe of the current group (FIFO), or -1. */
static long find_probe(const coord_t *co)
{
    for (size_t i = 0; i < co->ndeferred; i++)
        if (co->c->grid->ngroups == 1 || probe_group(co, co->deferred[i].task) == co->group)
            return (long)i;
    return -1;
}

/* Takes the first deferred probe of the current group; 0 if none. */
static int take_probe(coord_t *co, work_item_t *w)
{
    long i = find_probe(co);
    if (i < 0)
        return 0;
    *w = co->deferred[i];
    memmove(co->deferred + i, co->deferred + i + 1,
            (co->ndeferred - (size_t)i - 1) * sizeof *co->deferred);
    co->ndeferred--;
    return 1;
}

/* Whether the current group has work to hand out now. */
static int has_work(coord_t *co)
{
    drain_probes(co);
    if (find_probe(co) >= 0)
        return 1;
    skip_tasks(co);
    return co->cursor < co->c->grid->group_size;
}

/* Next item to hand out: probes first (they unblock further rounds), then
 * the group's grid tasks in id order, skipping those already journaled. */
static int next_item(coord_t *co, work_item_t *w)
{
    if (co->stopping)
        return 0;
    drain_probes(co);
    if (take_probe(co, w))
        return 1;
    skip_tasks(co);
    if (co->cursor < co->c->grid->group_size) {
        *w = (work_item_t){isw_grid_group_task(co->c->grid, co->group, co->cursor++), NAN};
        return 1;
    }
    return 0;
}

/* Nothing left to hand out in this group and nothing running: the group
 * (the phase) is complete. */
static int phase_complete(coord_t *co)
{
    return co->inflight == 0 && !has_work(co);
}

/* Items per chunk: about CHUNK_SECONDS of work by the running mean, and at
 * most a quarter of a fair share of what is left, so the tail balances. */
static int chunk_size(const coord_t *co, int want)
{
    double k = co->nmeasured ? CHUNK_SECONDS / (co->mean_seconds + 1e-6) : 1.0;
    uint64_t left = co->c->grid->group_size - co->cursor + co->ndeferred + probes_queued(co);
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
    isw_axis_buf_t nums[ISW_MAX_AXES];
    char probe_text[64];
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
        if (probe && a == c->grid->lr_axis) {
            isw_refine_format_lr(probe_lr, probe_text, sizeof probe_text);
            vp[a] = probe_text;
        } else {
            vp[a] = isw_axis_text(&c->grid->sweep->axes[a], idx[a], &nums[a]);
        }
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
        if (co->parked[w] && has_work(co))
            send_work(co, w, co->parked[w]);
    if (interrupted(c) && !co->stopping)
        co->stopping = co->interrupted = 1;
    if (!co->stopping && phase_complete(co))
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
    if (wk->stop || interrupted(wk->c)) {
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
    while (!wk->stop && !interrupted(c)) {
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
    return interrupted(c) ? ISW_EINTR : ISW_OK;
}

/* ---- set-up ------------------------------------------------------------ */

/* Waits for a request without spinning a core: a rank that only waits
 * (while another loads a dataset, say) leaves the CPU to those that work. */
static void wait_polling(MPI_Request *req)
{
    int done = 0;
    MPI_Test(req, &done, MPI_STATUS_IGNORE);
    while (!done) {
        nap();
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

typedef struct {
    isw_journal_data_t *items;           /* one per data group */
    uint64_t n;
} data_ident_t;

static void data_ident_free(data_ident_t *id)
{
    for (uint64_t g = 0; id->items && g < id->n; g++)
        free((char *)id->items[g].source);
    free(id->items);
    memset(id, 0, sizeof *id);
}

/* Rank 0: the content hash of every group's dataset.  Group 0's is loaded
 * already (node-shared); each other one is read, checked and hashed alone,
 * so a bad file in any group is refused before OUTDIR is touched and at
 * most one extra copy is in memory. */
static int data_identify(data_ident_t *id, const isw_grid_t *grid, const isw_spec_t *base,
                         const isw_data_t *group0, isw_error_t *err)
{
    id->n = grid->ngroups;
    id->items = calloc(id->n, sizeof *id->items);
    if (!id->items)
        return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory for %llu datasets",
                             (unsigned long long)id->n);
    for (uint64_t g = 0; g < id->n; g++) {
        if (got_signal)
            return isw_error_set(err, ISW_EINTR, "", 0, "interrupted");
        isw_spec_t s;
        int st = isw_grid_group_spec(&s, grid, base, g, err);
        if (st != ISW_OK)
            return st;
        if (!(id->items[g].source = data_source(&s)))
            return isw_error_set(err, ISW_ENOMEM, "", 0, "out of memory");
        if (g == 0) {
            id->items[g].hash = isw_data_hash(group0);
            continue;
        }
        isw_data_t d;
        if ((st = isw_data_load(&d, &s, err)) != ISW_OK)
            return st;
        id->items[g].hash = isw_data_hash(&d);
        isw_data_free(&d);
    }
    return ISW_OK;
}

/* The OpenBLAS kernel set of every rank, gathered to rank 0 as one line
 * for journal.meta ("Haswell x 63, SkylakeX x 1 (rank 17)").  A float run
 * near an edge can come out differently on other kernels, so a job whose
 * ranks differ is warned about: its records may depend on which rank ran
 * which task. */
#define CORE_NAME_MAX 32
static char *gather_blas_cores(const ctx_t *c, int quiet)
{
    char mine[CORE_NAME_MAX] = {0};
    snprintf(mine, sizeof mine, "%s", isw_mlp_blas_core());
    char *all = c->rank == 0 ? calloc((size_t)c->size, CORE_NAME_MAX) : NULL;
    MPI_Request req;
    MPI_Igather(mine, CORE_NAME_MAX, MPI_CHAR, all, CORE_NAME_MAX, MPI_CHAR, 0, c->comm, &req);
    wait_polling(&req);
    if (c->rank != 0 || !all)
        return NULL;
    size_t cap = 64 + (size_t)c->size * 12, off = 0;
    char *line = malloc(cap);
    int kinds = 0, odd = -1;
    for (int r = 0; line && r < c->size; r++) {
        const char *name = all + (size_t)r * CORE_NAME_MAX;
        int seen = 0, count = 0;
        for (int q = 0; q < r && !seen; q++)
            seen = strncmp(all + (size_t)q * CORE_NAME_MAX, name, CORE_NAME_MAX) == 0;
        if (seen)
            continue;
        for (int q = r; q < c->size; q++)
            count += strncmp(all + (size_t)q * CORE_NAME_MAX, name, CORE_NAME_MAX) == 0;
        if (kinds++ && odd < 0)
            odd = r;
        if (off < cap)
            off += (size_t)snprintf(line + off, cap - off, "%s%.31s x %d", kinds > 1 ? ", " : "",
                                    name, count);
    }
    if (line && kinds > 1 && !quiet)
        fprintf(stderr, "initsweep: warning: ranks use different OpenBLAS kernels (%s; rank %d "
                        "differs from rank 0): float runs near an edge may depend on which rank "
                        "ran them; set OPENBLAS_CORETYPE to one value for the whole job\n",
                line, odd);
    free(all);
    if (line) {
        char *full = malloc(off + 16);
        if (full)
            snprintf(full, off + 16, "blas_core %s", line);
        free(line);
        return full;
    }
    return NULL;
}

/* Rank 0, on resume: every journaled row must be a task of this sweep (a
 * grid task of this shard, or a refinement probe) whose axis values are the
 * task's own; anything else did not come from this sweep and would be
 * counted as if it had. */
static int check_resumed(const isw_journal_t *journal, const isw_grid_t *grid,
                         const isw_refine_t *refine, int shard_k, int shard_n, isw_error_t *err)
{
    const isw_runs_t *runs = isw_journal_runs(journal);
    const char *path = runs->nsources > 0 ? runs->sources[0] : "runs.csv";
    for (size_t i = 0; i < runs->nruns; i++) {
        const isw_run_t *r = &runs->runs[i];
        uint64_t t = r->rec.task;
        size_t idx[ISW_MAX_AXES];
        int probe = t >= grid->ntasks;
        if (!probe && !shard_owns(refine, shard_k, shard_n, t))
            return isw_error_set(err, ISW_EINVAL, path, r->line,
                                 "task %llu belongs to another shard than %d of %d",
                                 (unsigned long long)t, shard_k, shard_n);
        if (!probe)
            isw_grid_task_index(grid, t, idx);
        else if (!refine || isw_refine_probe_index(refine, t, idx) != ISW_OK)
            return isw_error_set(err, ISW_EINVAL, path, r->line,
                                 "task %llu is outside this sweep: its grid has tasks 0..%llu%s",
                                 (unsigned long long)t, (unsigned long long)grid->ntasks - 1,
                                 refine ? " and its refinement probes" : " and no refinement");
        for (int a = 0; a < grid->naxes; a++) {
            if (probe && a == grid->lr_axis)
                continue;   /* a probe's lr is its own */
            isw_axis_buf_t num;
            const char *want = isw_axis_text(&grid->sweep->axes[a], idx[a], &num);
            if (strcmp(r->values[a], want) != 0)
                return isw_error_set(err, ISW_EINVAL, path, r->line,
                                     "task %llu has %s = \"%.200s\", but task %llu of this "
                                     "sweep has %s = \"%.200s\"", (unsigned long long)t,
                                     grid->sweep->axes[a].key, r->values[a],
                                     (unsigned long long)t, grid->sweep->axes[a].key, want);
        }
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
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("SLURM_STEP_ID"))
        c.parent = getppid();

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
    data_ident_t ident = {0};
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
    /* The data before OUTDIR: a bad data file must leave no journal behind.
     * Group 0's dataset is loaded node-shared; rank 0 checks and hashes the
     * others (the journal's identity is the spec and its data). */
    isw_spec_t gspec;
    st = isw_grid_group_spec(&gspec, &grid, &spec, 0, &err);
    if (st == ISW_OK)
        st = load_shared_data(&c, &gspec, &data, &node, &win, &err);
    else
        st = agree(&c, st);
    if (st == ISW_OK && c.rank == 0 && (st = isw_grid_check_memory(&grid, &spec, &data, &err)) != ISW_OK &&
        err.file[0] == '\0')
        snprintf(err.file, sizeof err.file, "%s", args->path);
    if (st == ISW_OK && c.rank == 0)
        st = data_identify(&ident, &grid, &spec, &data, &err);
    if (agree(&c, st) != ISW_OK) {
        if (c.rank == 0 && st != ISW_OK)
            isw_error_print(stderr, &err);
        status = st == ISW_EINTR ? ISW_EXIT_INTERRUPTED : isw_cli_exit_status(st);
        if (status == ISW_EXIT_OK)
            status = ISW_EXIT_INPUT;
        goto out;
    }
    uint64_t loaded = 0;                 /* the group whose data are loaded */
    char *platform = gather_blas_cores(&c, args->quiet);
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
            st = isw_journal_open(&journal, outdir, hash, ident.items, (int)ident.n, axes,
                                  sweep.naxes, args->fresh, args->path, platform, &err);
        free(platform);
        if (st == ISW_OK)
            st = check_resumed(journal, &grid, refine, shard_k, shard_n, &err);
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

    coord_t co;
    memset(&co, 0, sizeof co);
    if (c.rank == 0) {
        co.c = &c;
        co.journal = journal;
        co.refine = refine;
        co.quiet = args->quiet;
        co.total_grid = grid.ntasks;
        co.shard_k = shard_k;
        co.shard_n = shard_n;
        co.owned = shard_tasks(&grid, refine, shard_k, shard_n);
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
    }
    /* One phase per data group with work left, in group order: every rank
     * trains on the group's dataset, loaded node-shared when the phase
     * starts, so at most one dataset is in memory however many a sweep
     * names.  Rank 0 picks the next group and tells the others. */
    st = ISW_OK;
    for (uint64_t next = 0;;) {
        long long group = -1;
        if (c.rank == 0 && !co.interrupted && !interrupted(&c))
            for (; next < grid.ngroups; next++) {
                co.group = next;
                co.cursor = 0;
                if (has_work(&co)) {
                    group = (long long)next++;
                    break;
                }
            }
        bcast_polling(&c, &group);
        if (group < 0)
            break;
        if ((uint64_t)group != loaded) {
            unload_shared_data(&data, &win);
            int lst = isw_grid_group_spec(&gspec, &grid, &spec, (uint64_t)group, &err);
            if (lst == ISW_OK)
                lst = load_shared_data(&c, &gspec, &data, &node, &win, &err);
            else
                lst = agree(&c, lst);
            if (lst != ISW_OK) {
                /* the file changed or vanished while the sweep ran */
                if (c.rank == 0)
                    isw_error_print(stderr, &err);
                status = isw_cli_exit_status(lst);
                break;
            }
            loaded = (uint64_t)group;
        }
        if (c.rank == 0) {
            co.stopping = co.stop_sent = co.nleft = 0;
            memset(co.parked, 0, (size_t)c.size * sizeof *co.parked);
            memset(co.left, 0, (size_t)c.size * sizeof *co.left);
            st = coordinate(&co);
            if (st != ISW_OK)
                co.interrupted = 1;
        } else {
            work(&c);
            /* workers exit with the coordinator's verdict, told below */
        }
    }
    if (c.rank == 0) {
        free(co.parked);
        free(co.left);
        free(co.deferred);
        progress(&co, 1);
        if (status != ISW_EXIT_OK) {
            /* a dataset could not be loaded: the journal stays resumable */
        } else if (!co.interrupted) {
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
    unload_shared_data(&data, &win);
    data_ident_free(&ident);
    if (node != MPI_COMM_NULL)
        MPI_Comm_free(&node);
    isw_refine_free(refine);
    isw_sweep_free(&sweep);
    MPI_Comm_free(&c.comm);
    MPI_Finalize();
    return status;
}
