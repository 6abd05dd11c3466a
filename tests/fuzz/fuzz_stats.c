/* Fuzzes the statistics on parsed runs: `initsweep summarize` of an OUTDIR
 * whose runs.csv is the input.
 *
 * Invariants when the runs parse:
 * - isw_stats_compute's cells count every run once, their outcome counts
 *   add up to n, proportions and their intervals satisfy 0 <= lo <= p <=
 *   hi <= 1, slice points are sorted by strictly increasing lr, and every
 *   edge found lies between its bracketing points;
 * - stats.h: "Outputs depend only on the set of runs, not on line order":
 *   when every line of the input was accepted, the same runs written in
 *   reverse line order summarize to the same cells.csv, boundary.csv and
 *   fit.csv, byte for byte. */
#include "fuzz_util.h"

#include <math.h>

#include "initsweep/journal.h"
#include "initsweep/stats.h"


static void check_prop(const isw_stats_prop_t *p, const char *what, size_t cell)
{
    if (!(p->lo >= 0 && p->lo <= p->p && p->p <= p->hi && p->hi <= 1))
        fuzz_fail("cell %zu: %s p %g in [%g, %g]", cell, what, p->p, p->lo, p->hi);
}

static void check_edge(const isw_stats_edge_t *e, const isw_stats_slice_t *s, const char *what)
{
    if (!e->found)
        return;
    if (e->ilo < 0 || e->ihi != e->ilo + 1 || (size_t)e->ihi >= s->npoints)
        fuzz_fail("%s edge brackets points %ld, %ld of %zu", what, e->ilo, e->ihi, s->npoints);
    if (!(e->lo <= e->value && e->value <= e->hi))
        fuzz_fail("%s edge %g outside its bracket [%g, %g]", what, e->value, e->lo, e->hi);
}

static void check_stats(const isw_stats_t *s, const isw_runs_t *runs)
{
    long total = 0;
    for (size_t c = 0; c < s->ncells; c++) {
        const isw_stats_cell_t *cell = &s->cells[c];
        long sum = 0;
        for (int k = 0; k < ISW_NOUTCOMES; k++)
            sum += cell->count[k];
        if (cell->n < 1 || sum != cell->n)
            fuzz_fail("cell %zu: n %ld, outcome counts add to %ld", c, cell->n, sum);
        check_prop(&cell->converged, "converged", c);
        check_prop(&cell->diverged, "diverged", c);
        total += cell->n;
    }
    if ((size_t)total != runs->nruns)
        fuzz_fail("cells hold %ld runs of %zu", total, runs->nruns);
    for (size_t i = 0; i < s->nslices; i++) {
        const isw_stats_slice_t *sl = &s->slices[i];
        for (size_t p = 1; p < sl->npoints; p++)
            if (!(sl->points[p - 1].lr < sl->points[p].lr))
                fuzz_fail("slice %zu: points %zu, %zu not increasing in lr", i, p - 1, p);
        check_edge(&sl->edges.boundary, sl, "boundary");
        check_edge(&sl->edges.diverge, sl, "diverge");
    }
}

/* Contents of OUTDIR's three summaries, concatenated (malloc'ed). */
static char *summaries(const char *dir)
{
    static const char *const names[] = {"cells.csv", "boundary.csv", "fit.csv"};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        fuzz_fail("open_memstream failed");
    for (int i = 0; i < 3; i++) {
        char path[1024];
        fuzz_path(path, sizeof path, dir, names[i]);
        FILE *in = fopen(path, "rb");
        if (!in)
            fuzz_fail("summarize succeeded without %s", names[i]);
        fprintf(out, "==> %s\n", names[i]);
        int c;
        while ((c = fgetc(in)) != EOF)
            fputc(c, out);
        fclose(in);
    }
    fclose(out);
    return text;
}

/* Writes the header line and then the other lines in reverse order. */
static void write_reversed(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fuzz_fail("cannot write %s", path);
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = (size_t)(nl - data) + 1;
    fwrite(data, 1, hlen, f);
    size_t end = size;   /* data ends with '\n' */
    while (end > hlen) {
        size_t start = end - 1;
        while (start > hlen && data[start - 1] != '\n')
            start--;
        fwrite(data + start, 1, end - start, f);
        end = start;
    }
    if (fclose(f) != 0)
        fuzz_fail("cannot write %s", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_scratch();
    char path[1024];
    fuzz_clear_dir(dir);
    fuzz_path(path, sizeof path, dir, "runs.csv");
    fuzz_write_file(path, data, size);

    isw_runs_t runs = {0};
    isw_error_t err;
    if (isw_runs_read(&runs, path, &err) != ISW_OK)
        return 0;
    isw_stats_t s;
    int st = isw_stats_compute(&s, &runs, NULL, &err);
    if (st == ISW_OK)
        check_stats(&s, &runs);
    isw_stats_free(&s);

    int st1 = isw_stats_summarize(dir, NULL, &err);
    if ((st1 == ISW_OK) != (st == ISW_OK))
        fuzz_fail("summarize gives %d, compute %d", st1, st);
    /* every line a run: no torn tail, nothing skipped */
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (st1 == ISW_OK && size > 0 && data[size - 1] == '\n' && lines == runs.nruns + 1 &&
        !memchr(data, '\0', size)) {
        char *first = summaries(dir);
        fuzz_clear_dir(dir);
        write_reversed(path, data, size);
        int st2 = isw_stats_summarize(dir, NULL, &err);
        if (st2 != ISW_OK)
            fuzz_fail("the same runs in reverse order do not summarize: %s:%d: %s", err.file,
                      err.line, err.text);
        char *second = summaries(dir);
        if (strcmp(first, second) != 0) {
            fprintf(stderr, "---- in file order ----\n%s---- reversed ----\n%s---- end ----\n",
                    first, second);
            fuzz_fail("the summaries depend on the order of the lines");
        }
        free(first);
        free(second);
    }
    isw_runs_free(&runs);
    return 0;
}
