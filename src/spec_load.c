/* Loading a spec file (YAML document -> isw_spec_t + isw_sweep_t, then
 * validation) and writing the resolved spec back as YAML, every default
 * filled in, so that reading the output gives the same spec. */
#include "spec_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A spec is a few KiB: reading stops past this. */
#define SPEC_MAX_BYTES (1024 * 1024)

static const char *const top_keys[] = {"name", "seed", "data", "model", "init", "train",
                                       "criteria", "sweep", "refine", "fit", NULL};
/* ---- loading ------------------------------------------------------------ */

/* Calls fn for every key of a mapping with the key's text, its line and
 * the value's node, in file order; stops at the first error. */
typedef int (*pair_fn)(void *ctx, const char *key, int line, yaml_node_t *value,
                       const where_t *w, isw_error_t *err);

static int each_pair(yaml_document_t *doc, yaml_node_t *map, const char *file, pair_fn fn,
                     void *ctx, isw_error_t *err)
{
    where_t w = {file, 0, 1};
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        int st = fn(ctx, isw_yaml_scalar(k), (int)k->start_mark.line + 1,
                    yaml_document_get_node(doc, p->value), &w, err);
        if (st)
            return st;
    }
    return ISW_OK;
}

typedef struct {
    isw_spec_t *spec;                    /* the sections fill it */
    const isw_spec_t *base;              /* the sweep's axes are checked against it */
    isw_sweep_t *sweep;
    const char *section;
    yaml_document_t *doc;
    keylines_t *kl;
} load_ctx_t;

static int section_pair(void *ctx, const char *name, int line, yaml_node_t *value,
                        const where_t *w, isw_error_t *err)
{
    load_ctx_t *c = ctx;
    char key[256];
    snprintf(key, sizeof key, "%s.%s", c->section, name);
    int layer;
    const keydef_t *d = isw_spec_key_find(key, &layer);
    if (!d)
        return isw_spec_unknown_key(err, w->file, line, "", key);
    int st = isw_spec_set_node(c->spec, d, layer, key, c->doc, value, w, err);
    if (st == ISW_OK)
        isw_spec_keylines_add(c->kl, key, line);
    return st;
}

static int load_section(isw_spec_t *s, const char *section, yaml_document_t *doc,
                        yaml_node_t *map, const char *file, keylines_t *kl, isw_error_t *err)
{
    const char *names[ISW_SPEC_MAX_KEYS + 1];
    char list[700], expected[760];
    isw_spec_section_keys(section, names, ISW_SPEC_MAX_KEYS + 1);
    isw_spec_join_names(list, sizeof list, names);
    snprintf(expected, sizeof expected, "a mapping with keys %s", list);
    int st = isw_spec_check_mapping(doc, map, section, expected, file, err);
    if (st)
        return st;
    load_ctx_t c = {s, NULL, NULL, section, doc, kl};
    return each_pair(doc, map, file, section_pair, &c, err);
}

/* A key of the refine or fit section (c->section says which). */
static int analysis_pair(void *ctx, const char *name, int line, yaml_node_t *value,
                         const where_t *w, isw_error_t *err)
{
    load_ctx_t *c = ctx;
    int st = strcmp(c->section, "fit") == 0
                 ? isw_spec_fit_set(&c->sweep->fit, name, c->doc, value, w, line, err)
                 : isw_spec_refine_set(&c->sweep->refine, name, c->doc, value, w, line, err);
    if (st)
        return st;
    char key[128];
    snprintf(key, sizeof key, "%s.%s", c->section, name);
    isw_spec_keylines_add(c->kl, key, line);
    return ISW_OK;
}

/* The refine or fit section: section names it, keys lists its keys for
 * the message when it is not a mapping. */
static int load_analysis(isw_sweep_t *sw, const char *section, const char *keys,
                         yaml_document_t *doc, yaml_node_t *map, const char *file,
                         keylines_t *kl, isw_error_t *err)
{
    char expected[128];
    snprintf(expected, sizeof expected, "a mapping with keys %s", keys);
    int st = isw_spec_check_mapping(doc, map, section, expected, file, err);
    if (st)
        return st;
    if (strcmp(section, "refine") == 0)
        sw->refine.enabled = 1;
    load_ctx_t c = {NULL, NULL, sw, section, doc, kl};
    return each_pair(doc, map, file, analysis_pair, &c, err);
}

static int sweep_pair(void *ctx, const char *name, int line, yaml_node_t *value,
                      const where_t *w, isw_error_t *err)
{
    load_ctx_t *c = ctx;
    return isw_spec_sweep_add(c->sweep, c->base, name, c->doc, value, w, line, 0, err);
}

static int load_sweep(isw_sweep_t *sw, const isw_spec_t *spec, yaml_document_t *doc,
                      yaml_node_t *map, const char *file, isw_error_t *err)
{
    int st = isw_spec_check_mapping(doc, map, "sweep",
                                    "a mapping of axes, e.g. train.lr: {logspace: [1e-4, 1, 9]}",
                                    file, err);
    if (st)
        return st;
    load_ctx_t c = {NULL, spec, sw, "sweep", doc, NULL};
    return each_pair(doc, map, file, sweep_pair, &c, err);
}

static int load_root(isw_spec_t *s, isw_sweep_t *sw, yaml_document_t *doc, const char *file,
                     keylines_t *kl, isw_error_t *err)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    char list[300], hint[160], found[160];
    isw_spec_join_names(list, sizeof list, top_keys);
    if (!root)
        return isw_error_set(err, ISW_EINVAL, file, 0,
                             "the spec is empty, expected a mapping with keys %s", list);
    char expected[sizeof list + 32];
    snprintf(expected, sizeof expected, "a mapping with keys %s", list);
    int st = isw_spec_check_mapping(doc, root, "", expected, file, err);
    if (st)
        return st;

    yaml_node_t *sweep_node = NULL, *refine_node = NULL, *fit_node = NULL;
    int have_run_seed = 0;
    uint64_t run_seed = 0;
    where_t w = {file, 0, 1};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *val = yaml_document_get_node(doc, p->value);
        const char *key = isw_yaml_scalar(k);
        int line = (int)k->start_mark.line + 1;
        int layer, sect = 0;
        for (int i = 0; isw_spec_sections[i]; i++)
            if (strcmp(key, isw_spec_sections[i]) == 0)
                sect = 1;
        isw_spec_keylines_add(kl, key, line);
        if (sect) {
            st = load_section(s, key, doc, val, file, kl, err);
        } else if (strcmp(key, "name") == 0 || strcmp(key, "seed") == 0) {
            st = isw_spec_set_node(s, isw_spec_key_find(key, &layer), -1, key, doc, val, &w, err);
            if (!st && strcmp(key, "seed") == 0)  /* the file's seed is the base seed too */
                s->base_seed = s->seed;
        } else if (strcmp(key, "run_seed") == 0) {
            /* Written by isw_spec_write when the run seed differs from the
             * base seed, so that the written spec reads back identical. */
            if (!isw_spec_parse_u64(isw_yaml_scalar(val), &run_seed)) {
                isw_yaml_describe(found, sizeof found, doc, val);
                st = isw_error_set(err, ISW_EINVAL, file, isw_yaml_line(&w, val),
                                   "run_seed: found %s, expected a non-negative integer", found);
            }
            have_run_seed = 1;
        } else if (strcmp(key, "sweep") == 0) {
            sweep_node = val;
        } else if (strcmp(key, "refine") == 0) {
            refine_node = val;
        } else if (strcmp(key, "fit") == 0) {
            fit_node = val;
        } else {
            isw_spec_suggest(hint, sizeof hint, key, top_keys);
            st = isw_error_set(err, ISW_EINVAL, file, line, "unknown top-level key \"%s\"%s; "
                               "allowed: %s", key, hint, list);
        }
        if (st)
            return st;
    }
    if (have_run_seed)
        s->seed = run_seed;
    /* The sweep last: its values are checked against the finished spec. */
    if (sweep_node && (st = load_sweep(sw, s, doc, sweep_node, file, err)))
        return st;
    if (refine_node && (st = load_analysis(sw, "refine", "axis, tolerance, rounds", doc,
                                           refine_node, file, kl, err)))
        return st;
    if (fit_node && (st = load_analysis(sw, "fit", "axis, range", doc, fit_node, file, kl, err)))
        return st;
    st = isw_spec_refine_check(sw, file, isw_spec_kline(kl, "refine.axis"), err);
    if (st == ISW_OK)
        st = isw_spec_fit_check(sw, file, isw_spec_kline(kl, "fit.axis"), err);
    return st;
}

/* Spec name from a file name: basename without .yaml / .yml. */
static void name_from_file(char *dst, size_t size, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
        n -= 5;
    else if (n > 4 && strcmp(base + n - 4, ".yml") == 0)
        n -= 4;
    if (n >= size)
        n = size - 1;
    memset(dst, 0, size);
    memcpy(dst, base, n);
}


/* "invalid YAML: ..." from the parser's problem, at its line and column. */
static int syntax_error(const yaml_parser_t *p, const char *file, isw_error_t *err)
{
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    char ctx[200] = "";
    if (p->context)
        snprintf(ctx, sizeof ctx, " (%s at line %d)", p->context, (int)p->context_mark.line + 1);
    if (p->error == YAML_READER_ERROR) {
        line = 0;
        col = 0;
    }
    int st = isw_error_set(err, ISW_EINVAL, file, line, "invalid YAML: %s%s",
                           p->problem ? p->problem : "syntax error", ctx);
    if (err)
        err->column = col;
    return st;
}

/* Parses the one document of the text in p and loads it into spec and sw. */
static int load_document(yaml_parser_t *p, isw_spec_t *spec, isw_sweep_t *sw, const char *file,
                         keylines_t *kl, isw_error_t *err)
{
    yaml_document_t doc;
    if (!yaml_parser_load(p, &doc))
        return syntax_error(p, file, err);
    int st;
    yaml_node_t *tagged = isw_yaml_tagged(&doc);
    if (tagged)
        st = isw_error_set(err, ISW_EINVAL, file, (int)tagged->start_mark.line + 1,
                           "found the tag %.60s, expected values without YAML tags (each "
                           "key's type is known)", (const char *)tagged->tag);
    else
        st = load_root(spec, sw, &doc, file, kl, err);
    yaml_document_delete(&doc);
    if (st)
        return st;
    /* A second document is most likely a stray `---`: refuse it. */
    yaml_document_t more;
    if (!yaml_parser_load(p, &more))
        return isw_error_set(err, ISW_EINVAL, file, (int)p->problem_mark.line + 1,
                             "invalid YAML: %s", p->problem ? p->problem : "syntax error");
    yaml_node_t *r = yaml_document_get_root_node(&more);
    if (r)
        st = isw_error_set(err, ISW_EINVAL, file, (int)r->start_mark.line + 1,
                           "found a second YAML document, expected one spec per file");
    yaml_document_delete(&more);
    return st;
}

int isw_spec_load_string(isw_spec_t *spec, isw_sweep_t *sweep, const char *text,
                         const char *name, isw_error_t *err)
{
    const char *file = name ? name : "<string>";
    isw_error_clear(err);
    isw_spec_defaults(spec);
    name_from_file(spec->name, sizeof spec->name, file);
    int deep_line = 0;
    if (sweep)
        isw_spec_sweep_init(sweep);
    if (isw_yaml_flow_depth(text, &deep_line) > ISW_SPEC_MAX_DEPTH)
        return isw_error_set(err, ISW_EINVAL, file, deep_line,
                             "lists or mappings nested more than %d deep, expected a spec "
                             "(which needs 3)", ISW_SPEC_MAX_DEPTH);

    isw_sweep_t *local = NULL;
    if (!sweep) {
        if (!(local = malloc(sizeof *local)))
            return isw_error_set(err, ISW_ENOMEM, file, 0, "out of memory");
        sweep = local;
    }
    isw_spec_sweep_init(sweep);
    keylines_t *kl = calloc(1, sizeof *kl);
    yaml_parser_t p;
    if (!kl || !yaml_parser_initialize(&p)) {
        free(kl);
        free(local);
        return isw_error_set(err, ISW_ENOMEM, file, 0, "out of memory");
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    int st = load_document(&p, spec, sweep, file, kl, err);
    yaml_parser_delete(&p);
    if (!st)
        st = isw_spec_validate_at(spec, file, kl, err);
    free(kl);
    if (st || local)
        isw_sweep_free(sweep);
    free(local);
    return st;
}

/* A relative data path in a spec file means relative to that file's
 * directory, so a spec and its data can move together and `run` works from
 * any working directory.  Existing files become canonical absolute paths:
 * the resolved spec, and so the journal's spec hash, then do not depend on
 * the directory the command was started in. */
static void resolve_path(char *p, size_t size, const char *spec_path)
{
    if (p[0] == '\0' || p[0] == '/')
        return;
    char joined[2 * ISW_PATH_MAX];
    const char *slash = strrchr(spec_path, '/');
    if (slash)
        snprintf(joined, sizeof joined, "%.*s/%s", (int)(slash - spec_path), spec_path, p);
    else
        snprintf(joined, sizeof joined, "%s", p);
    char *real = realpath(joined, NULL);
    const char *use = real ? real : joined;
    if (strlen(use) < size)
        snprintf(p, size, "%s", use);
    free(real);
}

int isw_spec_load(isw_spec_t *spec, isw_sweep_t *sweep, const char *path, isw_error_t *err)
{
    if (sweep)
        isw_spec_sweep_init(sweep);
    FILE *f = fopen(path, "rb");
    if (!f)
        return isw_error_set(err, isw_errno_status(errno), path, 0, "cannot open the spec: %s",
                             strerror(errno));
    isw_sb_t b = {0};
    char chunk[8192];
    size_t n;
    int nul = 0;
    /* a spec is a few KiB: stop early on /dev/zero, a device or a huge file */
    while (!nul && b.len <= SPEC_MAX_BYTES && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        nul = memchr(chunk, '\0', n) != NULL;
        isw_sb_putn(&b, chunk, n);
    }
    int rerr = ferror(f);
    fclose(f);
    if (!rerr && !b.oom && !nul && b.len > SPEC_MAX_BYTES) {
        free(b.s);
        return isw_error_set(err, ISW_EINVAL, path, 0,
                             "larger than %d KiB, expected a YAML spec (a few KiB)",
                             SPEC_MAX_BYTES / 1024);
    }
    if (rerr || b.oom) {
        free(b.s);
        return isw_error_set(err, rerr ? ISW_EIO : ISW_ENOMEM, path, 0, "cannot read the spec%s",
                             rerr ? "" : ": out of memory");
    }
    if (b.s && strlen(b.s) != b.len) {
        free(b.s);
        return isw_error_set(err, ISW_EINVAL, path, 0,
                             "found a NUL byte, expected a YAML text file");
    }
    int st = isw_spec_load_string(spec, sweep, b.s ? b.s : "", path, err);
    free(b.s);
    if (st == ISW_OK) {
        resolve_path(spec->data.images, sizeof spec->data.images, path);
        resolve_path(spec->data.labels, sizeof spec->data.labels, path);
        resolve_path(spec->data.path, sizeof spec->data.path, path);
    }
    return st;
}

static void write_key(isw_sb_t *b, const isw_spec_t *s, const keydef_t *d)
{
    const char *sub = strchr(d->key, '.') + 1;
    const isw_criteria_spec_t *c = &s->criteria;
    if (d->type == K_LRK) {
        for (int l = 0; l < s->train.lr_layer_keys && l < ISW_MAX_LAYERS; l++) {
            isw_sb_printf(b, "  lr_layer.%d: ", l);
            isw_spec_value_text(b, s, d, l, 1);
            isw_sb_putn(b, "\n", 1);
        }
        return;
    }
    if (d->type == K_DBLLIST && s->train.lr_layer_list == 0)
        return;
    if (strcmp(d->key, "data.seed") == 0 && !s->data.has_seed)
        return;
    if ((d->flags & (F_TARGET | F_NULL)) && isnan(*(const double *)((const char *)s + d->off)))
        return;
    /* Values validate resolved from the data are written as comments, so the
     * text reads back to the same spec (and re-resolves the same way). */
    const char *why = NULL;
    if ((d->flags & F_TARGET) && c->target_default)
        why = "the default target for these data";
    else if ((d->flags & F_OUTPUT) && !s->model.output_set)
        why = "resolved from the data";
    else if ((d->flags & F_LOSS) && !s->model.loss_set)
        why = "resolved from the data";
    else if ((d->flags & F_CLASSES) && s->data.classes_default)
        why = "the default for these data";
    isw_sb_printf(b, "  %s%s: ", why ? "# " : "", sub);
    isw_spec_value_text(b, s, d, -1, 1);
    if (why)
        isw_sb_printf(b, "  (%s)", why);
    isw_sb_putn(b, "\n", 1);
}

int isw_spec_write(FILE *out, const isw_spec_t *spec, const isw_sweep_t *sweep)
{
    isw_sb_t b = {0};
    isw_sb_printf(&b, "# initsweep %s: the resolved spec, every default filled in\n", ISW_VERSION);
    isw_sb_puts(&b, "name: ");
    isw_yaml_put_scalar(&b, spec->name, strlen(spec->name));
    isw_sb_printf(&b, "\nseed: %" PRIu64 "\n", spec->base_seed);
    if (spec->seed != spec->base_seed)
        isw_sb_printf(&b, "run_seed: %" PRIu64 "\n", spec->seed);
    for (int sct = 0; isw_spec_sections[sct]; sct++) {
        size_t sl = strlen(isw_spec_sections[sct]);
        isw_sb_printf(&b, "%s:\n", isw_spec_sections[sct]);
        for (size_t i = 0; i < isw_spec_nkeys; i++)
            if (strncmp(isw_spec_keys[i].key, isw_spec_sections[sct], sl) == 0 && isw_spec_keys[i].key[sl] == '.')
                write_key(&b, spec, &isw_spec_keys[i]);
    }
    if (sweep && sweep->naxes > 0) {
        isw_sb_puts(&b, "sweep:\n");
        for (int a = 0; a < sweep->naxes; a++) {
            const isw_axis_t *ax = &sweep->axes[a];
            isw_sb_printf(&b, "  %s: ", ax->key);
            if (ax->form == ISW_AXIS_LIST) {
                isw_sb_putn(&b, "[", 1);
                for (size_t i = 0; i < ax->n; i++) {
                    if (i)
                        isw_sb_puts(&b, ", ");
                    isw_sb_puts(&b, ax->values[i]);
                }
                isw_sb_puts(&b, "]\n");
            } else if (ax->form == ISW_AXIS_RANGE) {
                isw_sb_printf(&b, "{range: [%lld, %lld, %lld]}\n", ax->start, ax->stop, ax->step);
            } else {
                isw_sb_printf(&b, "{%s: [", ax->form == ISW_AXIS_LOGSPACE ? "logspace" : "linspace");
                isw_spec_put_double(&b, ax->a);
                isw_sb_puts(&b, ", ");
                isw_spec_put_double(&b, ax->b);
                isw_sb_printf(&b, ", %zu]}\n", ax->n);
            }
        }
    }
    if (sweep && sweep->refine.enabled) {
        isw_sb_puts(&b, "refine:\n  axis: ");
        isw_yaml_put_scalar(&b, sweep->refine.axis, strlen(sweep->refine.axis));
        isw_sb_puts(&b, "\n  tolerance: ");
        isw_spec_put_double(&b, sweep->refine.tolerance);
        isw_sb_printf(&b, "\n  rounds: %d\n", sweep->refine.rounds);
    }
    if (sweep && (sweep->fit.axis[0] || sweep->fit.lo < sweep->fit.hi)) {
        isw_sb_puts(&b, "fit:\n");
        if (sweep->fit.axis[0]) {
            isw_sb_puts(&b, "  axis: ");
            isw_yaml_put_scalar(&b, sweep->fit.axis, strlen(sweep->fit.axis));
            isw_sb_puts(&b, "\n");
        }
        if (sweep->fit.lo < sweep->fit.hi) {
            isw_sb_puts(&b, "  range: [");
            isw_spec_put_double(&b, sweep->fit.lo);
            isw_sb_puts(&b, ", ");
            isw_spec_put_double(&b, sweep->fit.hi);
            isw_sb_puts(&b, "]\n");
        }
    }
    if (b.oom) {
        free(b.s);
        return ISW_ENOMEM;
    }
    size_t w = b.s ? fwrite(b.s, 1, b.len, out) : 0;
    free(b.s);
    return w == b.len && !ferror(out) ? ISW_OK : ISW_EIO;
}
