/* Journal: append, exact read-back, resume, torn and corrupt lines, spec
 * hash, lock held by another process, atomic files. */
#include "check.h"
#include "initsweep/journal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const AXES[] = {"train.lr", "model.hidden", "seed"};
#define NAXES 3

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void append_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "ab");
    fputs(text, f);
    fclose(f);
}

/* Doubles chosen to break any formatting that does not round-trip. */
static isw_record_t make_record(uint64_t task, int variant)
{
    isw_record_t r;
    isw_record_init(&r, task);
    r.outcome = variant % ISW_NOUTCOMES;
    r.epochs = 30 + variant;
    r.epoch_converged = variant == 0 ? 7 : -1;
    r.layer_dead = variant == 2;
    r.loss_initial = 0.1 + variant;
    r.loss_final = variant == 1 ? INFINITY : 1.0 / 3.0;
    r.loss_best = 5e-324;                       /* smallest denormal */
    r.loss_max = 1.7976931348623157e308;        /* largest double */
    r.accuracy_final = variant == 1 ? NAN : 0.87654321098765432;
    r.grad_norm_initial = 1e-300 * (variant + 1);
    r.dead_fraction = -0.0;
    r.saturated_fraction = 2.0 / 7.0;
    r.output_saturated_fraction = 0.5;
    r.sharpness_initial = variant == 2 ? 123.456e7 : NAN;
    r.seconds = 0.0123456789012345678;
    return r;
}

/* Bitwise equality (NaN == NaN, -0 != +0). */
static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static int same_record(const isw_record_t *a, const isw_record_t *b)
{
    return a->task == b->task && a->outcome == b->outcome && a->epochs == b->epochs &&
           a->epoch_converged == b->epoch_converged && a->layer_dead == b->layer_dead &&
           same_double(a->loss_initial, b->loss_initial) &&
           same_double(a->loss_final, b->loss_final) &&
           same_double(a->loss_best, b->loss_best) && same_double(a->loss_max, b->loss_max) &&
           same_double(a->accuracy_final, b->accuracy_final) &&
           same_double(a->grad_norm_initial, b->grad_norm_initial) &&
           same_double(a->dead_fraction, b->dead_fraction) &&
           same_double(a->saturated_fraction, b->saturated_fraction) &&
           same_double(a->output_saturated_fraction, b->output_saturated_fraction) &&
           same_double(a->sharpness_initial, b->sharpness_initial) &&
           same_double(a->seconds, b->seconds);
}

static const char *VALUES[3][NAXES] = {
    {"0.001", "[16, 16]", "0"},
    {"0.5", "[15]", "1"},
    {"10", "say \"hi\"", "2"},
};

static void test_append_and_read(const char *dir)
{
    isw_journal_t *j = NULL;
    isw_error_t err;
    isw_error_clear(&err);
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_OK);
    CHECK(j != NULL);
    CHECK_INT(isw_journal_count(j), 0);
    /* sparse task ids: grid indices and a refinement probe far above */
    uint64_t tasks[3] = {3, 0, UINT64_C(1) << 40};
    for (int i = 0; i < 3; i++) {
        isw_record_t r = make_record(tasks[i], i);
        CHECK_INT(isw_journal_append(j, VALUES[i], &r, &err), ISW_OK);
    }
    isw_record_t dup = make_record(3, 0);
    CHECK_INT(isw_journal_append(j, VALUES[0], &dup, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "already");
    isw_record_t bad = make_record(99, 0);
    bad.outcome = ISW_NOUTCOMES;
    CHECK_INT(isw_journal_append(j, VALUES[0], &bad, &err), ISW_EINVAL);
    CHECK(isw_journal_done(j, 3) && isw_journal_done(j, 0) &&
          isw_journal_done(j, UINT64_C(1) << 40));
    CHECK(!isw_journal_done(j, 1) && !isw_journal_done(j, 99));
    CHECK_INT(isw_journal_sync(j, &err), ISW_OK);
    CHECK_INT(isw_journal_close(j, &err), ISW_OK);
    CHECK_INT(isw_journal_close(NULL, &err), ISW_OK);

    char path[2100];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    char *text = slurp(path);
    CHECK(text != NULL);
    /* the header: task, the axes in their order, every schema column */
    char want[1024] = "task,train.lr,model.hidden,seed";
    for (int c = 0; c < ISW_RECORD_NCOLUMNS; c++)
        snprintf(want + strlen(want), sizeof want - strlen(want), ",%s",
                 isw_record_columns[c].name);
    CHECK(text && strncmp(text, want, strlen(want)) == 0 && text[strlen(want)] == '\n');
    CHECK_CONTAINS(text, "\n3,0.001,\"[16, 16]\",0,converged,30,7,");
    CHECK_CONTAINS(text, "\n0,0.5,[15],1,diverged,31,,1.1000000000000001,inf,");
    CHECK_CONTAINS(text, "\"say \"\"hi\"\"\"");
    /* NaN accuracy of variant 1 and NaN sharpness are empty fields */
    CHECK_CONTAINS(text, "1.7976931348623157e+308,0,,");
    free(text);

    isw_runs_t runs = {0};
    CHECK_INT(isw_runs_read(&runs, path, &err), ISW_OK);
    CHECK_INT(runs.naxes, NAXES);
    CHECK_INT(runs.nruns, 3);
    for (int i = 0; i < NAXES && runs.naxes == NAXES; i++)
        CHECK_STR(runs.axes[i], AXES[i]);
    for (int i = 0; i < 3 && runs.nruns == 3; i++) {
        isw_record_t want = make_record(tasks[i], i);
        CHECK(same_record(&runs.runs[i].rec, &want));
        CHECK_INT(runs.runs[i].line, i + 2);
        for (int a = 0; a < NAXES; a++)
            CHECK_STR(runs.runs[i].values[a], VALUES[i][a]);
    }
    CHECK(runs.nruns == 3 && signbit(runs.runs[0].rec.dead_fraction));
    CHECK_INT(isw_runs_find(&runs, UINT64_C(1) << 40), 2);
    CHECK_INT(isw_runs_find(&runs, 5), -1);
    isw_runs_free(&runs);
    isw_runs_free(NULL);

    /* the meta file names the hash */
    snprintf(path, sizeof path, "%s/journal.meta", dir);
    text = slurp(path);
    CHECK_CONTAINS(text, "spec_hash 000000000000002a\n");
    free(text);
}

/* Same hash: resume with the finished set, then keep appending. */
static void test_resume(const char *dir)
{
    isw_journal_t *j = NULL;
    isw_error_t err;
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_OK);
    if (!j)
        return;
    CHECK_INT(isw_journal_count(j), 3);
    CHECK(isw_journal_done(j, 3) && isw_journal_done(j, 0));
    CHECK(!isw_journal_done(j, 1));
    const isw_runs_t *runs = isw_journal_runs(j);
    isw_record_t want = make_record(UINT64_C(1) << 40, 2);
    long k = isw_runs_find(runs, UINT64_C(1) << 40);
    CHECK(k >= 0 && same_record(&runs->runs[k].rec, &want));
    CHECK(k >= 0 && strcmp(runs->runs[k].values[1], VALUES[2][1]) == 0);
    isw_record_t r = make_record(1, 4);
    CHECK_INT(isw_journal_append(j, VALUES[1], &r, &err), ISW_OK);
    CHECK_INT(isw_journal_count(j), 4);
    CHECK(isw_journal_done(j, 1));
    CHECK_STR(isw_journal_outdir(j), dir);
    CHECK_INT(isw_journal_close(j, &err), ISW_OK);
}

/* A torn last line (with or without a newline) is dropped and cut off. */
static void test_torn(const char *dir)
{
    char path[2100];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    long good = file_size(path);
    isw_error_t err;
    const char *tails[] = {"5,0.5,\"[16", "5,0.5,[16],3,converged,3\n", "\n"};
    for (int t = 0; t < 3; t++) {
        append_text(path, tails[t]);
        CHECK(file_size(path) > good);
        isw_journal_t *j = NULL;
        CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_OK);
        CHECK_INT(file_size(path), good);
        CHECK(j && isw_journal_count(j) == 4 && !isw_journal_done(j, 5));
        isw_journal_close(j, NULL);
    }
    /* the reader for summarize drops it the same way */
    append_text(path, "5,0.5,[16],3,conv");
    isw_runs_t runs = {0};
    CHECK_INT(isw_runs_read(&runs, path, &err), ISW_OK);
    CHECK_INT(runs.nruns, 4);
    isw_runs_free(&runs);
    CHECK_INT(truncate(path, good), 0);
}

/* A runs.csv row of AXES: lead is the task and the axis values, epochs the
 * epochs field as given; every other column a valid value of its type. */
static const char *row(const char *lead, const char *epochs)
{
    static char bufs[4][1024];
    static int k;
    char *b = bufs[k++ % 4];
    int n = snprintf(b, sizeof bufs[0], "%s", lead);
    for (int c = 0; c < ISW_RECORD_NCOLUMNS; c++) {
        const isw_record_column_t *col = &isw_record_columns[c];
        const char *v = strcmp(col->name, "epochs") == 0    ? epochs
                        : col->type == ISW_COL_OUTCOME ? "converged"
                        : col->type == ISW_COL_EPOCH   ? ""
                                                       : "1";
        n += snprintf(b + n, sizeof bufs[0] - (size_t)n, ",%s", v);
    }
    snprintf(b + n, sizeof bufs[0] - (size_t)n, "\n");
    return b;
}

/* A corrupt line before the last one is an error naming its line. */
static void test_corrupt_middle(const char *dir)
{
    char path[2100];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    char *orig = slurp(path);
    /* line 6 (after the header and 4 runs): a bad epochs field */
    append_text(path, row("8,0.5,[16],3", "many"));
    append_text(path, row("9,0.5,[16],4", "3"));
    isw_journal_t *j = NULL;
    isw_error_t err;
    isw_error_clear(&err);
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_EINVAL);
    CHECK(j == NULL);
    CHECK_INT(err.line, 6);
    CHECK_CONTAINS(err.file, "runs.csv");
    CHECK_CONTAINS(err.text, "epochs");
    CHECK_CONTAINS(err.text, "many");
    isw_runs_t runs = {0};
    CHECK_INT(isw_runs_read(&runs, path, &err), ISW_EINVAL);
    CHECK_INT(err.line, 6);
    CHECK_INT(runs.nruns, 0);

    /* wrong field count, unclosed quote and a duplicate task, also mid-file */
    const char *bad[] = {"8,0.5,[16],3,converged\n", row("8,0.5,\"[16,3", "3"),
                         row("3,0.5,[16],3", "3")};
    const char *why[] = {"fields", "quote", "twice"};
    for (int b = 0; b < 3; b++) {
        FILE *f = fopen(path, "wb");
        fputs(orig, f);
        fputs(bad[b], f);
        fputs(row("9,0.5,[16],4", "3"), f);
        fclose(f);
        CHECK_INT(isw_runs_read(&runs, path, &err), ISW_EINVAL);
        CHECK_INT(err.line, 6);
        CHECK_CONTAINS(err.text, why[b]);
    }
    FILE *f = fopen(path, "wb");
    fputs(orig, f);
    fclose(f);
    free(orig);
}

/* Another spec hash is refused unless fresh; fresh removes the outputs. */
static void test_other_spec(const char *dir)
{
    isw_journal_t *j = NULL;
    isw_error_t err;
    CHECK_INT(isw_journal_open(&j, dir, 43, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK(j == NULL);
    CHECK_CONTAINS(err.text, "another spec");
    CHECK_CONTAINS(err.text, "--fresh");
    CHECK_CONTAINS(err.text, "-o");

    /* same hash but other axes: the header does not match */
    const char *other[] = {"train.lr", "seed"};
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, other, 2, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK_INT(err.line, 1);

    char path[2100];
    snprintf(path, sizeof path, "%s/cells.csv", dir);
    append_text(path, "old\n");
    CHECK_INT(isw_journal_open(&j, dir, 43, NULL, 0, AXES, NAXES, 1, NULL, NULL, &err), ISW_OK);
    CHECK(j && isw_journal_count(j) == 0 && !isw_journal_done(j, 3));
    CHECK_INT(file_size(path), -1);
    isw_journal_close(j, NULL);
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    char *text = slurp(path);
    CHECK(text && strchr(text, '\n') == text + strlen(text) - 1);  /* header only */
    free(text);

    /* runs.csv without journal.meta: unknown origin, refused */
    snprintf(path, sizeof path, "%s/journal.meta", dir);
    CHECK_INT(unlink(path), 0);
    CHECK_INT(isw_journal_open(&j, dir, 43, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK_CONTAINS(err.text, "without journal.meta");
}

/* The journal's identity includes the data: a dataset whose content hash
 * changed is refused by name, the journal left as it was. */
static void test_data_changed(const char *dir)
{
    isw_journal_t *j = NULL;
    isw_error_t err;
    isw_journal_data_t data[2] = {{"a.csv", 0x1111}, {"b.csv", 0x2222}};
    CHECK_INT(isw_journal_open(&j, dir, 50, data, 2, AXES, NAXES, 1, NULL, NULL, &err), ISW_OK);
    isw_journal_close(j, NULL);
    CHECK_INT(isw_journal_open(&j, dir, 50, data, 2, AXES, NAXES, 0, NULL, NULL, &err), ISW_OK);
    isw_journal_close(j, NULL);
    char path[2100];
    snprintf(path, sizeof path, "%s/journal.meta", dir);
    char *before = slurp(path);
    data[1].hash = 0x2223;
    CHECK_INT(isw_journal_open(&j, dir, 50, data, 2, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK(j == NULL);
    CHECK_STR(err.file, "b.csv");
    CHECK_CONTAINS(err.text, "the data changed since the journal");
    CHECK_CONTAINS(err.text, "0000000000002222 then, 0000000000002223 now");
    char *after = slurp(path);
    CHECK(before && after && strcmp(before, after) == 0);
    free(before);
    free(after);
    /* a journal that recorded fewer datasets than the spec now reads */
    isw_journal_data_t more[3] = {{"a.csv", 0x1111}, {"b.csv", 0x2222}, {"c.csv", 3}};
    CHECK_INT(isw_journal_open(&j, dir, 50, more, 3, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK_STR(err.file, "c.csv");
    CHECK_CONTAINS(err.text, "none recorded then");
    /* fresh starts over with the new data */
    CHECK_INT(isw_journal_open(&j, dir, 50, more, 3, AXES, NAXES, 1, NULL, NULL, &err), ISW_OK);
    isw_journal_close(j, NULL);
}

/* fcntl locks are per process: hold the lock in a child. */
static void test_lock(const char *dir)
{
    int ready[2], done[2];
    if (pipe(ready) != 0 || pipe(done) != 0) {
        CHECK(!"pipe");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        isw_journal_t *j = NULL;
        char c = isw_journal_open(&j, dir, 7, NULL, 0, AXES, NAXES, 1, NULL, NULL, NULL) == ISW_OK ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
            _exit(2);
        isw_journal_close(j, NULL);
        _exit(0);
    }
    char c = 0;
    CHECK(read(ready[0], &c, 1) == 1 && c == 'y');
    isw_journal_t *j = NULL;
    isw_error_t err;
    isw_error_clear(&err);
    CHECK_INT(isw_journal_open(&j, dir, 7, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK(j == NULL);
    char want[128];
    snprintf(want, sizeof want, "is in use by another initsweep job (pid %ld)", (long)pid);
    CHECK_CONTAINS(err.text, want);
    CHECK_CONTAINS(err.text, dir);
    CHECK(write(done[1], "x", 1) == 1);
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* released: now it opens, and resumes the child's (empty) journal */
    CHECK_INT(isw_journal_open(&j, dir, 7, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_OK);
    isw_journal_close(j, NULL);
    close(ready[0]);
    close(ready[1]);
    close(done[0]);
    close(done[1]);
}

static int write_hello(FILE *out, void *user, isw_error_t *err)
{
    (void)err;
    fprintf(out, "hello %s\n", (const char *)user);
    return ISW_OK;
}

static int write_fail(FILE *out, void *user, isw_error_t *err)
{
    (void)user;
    fputs("partial", out);
    return isw_error_set(err, ISW_EINVAL, "", 0, "writer failed");
}

/* Files named .NAME.XXXXXX (a temp of isw_file_write_atomic) in dir. */
static int count_temps(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    size_t len = strlen(name);
    while (d && (e = readdir(d)))
        n += e->d_name[0] == '.' && strncmp(e->d_name + 1, name, len) == 0 &&
             e->d_name[1 + len] == '.';
    if (d)
        closedir(d);
    return n;
}

static void test_atomic(const char *dir)
{
    isw_error_t err;
    char path[2100], tmp[2100];
    snprintf(path, sizeof path, "%s/fit.csv", dir);
    snprintf(tmp, sizeof tmp, "%s/.fit.csv.tmp", dir);
    CHECK_INT(isw_file_write_atomic(dir, "fit.csv", write_hello, "world", &err), ISW_OK);
    char *text = slurp(path);
    CHECK_STR(text, "hello world\n");
    free(text);
    CHECK_INT(file_size(tmp), -1);
    CHECK_INT(count_temps(dir, "fit.csv"), 0);
    CHECK_INT(isw_file_write_atomic(dir, "fit.csv", write_fail, NULL, &err), ISW_EINVAL);
    text = slurp(path);
    CHECK_STR(text, "hello world\n");  /* the old file stays whole */
    free(text);
    CHECK_INT(count_temps(dir, "fit.csv"), 0);
}

/* A victim file outside OUTDIR that planted links point at. */
static void make_victim(char *victim, size_t size, const char *base)
{
    snprintf(victim, size, "%s/victim.txt", base);
    FILE *f = fopen(victim, "wb");
    fputs("precious\n", f);
    fclose(f);
}

static void check_victim(const char *victim, int line)
{
    char *text = slurp(victim);
    if (!text || strcmp(text, "precious\n") != 0) {
        fprintf(stderr, "%s:%d: the link target was changed: \"%s\"\n", __FILE__, line,
                text ? text : "(gone)");
        check_failures++;
    }
    free(text);
}

/* Links planted in a shared OUTDIR are never followed: not for the lock,
 * not for a temp name (the fixed one the old code used), not for a final
 * file; each is refused naming it, and the target keeps its bytes. */
static void test_links(const char *base)
{
    char dir[1100], victim[1100], p[1200];
    snprintf(dir, sizeof dir, "%s/links", base);
    make_victim(victim, sizeof victim, base);
    CHECK_INT(mkdir(dir, 0777), 0);
    isw_journal_t *j = NULL;
    isw_error_t err;
    const char *finals[] = {".lock", "runs.csv", "journal.meta", "spec.yaml", "cells.csv",
                            "fit.csv"};
    for (int f = 0; f < 6; f++) {
        snprintf(p, sizeof p, "%s/%s", dir, finals[f]);
        CHECK_INT(symlink(victim, p), 0);
        for (int fresh = 0; fresh < 2; fresh++) {
            isw_error_clear(&err);
            CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, fresh, NULL, NULL, &err), ISW_ESTATE);
            CHECK(j == NULL);
            CHECK_CONTAINS(err.file, finals[f]);
            CHECK_CONTAINS(err.text, "symbolic link");
        }
        int lock = -1;
        CHECK_INT(isw_journal_lock(dir, &lock, &err), ISW_ESTATE);
        CHECK_INT(lock, -1);
        if (f > 0) {
            CHECK_INT(isw_file_write_atomic(dir, finals[f], write_hello, "x", &err), ISW_ESTATE);
            CHECK_CONTAINS(err.text, "symbolic link");
        }
        check_victim(victim, __LINE__);
        CHECK(unlink(p) == 0);
    }
    /* a FIFO where the lock should be: refused, not waited on */
    snprintf(p, sizeof p, "%s/.lock", dir);
    unlink(p);
    CHECK_INT(mkfifo(p, 0644), 0);
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK_CONTAINS(err.text, "not a regular file");
    unlink(p);
    /* a hard link as the lock would be truncated by the pid write */
    CHECK_INT(link(victim, p), 0);
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK_CONTAINS(err.text, "hard links");
    check_victim(victim, __LINE__);
    unlink(p);

    /* temp names: a link under the old fixed name is never opened, and the
     * unique names of two writes differ */
    const char *temps[] = {".journal.meta.tmp", ".runs.csv.tmp", ".spec.yaml.tmp",
                           ".cells.csv.tmp"};
    for (int t = 0; t < 4; t++) {
        snprintf(p, sizeof p, "%s/%s", dir, temps[t]);
        CHECK_INT(symlink(victim, p), 0);
    }
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_OK);
    CHECK_INT(isw_file_write_atomic(dir, "cells.csv", write_hello, "cells", &err), ISW_OK);
    CHECK_INT(isw_file_write_atomic(dir, "spec.yaml", write_hello, "spec", &err), ISW_OK);
    isw_journal_close(j, NULL);
    check_victim(victim, __LINE__);
    snprintf(p, sizeof p, "%s/cells.csv", dir);
    char *text = slurp(p);
    CHECK_STR(text, "hello cells\n");
    free(text);
    struct stat sb;
    CHECK(lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0044) == 0044);

    /* stale temps of a killed writer (.NAME.XXXXXX) go when the lock is taken */
    snprintf(p, sizeof p, "%s/.fit.csv.AbC123", dir);
    append_text(p, "stale");
    snprintf(p, sizeof p, "%s/.fit.csv.keep", dir);    /* not a temp name */
    append_text(p, "x");
    int lock = -1;
    CHECK_INT(isw_journal_lock(dir, &lock, &err), ISW_OK);
    isw_journal_unlock(lock);
    snprintf(p, sizeof p, "%s/.fit.csv.AbC123", dir);
    CHECK_INT(file_size(p), -1);
    snprintf(p, sizeof p, "%s/.fit.csv.keep", dir);
    CHECK(file_size(p) > 0);
    check_victim(victim, __LINE__);
}

/* The input spec is never removed or replaced, whatever its name; an
 * OUTDIR holding results but no journal is refused unless fresh. */
static void test_input(const char *base)
{
    char dir[1100], spec[1200], other[1200], p[1200];
    snprintf(dir, sizeof dir, "%s/exp", base);
    CHECK_INT(mkdir(dir, 0777), 0);
    snprintf(spec, sizeof spec, "%s/spec.yaml", dir);
    append_text(spec, "# my comments\nname: x\n");
    isw_journal_t *j = NULL;
    isw_error_t err;
    for (int fresh = 0; fresh < 2; fresh++) {
        isw_error_clear(&err);
        CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, fresh, spec, NULL, &err), ISW_EINVAL);
        CHECK_CONTAINS(err.file, "spec.yaml");
        CHECK_CONTAINS(err.text, "input spec");
        CHECK_CONTAINS(err.text, "-o");
    }
    /* another spelling of the path, and a hard link elsewhere */
    snprintf(other, sizeof other, "%s/exp/../exp/./spec.yaml", base);
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 1, other, NULL, &err), ISW_EINVAL);
    snprintf(other, sizeof other, "%s/linked.yaml", base);
    CHECK_INT(link(spec, other), 0);
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 1, other, NULL, &err), ISW_EINVAL);
    char *text = slurp(spec);
    CHECK_STR(text, "# my comments\nname: x\n");
    free(text);
    snprintf(p, sizeof p, "%s/runs.csv", dir);
    CHECK_INT(file_size(p), -1);  /* refused before anything was written */

    /* results-named files but no journal: refused naming the file */
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK_CONTAINS(err.file, "spec.yaml");
    CHECK_CONTAINS(err.text, "no journal");
    CHECK_CONTAINS(err.text, "--fresh");
    unlink(spec);
    unlink(other);
    snprintf(p, sizeof p, "%s/boundary.csv", dir);
    append_text(p, "lr_boundary\n1\n");
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, NULL, NULL, &err), ISW_ESTATE);
    CHECK_CONTAINS(err.file, "boundary.csv");
    CHECK(file_size(p) > 0);
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 1, NULL, NULL, &err), ISW_OK);
    CHECK_INT(file_size(p), -1);
    CHECK(j && !isw_journal_keeps(j, "spec.yaml"));
    isw_journal_close(j, NULL);

    /* resuming from OUTDIR/spec.yaml itself: allowed, and it is kept */
    append_text(spec, "name: resolved\n");
    CHECK_INT(isw_journal_open(&j, dir, 42, NULL, 0, AXES, NAXES, 0, spec, NULL, &err), ISW_OK);
    CHECK(j && isw_journal_keeps(j, "spec.yaml"));
    isw_journal_close(j, NULL);
    /* ... but not with another spec's hash, nor with fresh */
    CHECK_INT(isw_journal_open(&j, dir, 43, NULL, 0, AXES, NAXES, 1, spec, NULL, &err), ISW_EINVAL);
    CHECK_INT(isw_journal_open(&j, dir, 43, NULL, 0, AXES, NAXES, 0, spec, NULL, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "input spec");
    CHECK(file_size(spec) > 0);
}

/* The spec identity that summarize compares across shards. */
static void test_meta_hash(const char *base)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/exp", base);
    uint64_t h = 0;
    isw_error_t err;
    CHECK_INT(isw_journal_meta_hash(dir, &h, &err), ISW_OK);
    CHECK_INT(h, 42);
    snprintf(dir, sizeof dir, "%s/links/nothing", base);
    CHECK_INT(isw_journal_meta_hash(dir, &h, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.file, "journal.meta");
}

/* Shards: two files merge, the axes must agree and tasks stay unique. */
static void test_merge(const char *dir)
{
    char a[2100], b[2100];
    snprintf(a, sizeof a, "%s/runs.a.csv", dir);
    snprintf(b, sizeof b, "%s/runs.b.csv", dir);
    /* the rows as the journal writes them; a's with a CRLF line ending */
    const char *axes[] = {"seed"}, *v0[] = {"0"}, *v1[] = {"1"};
    isw_sb_t hdr = {0};
    isw_runs_format_header(&hdr, axes, 1);
    isw_record_t r0, r1;
    isw_record_init(&r0, 0);
    r0.outcome = ISW_OUTCOME_CONVERGED, r0.epochs = 3, r0.epoch_converged = 2;
    r0.seconds = 1;
    isw_record_init(&r1, 1);
    r1.outcome = ISW_OUTCOME_SLOW, r1.epochs = 3, r1.seconds = 1;
    char line[1024];
    long n = isw_runs_format_line(line, sizeof line, v0, 1, &r0);
    CHECK(n > 0 && isw_sb_ok(&hdr));
    FILE *f = fopen(a, "wb");
    fprintf(f, "%s%.*s\r\n", hdr.s, (int)n - 1, line);
    fclose(f);
    n = isw_runs_format_line(line, sizeof line, v1, 1, &r1);
    f = fopen(b, "wb");
    fprintf(f, "%s%s", hdr.s, line);
    fclose(f);
    isw_sb_free(&hdr);
    const char *files[] = {a, b};
    isw_runs_t runs = {0};
    isw_error_t err;
    CHECK_INT(isw_runs_read_files(&runs, files, 2, &err), ISW_OK);
    CHECK_INT(runs.nruns, 2);
    CHECK_INT(runs.nsources, 2);
    CHECK(runs.nruns == 2 && runs.runs[1].source == 1 && runs.runs[1].line == 2);
    CHECK(runs.nruns == 2 && runs.runs[0].rec.epoch_converged == 2 &&
          runs.runs[1].rec.epoch_converged == -1 &&
          runs.runs[1].rec.outcome == ISW_OUTCOME_SLOW);
    /* the CRLF line ending is not part of the last field */
    CHECK(runs.nruns == 2);
    if (runs.nruns == 2)
        CHECK_NEAR(runs.runs[0].rec.seconds, 1.0, 0);
    isw_runs_free(&runs);
    const char *twice[] = {a, a};
    CHECK_INT(isw_runs_read_files(&runs, twice, 2, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "twice");
    CHECK_INT(err.line, 2);
    unlink(a);
    unlink(b);
}

int main(void)
{
    char base[] = "/tmp/isw_test_journal_XXXXXX";
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/nested/out", base);  /* mkdir -p */
    test_append_and_read(dir);
    test_resume(dir);
    test_torn(dir);
    test_corrupt_middle(dir);
    test_other_spec(dir);
    test_data_changed(dir);
    test_lock(dir);
    test_atomic(dir);
    test_merge(dir);
    test_links(base);
    test_input(base);
    test_meta_hash(base);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    return CHECK_DONE();
}
