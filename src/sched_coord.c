/* Rank 0's coordinator: hands out grid tasks and refinement probes in
 * chunks, journals the records that come back, trains between those duties
 * on small jobs, prints progress (sched_internal.h has the protocol). */
#include "sched_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "initsweep/journal.h"
#include "initsweep/refine.h"

struct coord {
    ctx_t *c;
    isw_journal_t *journal;
    isw_refine_t *refine;
    int quiet;
    uint64_t group;                      /* the data group being trained */
    uint64_t cursor;                     /* next unit of the group to consider */
    uint64_t unit_tasks[ISW_MAX_LANES];  /* the tasks of the unit at cursor (skip_units) */
    size_t unit_n;                       /* how many */
    work_item_t *deferred;               /* probes not yet handed out, any group */
    size_t ndeferred, deferred_cap;
    uint64_t inflight;                   /* runs handed out, no record yet */
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
};

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

/* Skips the group's units of another shard or with every task journaled.
 * A shard of a huge resumed grid may skip for long: the loop watches for
 * signals. */
static void skip_units(coord_t *co)
{
    const isw_grid_t *g = &co->c->job->grid;
    for (unsigned spins = 0; co->cursor < g->group_units; co->cursor++) {
        size_t n = isw_grid_unit_tasks(g, co->group * g->group_units + co->cursor,
                                       co->unit_tasks);
        co->unit_n = n;
        if (isw_run_owns(co->c->job, co->unit_tasks[0]))
            for (size_t i = 0; i < n; i++)
                if (!isw_journal_done(co->journal, co->unit_tasks[i]))
                    return;
        if (++spins % (1u << 16) == 0 && isw_sched_interrupted(co->c))
            break;
    }
}

static int defer_probe(coord_t *co, work_item_t w)
{
    work_item_t *d = isw_grow(co->deferred, &co->deferred_cap, co->ndeferred + 1, sizeof *d, 64);
    if (!d)
        return ISW_ENOMEM;
    co->deferred = d;
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
        if (defer_probe(co, (work_item_t){.id = p.task, .lr = p.lr, .runs = 1, .probe = 1}) !=
            ISW_OK) {
            isw_error_t err;
            isw_error_set(&err, ISW_ENOMEM, "", 0, "out of memory for refinement probes");
            isw_sched_die(co->c, &err, "coordinator");
        }
    }
}

static uint64_t probe_group(const coord_t *co, uint64_t task)
{
    size_t idx[ISW_MAX_AXES];
    if (isw_refine_probe_index(co->refine, task, idx) != ISW_OK)
        return UINT64_MAX;
    return isw_grid_index_group(&co->c->job->grid, idx);
}

/* Index of the first deferred probe of the current group (FIFO), or -1. */
static long find_probe(const coord_t *co)
{
    for (size_t i = 0; i < co->ndeferred; i++)
        if (co->c->job->grid.ngroups == 1 || probe_group(co, co->deferred[i].id) == co->group)
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
    skip_units(co);
    return co->cursor < co->c->job->grid.group_units;
}

/* Next item to hand out: probes first (they unblock further rounds), then
 * the group's units in id order, skipping those already journaled. */
static int next_item(coord_t *co, work_item_t *w)
{
    if (co->stopping)
        return 0;
    drain_probes(co);
    if (take_probe(co, w))
        return 1;
    skip_units(co);
    const isw_grid_t *g = &co->c->job->grid;
    if (co->cursor < g->group_units) {
        uint64_t u = co->group * g->group_units + co->cursor++;
        *w = (work_item_t){.id = u, .lr = NAN, .runs = (uint32_t)co->unit_n};
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

/* Runs per chunk: about CHUNK_SECONDS of work by the running mean, and at
 * most a quarter of a fair share of what is left, so the tail balances. */
static double chunk_runs(const coord_t *co)
{
    const isw_grid_t *g = &co->c->job->grid;
    double k = co->nmeasured ? CHUNK_SECONDS / (co->mean_seconds + 1e-6) : 1.0;
    double per_unit = (double)(g->family_size < g->unit_size ? g->family_size : g->unit_size);
    double left = (double)(g->group_units - co->cursor) * per_unit + (double)co->ndeferred +
                  (double)probes_queued(co);
    double fair = left / (4.0 * co->c->size * co->c->job->shard_n);
    return k < fair ? k : fair;
}

/* A chunk: items until chunk_runs runs, at most want (and CHUNK_MAX) items,
 * at least one. */
static void send_work(coord_t *co, int worker, int want)
{
    work_item_t items[CHUNK_MAX];
    double k = chunk_runs(co);
    uint64_t runs = 0;
    int n = 0;
    while (n < want && n < CHUNK_MAX && (n == 0 || (double)runs < k) &&
           next_item(co, &items[n]))
        runs += items[n++].runs;
    if (n == 0) {
        co->parked[worker] = want;
        return;
    }
    co->parked[worker] = 0;
    co->inflight += runs;
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
    int probe = rec->task >= c->job->grid.ntasks;
    if (!probe) {
        isw_grid_task_index(&c->job->grid, rec->task, idx);
    } else if (!co->refine || isw_refine_probe_index(co->refine, rec->task, idx) != ISW_OK ||
               isw_refine_probe_lr(co->refine, rec->task, &probe_lr) != ISW_OK) {
        isw_error_set(&err, ISW_EINVAL, "", 0, "a result for unknown task %llu",
                      (unsigned long long)rec->task);
        isw_sched_die(c, &err, "coordinator");
    }
    for (int a = 0; a < c->job->grid.naxes; a++) {
        if (probe && a == c->job->grid.lr_axis) {
            isw_refine_format_lr(probe_lr, probe_text, sizeof probe_text);
            vp[a] = probe_text;
        } else {
            vp[a] = isw_axis_text(&c->job->grid.sweep->axes[a], idx[a], &nums[a]);
        }
    }
    if (isw_journal_append(co->journal, vp, rec, &err) != ISW_OK)
        isw_sched_die(c, &err, "cannot append to the journal");
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

/* Of n slices, those of this job's shard (whole slices go round-robin). */
static uint64_t shard_slices(const isw_run_job_t *job, uint64_t n)
{
    uint64_t k = (uint64_t)job->shard_k, shards = (uint64_t)job->shard_n;
    return shards > 1 ? (n - k + shards - 1) / shards : n;
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
                        (unsigned long long)shard_slices(co->c->job, stotal));
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
            isw_record_t recs[RESULTS_MAX];
            int bytes;
            MPI_Get_count(&s, MPI_BYTE, &bytes);
            MPI_Recv(recs, (int)sizeof recs, MPI_BYTE, s.MPI_SOURCE, TAG_RESULT, c->comm,
                     MPI_STATUS_IGNORE);
            int n = bytes / (int)sizeof *recs;
            co->inflight -= (uint64_t)n;
            /* a resumed unit retrains tasks the journal holds already */
            for (int i = 0; i < n; i++)
                if (!isw_journal_done(co->journal, recs[i].task))
                    journal_record(co, &recs[i]);
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
            isw_sched_die(c, &err, "coordinator");
        }
    }
    /* parked workers get work as soon as there is some */
    for (int w = 1; w < c->size && !co->stopping; w++)
        if (co->parked[w] && has_work(co))
            send_work(co, w, co->parked[w]);
    if (isw_sched_interrupted(c) && !co->stopping)
        co->stopping = co->interrupted = 1;
    if (!co->stopping && phase_complete(co))
        co->stopping = 1;
    if (co->stopping)
        send_stop_all(co);
    double now = isw_now();
    if (now - co->t_sync > 5.0) {
        isw_error_t err;
        if (isw_journal_sync(co->journal, &err) != ISW_OK)
            isw_sched_die(c, &err, "cannot sync the journal");
        co->t_sync = now;
    }
    progress(co, 0);
    return handled;
}

typedef struct {
    coord_t *co;
    int abandon;
    uint32_t delivered;                  /* records of the item so far */
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

/* Rank 0's own runs: each record into the journal as its run ends (but
 * those the journal holds already, or when the run is being abandoned). */
static void coord_done(const isw_record_t *rec, void *user)
{
    self_train_t *st = user;
    st->co->inflight--;
    st->delivered++;
    if (!st->abandon && !isw_journal_done(st->co->journal, rec->task))
        journal_record(st->co, rec);
}

static int coordinate(coord_t *co)
{
    ctx_t *c = co->c;
    int trains = c->size <= ISW_SCHED_TRAINING_COORDINATOR;
    while (!(co->stopping && co->nleft == c->size - 1 && (co->inflight == 0 || co->interrupted))) {
        int handled = serve(co);
        work_item_t w;
        if (trains && !co->stopping && next_item(co, &w)) {
            co->inflight += w.runs;
            self_train_t st = {co, 0, 0};
            isw_sched_train_item(c, &w, coord_epoch, &st, coord_done, &st);
            /* runs a stop left unstarted return nothing */
            co->inflight -= w.runs - st.delivered;
            continue;
        }
        if (!handled)
            isw_sched_nap();
    }
    return co->interrupted ? ISW_EINTR : ISW_OK;
}

coord_t *isw_sched_coord_new(ctx_t *c, isw_run_job_t *job)
{
    coord_t *co = calloc(1, sizeof *co);
    if (!co)
        return NULL;
    co->c = c;
    co->journal = job->journal;
    co->refine = job->refine;
    co->quiet = job->opts.quiet;
    co->total_grid = job->grid.ntasks;
    co->owned = isw_run_owned_tasks(job);
    co->parked = calloc((size_t)c->size, sizeof *co->parked);
    co->left = calloc((size_t)c->size, sizeof *co->left);
    co->t_start = co->t_progress = co->t_sync = isw_now();
    co->tty = isatty(STDERR_FILENO);
    if (!co->parked || !co->left) {
        free(co->parked);
        free(co->left);
        free(co);
        return NULL;
    }
    const isw_runs_t *runs = isw_journal_runs(job->journal);
    for (size_t i = 0; i < runs->nruns; i++) {
        const isw_record_t *rec = &runs->runs[i].rec;
        count_outcome(co, rec);
        if (job->refine && rec->task < job->grid.ntasks)
            isw_refine_record(job->refine, rec->task, rec->outcome);
    }
    co->done_at_start = co->done;
    if (!co->quiet && co->done)
        fprintf(stderr, "initsweep: resuming %s: %llu runs already done\n", job->outdir,
                (unsigned long long)co->done);
    return co;
}

long long isw_sched_coord_next_group(coord_t *co, uint64_t *next)
{
    if (co->interrupted || isw_sched_interrupted(co->c))
        return -1;
    for (; *next < co->c->job->grid.ngroups; (*next)++) {
        co->group = *next;
        co->cursor = 0;
        if (has_work(co))
            return (long long)(*next)++;
    }
    return -1;
}

void isw_sched_coord_phase(coord_t *co)
{
    size_t n = (size_t)co->c->size;
    co->stopping = co->stop_sent = co->nleft = 0;
    memset(co->parked, 0, n * sizeof *co->parked);
    memset(co->left, 0, n * sizeof *co->left);
    if (coordinate(co) != ISW_OK)
        co->interrupted = 1;
}

int isw_sched_coord_end(coord_t *co)
{
    progress(co, 1);
    int interrupted = co->interrupted;
    free(co->parked);
    free(co->left);
    free(co->deferred);
    free(co);
    return interrupted;
}
