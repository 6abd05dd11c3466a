/* Packs: runs trained as the lanes of one net give the records they give
 * alone (outcomes and epochs exactly, losses to rounding), for every
 * activation x output x loss x precision, full batch with lanes refilled as
 * runs end and mini-batch in rounds; the same list gives the same bits;
 * what may not share a pack is refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "check.h"
#include "initsweep/data.h"
#include "initsweep/spec.h"
#include "initsweep/train.h"

#define NRUNS 10

/* 200 samples of three-class blobs (classification) or a noisy linear
 * map (regression), one hidden layer of 8, 6 epochs, no early stops: what
 * ends a run early is only divergence, so the comparison does not sit on
 * an accuracy that rounding could tip over a target. */
static isw_spec_t base_spec(int act, int out, int loss, int prec, long batch)
{
    isw_spec_t s;
    isw_spec_defaults(&s);
    s.base_seed = 11;
    s.seed = 4;
    s.data.kind = ISW_DATA_SYNTHETIC;
    s.data.samples = 200;
    if (out == ISW_OUT_LINEAR) {
        s.data.generator = ISW_GEN_LINEAR;
        s.data.inputs = 4;
        s.data.targets = 1;         /* one output unit: the matrix-vector paths */
        s.data.noise = 0.2;
        s.data.classes = 0;
    } else {
        s.data.generator = ISW_GEN_BLOBS;
        s.data.classes = 3;
    }
    s.model.nhidden = 1;
    s.model.hidden[0] = 8;
    s.model.activation = (isw_act_t)act;
    s.model.output = (isw_out_t)out;
    s.model.loss = (isw_loss_t)loss;
    s.model.output_set = s.model.loss_set = 1;
    s.train.precision = (isw_prec_t)prec;
    s.train.batch = batch;
    s.train.epochs = 6;
    s.criteria.stop_on_target = 0;
    s.criteria.stop_on_flat = 0;
    return s;
}

/* Run i of the list: learning rates from tiny to far past divergence, two
 * init scales and families, momentum on some: the lanes differ in every
 * setting a lane may hold. */
static void vary(isw_spec_t *s, int i, int momentum)
{
    static const double lr[NRUNS] = {1e-3, 0.05, 3e4, 0.2, 1e-2, 5e5, 0.1, 0.02, 2e4, 0.3};
    s->train.lr = lr[i];
    s->train.momentum = momentum && i % 3 == 0 ? 0.5 : 0.0;
    s->init.dist = i % 2 ? ISW_DIST_NORMAL : ISW_DIST_UNIFORM;
    s->init.scale = i % 4 < 2 ? 0.5 : 1.0;
    s->train.lr_layer[1] = i == 7 ? 0.5 : 1.0;
}

static int same_record(const isw_record_t *a, const isw_record_t *b, double tol)
{
    int ok = a->task == b->task && a->outcome == b->outcome;
    if (a->outcome != ISW_OUTCOME_DIVERGED)
        ok = ok && a->epochs == b->epochs && a->epoch_converged == b->epoch_converged &&
             fabs(a->loss_final - b->loss_final) <= tol * fmax(1, fabs(b->loss_final)) &&
             fabs(a->loss_best - b->loss_best) <= tol * fmax(1, fabs(b->loss_best));
    ok = ok && fabs(a->loss_initial - b->loss_initial) <= tol * fmax(1, fabs(b->loss_initial)) &&
         fabs(a->grad_norm_initial - b->grad_norm_initial) <=
             tol * fmax(1, fabs(b->grad_norm_initial));
    return ok;
}

static int done_count;
static uint64_t done_tasks[NRUNS];

static void count_done(const isw_record_t *rec, void *user)
{
    (void)user;
    if (done_count < NRUNS)
        done_tasks[done_count] = rec->task;
    done_count++;
}

/* Every case packed (K = 4: refills, a last partial pack) against each
 * run alone.  momentum 0: no lane has momentum, so mini-batch packs step
 * through isw_mlp_backward_sgd. */
static void test_pack_matches_lone(long batch, int momentum)
{
    int cases = 0, diverged = 0, lanes_seen = 0, total = 0;
    for (int act = ISW_ACT_SIGMOID; act <= ISW_ACT_LINEAR; act++)
        for (int out = ISW_OUT_SIGMOID; out <= ISW_OUT_LINEAR; out++)
            for (int loss = ISW_LOSS_MSE; loss <= ISW_LOSS_CROSS_ENTROPY; loss++)
                for (int prec = ISW_PREC_FLOAT; prec <= ISW_PREC_DOUBLE; prec++) {
                    if (loss == ISW_LOSS_CROSS_ENTROPY && out == ISW_OUT_LINEAR)
                        continue;
                    isw_spec_t specs[NRUNS];
                    isw_error_t err;
                    isw_data_t d;
                    specs[0] = base_spec(act, out, loss, prec, batch);
                    if (!CHECK_INT(isw_spec_validate(&specs[0], "test", &err), ISW_OK) ||
                        !CHECK_INT(isw_data_load(&d, &specs[0], &err), ISW_OK)) {
                        isw_error_print(stderr, &err);
                        return;
                    }
                    isw_record_t packed[NRUNS], lone[NRUNS];
                    for (int i = 0; i < NRUNS; i++) {
                        specs[i] = specs[0];
                        vary(&specs[i], i, momentum);
                        specs[i].train.pack = 4;
                        packed[i].task = lone[i].task = 100 + (uint64_t)i;
                        CHECK_INT(isw_train_run(&lone[i], &specs[i], &d, NULL, NULL, &err),
                                  ISW_OK);
                    }
                    lanes_seen = isw_train_pack_lanes(&specs[0], &d, NRUNS);
                    done_count = 0;
                    CHECK_INT(isw_train_pack(packed, specs, NRUNS, &d, NULL, NULL, count_done,
                                             NULL, &err),
                              ISW_OK);
                    CHECK_INT(done_count, NRUNS);
                    double tol = prec == ISW_PREC_DOUBLE ? 1e-9 : 2e-3;
                    for (int i = 0; i < NRUNS; i++) {
                        int ok = same_record(&packed[i], &lone[i], tol);
                        if (!ok)
                            fprintf(stderr,
                                    "pack differs (batch %ld act %d out %d loss %d prec %d run "
                                    "%d): outcome %d/%d epochs %d/%d loss_final %.9g/%.9g\n",
                                    batch, act, out, loss, prec, i, packed[i].outcome,
                                    lone[i].outcome, packed[i].epochs, lone[i].epochs,
                                    packed[i].loss_final, lone[i].loss_final);
                        CHECK(ok);
                        diverged += lone[i].outcome == ISW_OUTCOME_DIVERGED;
                        total++;
                        CHECK(packed[i].seconds >= 0);
                    }
                    /* the same list again: the same bits */
                    isw_record_t again[NRUNS];
                    for (int i = 0; i < NRUNS; i++)
                        again[i].task = packed[i].task;
                    CHECK_INT(isw_train_pack(again, specs, NRUNS, &d, NULL, NULL, NULL, NULL,
                                             &err),
                              ISW_OK);
                    for (int i = 0; i < NRUNS; i++) {
                        again[i].seconds = packed[i].seconds = 0;
                        CHECK(memcmp(&again[i], &packed[i], sizeof again[i]) == 0);
                    }
                    isw_data_free(&d);
                    cases++;
                }
    CHECK_INT(cases, 50);
    CHECK_INT(lanes_seen, 4);
    /* the list mixes runs that end at once with runs that go the distance */
    printf("batch %ld, momentum %d: %d cases, %d of %d runs diverged\n", batch, momentum, cases,
           diverged, total);
    CHECK(diverged >= cases / 2 && diverged <= total / 2);
}

static int stop_after_two(const isw_epoch_t *ep, void *user)
{
    int *calls = user;
    (void)ep;
    return ++*calls >= 2;
}

/* What lanes do not share is refused; sharpness packs like the rest;
 * a stop ends the lanes in use and leaves the rest untrained. */
static void test_pack_rules(void)
{
    isw_spec_t specs[3];
    isw_error_t err;
    isw_data_t d;
    specs[0] = base_spec(ISW_ACT_TANH, ISW_OUT_SOFTMAX, ISW_LOSS_CROSS_ENTROPY, ISW_PREC_FLOAT, 0);
    if (!CHECK_INT(isw_spec_validate(&specs[0], "test", &err), ISW_OK) ||
        !CHECK_INT(isw_data_load(&d, &specs[0], &err), ISW_OK))
        return;
    specs[1] = specs[2] = specs[0];
    CHECK_INT(isw_train_pack_compatible(&specs[0], &specs[1]), 1);
    specs[1].train.lr = 5;
    specs[1].init.scale = 3;
    specs[1].criteria.patience = 2;
    CHECK_INT(isw_train_pack_compatible(&specs[0], &specs[1]), 1);
    specs[2].model.hidden[0] = 9;
    CHECK_INT(isw_train_pack_compatible(&specs[0], &specs[2]), 0);
    isw_record_t recs[3] = {{.task = 1}, {.task = 2}, {.task = 3}};
    CHECK_INT(isw_train_pack(recs, specs, 3, &d, NULL, NULL, NULL, NULL, &err), ISW_EINVAL);
    CHECK(strstr(err.text, "run 2") != NULL);
    specs[2] = specs[0];
    specs[2].seed = 5;
    CHECK_INT(isw_train_pack_compatible(&specs[0], &specs[2]), 0);

    /* automatic lanes: within 1..ISW_MAX_LANES and never more than runs */
    specs[0].train.pack = 0;
    int k = isw_train_pack_lanes(&specs[0], &d, 1000);
    CHECK(k >= 1 && k <= ISW_MAX_LANES);
    CHECK_INT(isw_train_pack_lanes(&specs[0], &d, 2), k < 2 ? k : 2);
    specs[0].train.pack = 1;
    CHECK_INT(isw_train_pack_lanes(&specs[0], &d, 1000), 1);
    specs[0].train.pack = 7;
    CHECK_INT(isw_train_pack_lanes(&specs[0], &d, 1000), 7);
    specs[0].train.sharpness = 1;      /* each lane probes its own curvature */
    CHECK_INT(isw_train_pack_lanes(&specs[0], &d, 1000), 7);
    specs[0].train.sharpness = 0;
    specs[1] = specs[0];
    specs[1].train.lr_unit = ISW_LR_SHARPNESS;
    CHECK_INT(isw_train_pack_compatible(&specs[0], &specs[1]), 0);

    /* stop at the second round's report: the two lanes in use end at
     * epoch 1, the third run never starts */
    specs[0].train.pack = 2;
    specs[1] = specs[2] = specs[0];
    specs[1].train.lr = 0.05;
    specs[2].train.lr = 0.01;
    int calls = 0;
    CHECK_INT(isw_train_pack(recs, specs, 3, &d, stop_after_two, &calls, NULL, NULL, &err),
              ISW_OK);
    CHECK_INT(calls, 2);
    CHECK_INT(recs[0].epochs, 1);
    CHECK_INT(recs[1].epochs, 1);
    CHECK(isnan(recs[2].loss_initial));
    CHECK_INT(recs[2].task, 3);
    isw_data_free(&d);
}

/* The sharpness probes leave the gradient of the step they precede as it
 * was: a full-batch run with train.sharpness trains the same bits as
 * without. */
static void test_sharpness_keeps_step(void)
{
    isw_spec_t s = base_spec(ISW_ACT_TANH, ISW_OUT_SOFTMAX, ISW_LOSS_CROSS_ENTROPY,
                             ISW_PREC_FLOAT, 0);
    s.train.lr = 0.5;
    isw_error_t err;
    isw_data_t d;
    if (!CHECK_INT(isw_spec_validate(&s, "test", &err), ISW_OK) ||
        !CHECK_INT(isw_data_load(&d, &s, &err), ISW_OK))
        return;
    isw_record_t a = {.task = 1}, b = {.task = 1};
    CHECK_INT(isw_train_run(&a, &s, &d, NULL, NULL, &err), ISW_OK);
    s.train.sharpness = 1;
    s.train.sharpness_iters = 5;
    CHECK_INT(isw_train_run(&b, &s, &d, NULL, NULL, &err), ISW_OK);
    CHECK(isfinite(b.sharpness_initial) && b.sharpness_initial > 0);
    CHECK(a.loss_final == b.loss_final);
    CHECK(a.loss_best == b.loss_best);

    /* In a pack (K = 4 over 10 runs, refills included) every lane's
     * sharpness is its lone run's, bit for bit (the probes read the lane's
     * parameters into double); with train.lr_unit: sharpness each lane
     * trains at c / lambda_0 of its own init, as it would alone. */
    for (int unit = ISW_LR_ABSOLUTE; unit <= ISW_LR_SHARPNESS; unit++) {
        isw_spec_t specs[NRUNS];
        isw_record_t packed[NRUNS], lone[NRUNS];
        for (int i = 0; i < NRUNS; i++) {
            specs[i] = s;
            vary(&specs[i], i, 1);
            specs[i].train.lr_unit = unit;
            if (unit == ISW_LR_SHARPNESS)
                specs[i].train.lr = 0.25 * (i + 1);   /* c from 0.25 to 2.5 */
            specs[i].train.pack = 4;
            specs[i].train.sharpness_every = unit == ISW_LR_SHARPNESS ? 2 : 0;
            packed[i].task = lone[i].task = (uint64_t)i;
            CHECK_INT(isw_train_run(&lone[i], &specs[i], &d, NULL, NULL, &err), ISW_OK);
        }
        CHECK_INT(isw_train_pack(packed, specs, NRUNS, &d, NULL, NULL, NULL, NULL, &err),
                  ISW_OK);
        for (int i = 0; i < NRUNS; i++) {
            CHECK(packed[i].sharpness_initial == lone[i].sharpness_initial);
            CHECK(packed[i].lr_used == lone[i].lr_used);
            CHECK(same_record(&packed[i], &lone[i], 2e-3));
            if (unit == ISW_LR_SHARPNESS)
                CHECK_NEAR(packed[i].lr_used * packed[i].sharpness_initial, specs[i].train.lr,
                           1e-12 * specs[i].train.lr);
            else
                CHECK(packed[i].lr_used == specs[i].train.lr);
            /* tracked sharpness: each lane's own eigenvector estimate
             * follows it through refills and compaction */
            if (unit == ISW_LR_SHARPNESS && lone[i].outcome != ISW_OUTCOME_DIVERGED) {
                CHECK(isfinite(lone[i].sharpness_max) && isfinite(lone[i].sharpness_final));
                CHECK_NEAR(packed[i].sharpness_max / lone[i].sharpness_max, 1.0, 1e-2);
                CHECK_NEAR(packed[i].sharpness_final / lone[i].sharpness_final, 1.0, 1e-2);
            }
        }
    }
    isw_data_free(&d);
}

/* The batch sharpness of SGD runs (mini-batches from each run's probe
 * stream, not the training order): packed as alone, and the training
 * itself untouched by the probes. */
static void test_batch_sharpness(void)
{
    isw_spec_t s = base_spec(ISW_ACT_TANH, ISW_OUT_LINEAR, ISW_LOSS_MSE, ISW_PREC_DOUBLE, 32);
    isw_error_t err;
    isw_data_t d;
    if (!CHECK_INT(isw_spec_validate(&s, "test", &err), ISW_OK) ||
        !CHECK_INT(isw_data_load(&d, &s, &err), ISW_OK))
        return;
    isw_spec_t specs[NRUNS];
    isw_record_t packed[NRUNS], lone[NRUNS], plain = {.task = 0};
    CHECK_INT(isw_train_run(&plain, &s, &d, NULL, NULL, &err), ISW_OK);
    for (int i = 0; i < NRUNS; i++) {
        specs[i] = s;
        vary(&specs[i], i, 0);
        specs[i].train.pack = 4;
        specs[i].train.sharpness_every = 2;
        specs[i].train.sharpness_iters = 5;
        specs[i].train.batch_sharpness = 3;
        packed[i].task = lone[i].task = (uint64_t)i;
        CHECK_INT(isw_train_run(&lone[i], &specs[i], &d, NULL, NULL, &err), ISW_OK);
    }
    CHECK_INT(isw_train_pack(packed, specs, NRUNS, &d, NULL, NULL, NULL, NULL, &err), ISW_OK);
    int seen = 0;
    for (int i = 0; i < NRUNS; i++) {
        CHECK(same_record(&packed[i], &lone[i], 1e-9));
        if (lone[i].outcome == ISW_OUTCOME_DIVERGED)
            continue;
        CHECK(isfinite(lone[i].batch_sharpness_final) && lone[i].batch_sharpness_final > 0);
        CHECK_NEAR(packed[i].batch_sharpness_final / lone[i].batch_sharpness_final, 1.0, 1e-9);
        seen++;
    }
    CHECK(seen >= 3);
    /* the probes do not move the training: run 0 with and without them */
    isw_spec_t q = s;
    q.train.batch_sharpness = 3;
    q.train.sharpness_every = 2;
    isw_record_t probed = {.task = 0};
    CHECK_INT(isw_train_run(&probed, &q, &d, NULL, NULL, &err), ISW_OK);
    CHECK(probed.loss_final == plain.loss_final);
    isw_data_free(&d);
}

int main(void)
{
    gsl_set_error_handler_off();
    test_pack_matches_lone(0, 1);
    test_pack_matches_lone(32, 1);
    test_pack_matches_lone(32, 0);
    test_pack_rules();
    test_sharpness_keeps_step();
    test_batch_sharpness();
    return CHECK_DONE();
}
