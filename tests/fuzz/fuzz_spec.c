/* Fuzzes the spec parser: load, `--set` overrides, validate, and the
 * write -> reload round trip.
 *
 * Input: a YAML document, then up to 8 `--set` assignments (KEY=VALUE), each
 * after a NUL byte: "name: x\ntrain:\n  lr: 0.5\n\0train.lr=0.1\0sweep.seed=[1, 2]".
 * Whatever the input, no crash, leak or UB; and when the spec is accepted,
 * isw_spec_write's text must load again and write back the same text
 * (spec.h: "Reading the output back gives the same spec"), or the harness
 * aborts.  Each accepted spec also builds its grid and the specs of its
 * first and last task, which apply every axis's value through isw_spec_set. */
#include "fuzz_util.h"

#include "initsweep/grid.h"
#include "initsweep/spec.h"

#define MAX_SETS 8


/* The resolved text of spec and sweep (malloc'ed), as the journal hashes it. */
static char *spec_text(const isw_spec_t *spec, const isw_sweep_t *sweep, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        fuzz_fail("open_memstream failed");
    int st = isw_spec_write(f, spec, sweep);
    if (fclose(f) != 0 || st != ISW_OK)
        fuzz_fail("isw_spec_write failed: %s", isw_strerror(st));
    return text;
}

/* An error report must be a terminated message naming no impossible line. */
static void check_error(const isw_error_t *err)
{
    if (!memchr(err->text, '\0', sizeof err->text) || !memchr(err->file, '\0', sizeof err->file))
        fuzz_fail("unterminated error report");
    if (err->text[0] == '\0')
        fuzz_fail("an error without a message");
    if (err->line < 0 || err->column < 0)
        fuzz_fail("negative line %d or column %d in \"%s\"", err->line, err->column, err->text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One NUL-terminated copy; the NULs inside split it into its parts. */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *sets[MAX_SETS];
    int nsets = 0;
    for (size_t i = 0; i < size && nsets < MAX_SETS; i++)
        if (buf[i] == '\0')
            sets[nsets++] = buf + i + 1;

    isw_spec_t spec;
    isw_sweep_t sweep;
    isw_error_t err;
    int st = isw_spec_load_string(&spec, &sweep, buf, "fuzz.yaml", &err);
    if (st != ISW_OK) {
        check_error(&err);
        free(buf);
        return 0;
    }
    for (int i = 0; i < nsets && st == ISW_OK; i++)
        st = isw_spec_override(&spec, &sweep, sets[i], &err);
    if (st == ISW_OK && nsets > 0)
        st = isw_spec_validate(&spec, "--set", &err);
    if (st != ISW_OK) {
        check_error(&err);
        isw_sweep_free(&sweep);
        free(buf);
        return 0;
    }

    isw_grid_t grid;
    if (isw_grid_init(&grid, &sweep, &err) == ISW_OK) {
        isw_spec_t task;
        (void)isw_grid_task_spec(&task, &grid, &spec, 0, &err);
        (void)isw_grid_task_spec(&task, &grid, &spec, grid.ntasks - 1, &err);
    }

    size_t len1, len2;
    char *text1 = spec_text(&spec, &sweep, &len1);
    isw_spec_t again;
    isw_sweep_t sweep2;
    st = isw_spec_load_string(&again, &sweep2, text1, "fuzz.yaml", &err);
    if (st != ISW_OK) {
        fprintf(stderr, "---- written spec ----\n%s---- end ----\n", text1);
        fuzz_fail("the written spec does not load again: %s:%d: %s", err.file, err.line,
                  err.text);
    }
    char *text2 = spec_text(&again, &sweep2, &len2);
    if (len1 != len2 || memcmp(text1, text2, len1) != 0) {
        fprintf(stderr, "---- written ----\n%s---- reloaded and written ----\n%s---- end ----\n",
                text1, text2);
        fuzz_fail("write -> reload -> write changed the spec");
    }
    free(text1);
    free(text2);
    isw_sweep_free(&sweep2);
    isw_sweep_free(&sweep);
    free(buf);
    return 0;
}
