/* The sweep section: the axis grammar (a list of values, linspace,
 * logspace, range), each value checked by setting it on a copy of the
 * spec, duplicate values refused; and the refine section. */
#include "spec_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const refine_keys[] = {"axis", "tolerance", "rounds", "enabled", NULL};
static const char *const fit_keys[] = {"axis", "range", NULL};

void isw_spec_sweep_init(isw_sweep_t *sweep)
{
    memset(sweep, 0, sizeof *sweep);
    isw_spec_copy_str(sweep->refine.axis, sizeof sweep->refine.axis, "train.lr");
    sweep->refine.tolerance = 0.01;
    sweep->refine.rounds = 10;
    sweep->fit.lo = sweep->fit.hi = NAN;
}

static void axis_clear(isw_axis_t *ax);

void isw_sweep_free(isw_sweep_t *sweep)
{
    if (!sweep)
        return;
    for (int a = 0; a < sweep->naxes && a < ISW_MAX_AXES; a++)
        axis_clear(&sweep->axes[a]);
    sweep->naxes = 0;
}

int isw_sweep_find(const isw_sweep_t *sweep, const char *key)
{
    for (int a = 0; sweep && a < sweep->naxes; a++)
        if (strcmp(sweep->axes[a].key, key) == 0)
            return a;
    return -1;
}
/* ---- sweep axes --------------------------------------------------------- */

static void axis_clear(isw_axis_t *ax)
{
    if (ax->values) {
        for (size_t i = 0; i < ax->n; i++)
            free(ax->values[i]);
        free(ax->values);
    }
    free(ax->ints);
    free(ax->reals);
    memset(ax, 0, sizeof *ax);
}

/* Value i of a range: start + i*step lies between start and stop, so it
 * fits; computed in unsigned arithmetic, where the product may wrap. */
static long long range_value(const isw_axis_t *axis, size_t i)
{
    unsigned long long v = (unsigned long long)axis->start +
                           (unsigned long long)i * (unsigned long long)axis->step;
    return v <= (unsigned long long)LLONG_MAX ? (long long)v : -(long long)(~v) - 1;
}

void isw_axis_value(const isw_axis_t *axis, size_t i, isw_value_t *v)
{
    memset(v, 0, sizeof *v);
    v->kind = axis->kind;
    if (i >= axis->n)
        return;
    switch (axis->kind) {
    case ISW_VALUE_INT:
        v->i = axis->form == ISW_AXIS_RANGE ? range_value(axis, i) : axis->ints[i];
        break;
    case ISW_VALUE_REAL:
        /* a range of a real key: the integer, rounded to double as reading
         * its decimal text would */
        v->r = axis->form == ISW_AXIS_RANGE ? (double)range_value(axis, i) : axis->reals[i];
        break;
    default:
        v->text = axis->values[i];
    }
}

const char *isw_axis_text(const isw_axis_t *axis, size_t i, isw_axis_buf_t *buf)
{
    buf->num[0] = '\0';
    if (i >= axis->n)
        return buf->num;
    size_t n = axis->n;
    double t = n > 1 ? (double)i / (double)(n - 1) : 0.0;
    double x;
    switch (axis->form) {
    case ISW_AXIS_LIST:
        return axis->values[i];
    case ISW_AXIS_LINSPACE:
        x = i == 0 ? axis->a : i == n - 1 ? axis->b : axis->a + (axis->b - axis->a) * t;
        snprintf(buf->num, sizeof buf->num, "%.12g", x);
        break;
    case ISW_AXIS_LOGSPACE:
        x = i == 0 ? axis->a : i == n - 1 ? axis->b
          : exp(log(axis->a) + (log(axis->b) - log(axis->a)) * t);
        snprintf(buf->num, sizeof buf->num, "%.12g", x);
        break;
    case ISW_AXIS_RANGE: {
        snprintf(buf->num, sizeof buf->num, "%lld", range_value(axis, i));
        break;
    }
    }
    return buf->num;
}

typedef struct {
    char *canon;                         /* the value as the spec holds it */
    size_t index;                        /* position in the axis */
} axis_canon_t;

static int canon_cmp(const void *pa, const void *pb)
{
    const axis_canon_t *a = pa, *b = pb;
    int c = strcmp(a->canon, b->canon);
    return c ? c : a->index < b->index ? -1 : a->index > b->index;
}

static int duplicate_value(isw_error_t *err, const isw_axis_t *ax, const where_t *w, int line,
                           size_t i, size_t j, const char *same)
{
    isw_axis_buf_t bi, bj;
    return isw_error_set(err, ISW_EINVAL, w->file, line,
                         "sweep.%s: values #%zu (%.200s) and #%zu (%.200s) are the same value "
                         "(%.200s), so the same runs would be trained twice and counted as "
                         "independent samples; expected distinct values", ax->key, i + 1,
                         isw_axis_text(ax, i, &bi), j + 1, isw_axis_text(ax, j, &bj), same);
}

/* Refuses an axis with two values that give the same run: equal as the
 * spec reads them ([0.1, 1e-1], [yes, true], [[16,16], [16, 16]]), or
 * linspace/logspace points equal at the precision runs.csv prints.  Range
 * values are distinct integers by construction.  Lists are compared by the
 * value each sets (sorted, so n log n); computed points are monotone, so
 * equal ones are neighbours. */
static int axis_distinct(const isw_axis_t *ax, const keydef_t *d, int layer,
                         const isw_spec_t *spec, const where_t *w, int line, isw_error_t *err)
{
    if (ax->n < 2 || ax->form == ISW_AXIS_RANGE)
        return ISW_OK;
    if (ax->form != ISW_AXIS_LIST) {
        for (size_t i = 1; i < ax->n; i++) {
            isw_value_t p, q;
            isw_axis_value(ax, i - 1, &p);
            isw_axis_value(ax, i, &q);
            if (p.kind == ISW_VALUE_INT ? p.i == q.i : p.r == q.r) {
                isw_axis_buf_t t;
                return duplicate_value(err, ax, w, line, i - 1, i, isw_axis_text(ax, i, &t));
            }
        }
        return ISW_OK;
    }
    axis_canon_t *c = calloc(ax->n, sizeof *c);
    isw_spec_t *tmp = malloc(sizeof *tmp);
    int st = c && tmp ? ISW_OK : isw_error_set(err, ISW_ENOMEM, w->file, line, "out of memory");
    for (size_t i = 0; st == ISW_OK && i < ax->n; i++) {
        *tmp = *spec;
        where_t wi = {w->file, line, 0};
        isw_sb_t b = {0};
        /* every value was set successfully once already */
        if ((st = isw_spec_set_text(tmp, d, layer, ax->key, ax->values[i], &wi, err)) != ISW_OK)
            break;
        isw_sb_puts(&b, "");
        isw_spec_value_text(&b, tmp, d, layer, 0);
        if (b.oom) {
            free(b.s);
            st = isw_error_set(err, ISW_ENOMEM, w->file, line, "out of memory");
            break;
        }
        c[i] = (axis_canon_t){b.s, i};
    }
    if (st == ISW_OK) {
        qsort(c, ax->n, sizeof *c, canon_cmp);
        for (size_t k = 1; k < ax->n && st == ISW_OK; k++)
            if (strcmp(c[k - 1].canon, c[k].canon) == 0)
                st = duplicate_value(err, ax, w, line, c[k - 1].index, c[k].index, c[k].canon);
    }
    for (size_t i = 0; c && i < ax->n; i++)
        free(c[i].canon);
    free(c);
    free(tmp);
    return st;
}

/* What an axis is being parsed against: the row of its key and a scratch
 * copy of the spec that every value is set on once, to check it. */
typedef struct {
    const keydef_t *d;
    int layer;
    isw_spec_t *tmp;
    yaml_document_t *doc;
    const where_t *w;
} axis_ctx_t;

static const char forms_text[] =
    "a list of values or one of {linspace: [a, b, n]}, {logspace: [a, b, n]}, "
    "{range: [start, stop]}, {range: [start, stop, step]}";

/* The axis key: its row, and the key as the axis keeps it. */
static int axis_key(isw_axis_t *ax, axis_ctx_t *c, const char *key, int keyline,
                    isw_error_t *err)
{
    c->d = strlen(key) < ISW_NAME_MAX ? isw_spec_key_find(key, &c->layer) : NULL;
    if (!c->d)
        return isw_spec_unknown_key(err, c->w->file, keyline, "sweep.", key);
    if (c->d->type != K_LRK) {
        isw_spec_copy_str(ax->key, sizeof ax->key, key);
        return ISW_OK;
    }
    if (c->layer >= ISW_MAX_LAYERS)
        return isw_error_set(err, ISW_EINVAL, c->w->file, keyline,
                             "sweep.%s: layer index %d out of range, expected 0..%d", key,
                             c->layer, ISW_MAX_LAYERS - 1);
    snprintf(ax->key, sizeof ax->key, "%s%d", ISW_SPEC_LRK_PREFIX, c->layer);
    return ISW_OK;
}

/* What the values of a key are (isw_value_t). */
static isw_value_kind_t key_kind(const keydef_t *d)
{
    switch (d->type) {
    case K_INT:
    case K_LONG:
    case K_U64:
        return ISW_VALUE_INT;
    case K_DBL:
    case K_LRK:
        return ISW_VALUE_REAL;
    case K_INTLIST:
    case K_DBLLIST:
    case K_STRLIST:
        return ISW_VALUE_LIST;
    default:
        return ISW_VALUE_NAME;
    }
}

/* Room for the typed values of a numeric list, linspace or logspace (a
 * range computes its own). */
static int axis_alloc_values(isw_axis_t *ax, const axis_ctx_t *c, size_t n, int line,
                             isw_error_t *err)
{
    ax->kind = key_kind(c->d);
    if (ax->form == ISW_AXIS_RANGE || n == 0)
        return ISW_OK;
    if (ax->kind == ISW_VALUE_INT && !(ax->ints = calloc(n, sizeof *ax->ints)))
        return isw_error_set(err, ISW_ENOMEM, c->w->file, line, "out of memory");
    if (ax->kind == ISW_VALUE_REAL && !(ax->reals = calloc(n, sizeof *ax->reals)))
        return isw_error_set(err, ISW_ENOMEM, c->w->file, line, "out of memory");
    return ISW_OK;
}

/* Keeps value i as the setter left it on the scratch spec: the number
 * every run of this value gets, read from the text once, here. */
static void axis_keep(isw_axis_t *ax, const axis_ctx_t *c, size_t i)
{
    const char *field = (const char *)c->tmp + c->d->off;
    if (ax->ints) {
        ax->ints[i] = c->d->type == K_INT    ? *(const int *)field
                      : c->d->type == K_LONG ? *(const long *)field
                                             : (long long)*(const uint64_t *)field;
    } else if (ax->reals) {
        ax->reals[i] = c->d->type == K_LRK ? c->tmp->train.lr_layer[c->layer]
                                           : *(const double *)field;
    }
}

/* Sets value i on the scratch spec (its message then says it is an axis
 * value) and keeps it typed. */
static int axis_try(isw_axis_t *ax, const axis_ctx_t *c, size_t i, const char *text, int line,
                    isw_error_t *err)
{
    where_t wi = {c->w->file, line, 0};
    int st = isw_spec_set_text(c->tmp, c->d, c->layer, ax->key, text, &wi, err);
    if (st != ISW_OK)
        isw_spec_prefix_sweep(err);
    else
        axis_keep(ax, c, i);
    return st;
}

/* [v1, v2, ...]: every value as its flow text. */
static int axis_list(isw_axis_t *ax, const axis_ctx_t *c, yaml_node_t *n, isw_error_t *err)
{
    int line = isw_yaml_line(c->w, n);
    int count = isw_yaml_count(n);
    ax->form = ISW_AXIS_LIST;
    if (count == 0)
        return isw_error_set(err, ISW_EINVAL, c->w->file, line,
                             "sweep.%s: empty list, expected at least one value", ax->key);
    if (!(ax->values = calloc((size_t)count, sizeof *ax->values)))
        return isw_error_set(err, ISW_ENOMEM, c->w->file, line, "out of memory");
    int st = axis_alloc_values(ax, c, (size_t)count, line, err);
    if (st != ISW_OK)
        return st;
    for (int i = 0; i < count; i++) {
        yaml_node_t *it = isw_yaml_item(c->doc, n, i);
        isw_sb_t b = {0};
        isw_yaml_put_node(&b, c->doc, it, 0);
        if (b.oom || !b.s) {
            free(b.s);
            return isw_error_set(err, ISW_ENOMEM, c->w->file, line, "out of memory");
        }
        ax->values[i] = b.s;
        ax->n = (size_t)i + 1;
        if ((st = axis_try(ax, c, (size_t)i, b.s, isw_yaml_line(c->w, it), err)) != ISW_OK)
            return st;
    }
    return ISW_OK;
}

/* {range: [start, stop(, step)]}: integers end to end, stop excluded. */
static int axis_range(isw_axis_t *ax, const axis_ctx_t *c, yaml_node_t *args, int nargs,
                      const char *const *arg, isw_error_t *err)
{
    int vline = isw_yaml_line(c->w, args);
    long a, b, step = 1;
    if ((nargs != 2 && nargs != 3) || !isw_spec_parse_long(arg[0], &a) ||
        !isw_spec_parse_long(arg[1], &b) || (nargs == 3 && !isw_spec_parse_long(arg[2], &step))) {
        char found[160];
        isw_yaml_describe(found, sizeof found, c->doc, args);
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: range: found %s, expected integers [start, stop] or "
                             "[start, stop, step] (stop excluded)", ax->key, found);
    }
    if (!isw_spec_key_numeric(c->d))
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: range needs a numeric key; use a list of values",
                             ax->key);
    if (step == 0)
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: range step is 0, expected a nonzero integer", ax->key);
    /* Count in unsigned arithmetic: stop - start may overflow long. */
    unsigned long span = step > 0 ? (unsigned long)b - (unsigned long)a
                                  : (unsigned long)a - (unsigned long)b;
    unsigned long ustep = step > 0 ? (unsigned long)step : 0UL - (unsigned long)step;
    if (step > 0 ? b <= a : b >= a)
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: range [%ld, %ld, %ld] is empty (stop is excluded)",
                             ax->key, a, b, step);
    unsigned long count = span / ustep + (span % ustep != 0);
    if (count > ISW_SPEC_AXIS_MAX)
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: range has %lu values, at most %d allowed", ax->key,
                             count, ISW_SPEC_AXIS_MAX);
    ax->form = ISW_AXIS_RANGE;
    ax->start = a;
    ax->stop = b;
    ax->step = step;
    ax->n = (size_t)count;
    return ISW_OK;
}

/* {linspace: [a, b, n]} or {logspace: [a, b, n]}: end values a, b. */
static int axis_space(isw_axis_t *ax, const axis_ctx_t *c, const char *form, yaml_node_t *args,
                      int nargs, const char *const *arg, isw_error_t *err)
{
    int vline = isw_yaml_line(c->w, args);
    int logf = strcmp(form, "logspace") == 0;
    double a, b;
    long cnt;
    if (nargs != 3 || !isw_parse_finite(arg[0], &a) || !isw_parse_finite(arg[1], &b) ||
        !isw_spec_parse_long(arg[2], &cnt)) {
        char found[160];
        isw_yaml_describe(found, sizeof found, c->doc, args);
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: %s: found %s, expected [a, b, n] with end values a, "
                             "b and an integer count n", ax->key, form, found);
    }
    if (!isw_spec_key_numeric(c->d)) {
        char expected[512];
        isw_spec_expect_text(expected, sizeof expected, c->d);
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: %s needs a numeric key, but %s takes %s; use a list "
                             "of values", ax->key, form, ax->key, expected);
    }
    if (cnt < 1 || cnt > ISW_SPEC_AXIS_MAX)
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: %s: found n = %ld, expected 1 <= n <= %d", ax->key,
                             form, cnt, ISW_SPEC_AXIS_MAX);
    if (logf && !(a > 0 && b > 0))
        return isw_error_set(err, ISW_EINVAL, c->w->file, vline,
                             "sweep.%s: logspace: found a = %s, b = %s, expected end values "
                             "> 0 (a and b are values, not exponents)", ax->key, arg[0], arg[1]);
    ax->form = logf ? ISW_AXIS_LOGSPACE : ISW_AXIS_LINSPACE;
    ax->a = a;
    ax->b = b;
    ax->n = (size_t)cnt;
    return ISW_OK;
}

/* {FORM: [args]}: a computed axis, every value checked. */
static int axis_computed(isw_axis_t *ax, const axis_ctx_t *c, yaml_node_t *n, isw_error_t *err)
{
    int line = isw_yaml_line(c->w, n);
    yaml_node_pair_t *p = n->data.mapping.pairs.start;
    const char *form =
        isw_yaml_count(n) == 1 ? isw_yaml_scalar(yaml_document_get_node(c->doc, p->key)) : NULL;
    if (!form) {
        char found[160];
        isw_yaml_describe(found, sizeof found, c->doc, n);
        return isw_error_set(err, ISW_EINVAL, c->w->file, line,
                             "sweep.%s: found %s, expected %s", ax->key, found, forms_text);
    }
    static const char *const forms[] = {"linspace", "logspace", "range", NULL};
    if (strcmp(form, "linspace") && strcmp(form, "logspace") && strcmp(form, "range")) {
        char hint[160];
        isw_spec_suggest(hint, sizeof hint, form, forms);
        return isw_error_set(err, ISW_EINVAL, c->w->file, line,
                             "sweep.%s: unknown axis form \"%s\"%s, expected %s", ax->key, form,
                             hint, forms_text);
    }
    yaml_node_t *args = yaml_document_get_node(c->doc, p->value);
    int nargs = args->type == YAML_SEQUENCE_NODE ? isw_yaml_count(args) : -1;
    const char *arg[3] = {NULL, NULL, NULL};
    for (int i = 0; i < nargs && i < 3; i++)
        arg[i] = isw_yaml_scalar(isw_yaml_item(c->doc, args, i));
    int st = strcmp(form, "range") == 0 ? axis_range(ax, c, args, nargs, arg, err)
                                        : axis_space(ax, c, form, args, nargs, arg, err);
    if (st == ISW_OK)
        st = axis_alloc_values(ax, c, ax->n, isw_yaml_line(c->w, args), err);
    isw_axis_buf_t num;
    for (size_t i = 0; st == ISW_OK && i < ax->n; i++)
        st = axis_try(ax, c, i, isw_axis_text(ax, i, &num), isw_yaml_line(c->w, args), err);
    return st;
}

/* Parses the node of sweep axis `key` into ax and checks every value by
 * setting it on a copy of spec.  keyline: line of the axis key. */
static int axis_parse(isw_axis_t *ax, const isw_spec_t *spec, const char *key,
                      yaml_document_t *doc, yaml_node_t *n, const where_t *w, int keyline,
                      isw_error_t *err)
{
    memset(ax, 0, sizeof *ax);
    axis_ctx_t c = {NULL, -1, NULL, doc, w};
    int st = axis_key(ax, &c, key, keyline, err);
    if (st != ISW_OK)
        return st;
    ax->line = keyline;
    int line = isw_yaml_line(w, n);
    if (!(c.tmp = malloc(sizeof *c.tmp)))
        return isw_error_set(err, ISW_ENOMEM, w->file, line, "out of memory");
    *c.tmp = *spec;
    if (n->type == YAML_SEQUENCE_NODE) {
        st = axis_list(ax, &c, n, err);
    } else if (n->type == YAML_MAPPING_NODE) {
        st = axis_computed(ax, &c, n, err);
    } else {
        char found[160];
        isw_yaml_describe(found, sizeof found, doc, n);
        st = isw_error_set(err, ISW_EINVAL, w->file, line,
                           "sweep.%s: found %s, expected %s (a single value is written [%s])",
                           ax->key, found, forms_text, isw_yaml_scalar(n));
    }
    if (st == ISW_OK)
        st = axis_distinct(ax, c.d, c.layer, spec, w, line, err);
    free(c.tmp);
    if (st)
        axis_clear(ax);
    return st;
}

/* Adds (or, when replace, replaces) an axis parsed from node. */
int isw_spec_sweep_add(isw_sweep_t *sw, const isw_spec_t *spec, const char *key,
                     yaml_document_t *doc, yaml_node_t *n, const where_t *w, int keyline,
                     int replace, isw_error_t *err)
{
    isw_axis_t ax;
    int st = axis_parse(&ax, spec, key, doc, n, w, keyline, err);
    if (st)
        return st;
    int at = isw_sweep_find(sw, ax.key);
    if (at >= 0 && !replace) {
        int first = sw->axes[at].line;
        axis_clear(&ax);
        return isw_error_set(err, ISW_EINVAL, w->file, keyline,
                             "sweep.%s: duplicate axis (first at line %d)", key, first);
    }
    if (at >= 0) {
        axis_clear(&sw->axes[at]);
        sw->axes[at] = ax;
        return ISW_OK;
    }
    if (sw->naxes >= ISW_MAX_AXES) {
        axis_clear(&ax);
        return isw_error_set(err, ISW_EINVAL, w->file, keyline,
                             "sweep.%s: more than %d axes", key, ISW_MAX_AXES);
    }
    sw->axes[sw->naxes++] = ax;
    return ISW_OK;
}

/* ---- refine ------------------------------------------------------------- */

int isw_spec_refine_set(isw_refine_spec_t *r, const char *key, yaml_document_t *doc,
                      yaml_node_t *n, const where_t *w, int keyline, isw_error_t *err)
{
    const char *t = isw_yaml_scalar(n);
    char found[160];
    isw_yaml_describe(found, sizeof found, doc, n);
    int line = isw_yaml_line(w, n);
    if (strcmp(key, "axis") == 0) {
        if (!t || strlen(t) >= sizeof r->axis)
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "refine.axis: found %s, expected train.lr", found);
        isw_spec_copy_str(r->axis, sizeof r->axis, t);
    } else if (strcmp(key, "tolerance") == 0) {
        double v;
        if (!isw_parse_finite(t, &v) || !isw_spec_range_ok(R_OPEN01, v))
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "refine.tolerance: found %s, expected a number in (0, 1) "
                                 "(relative bracket width)", found);
        r->tolerance = v;
    } else if (strcmp(key, "rounds") == 0) {
        long v;
        if (!isw_spec_parse_long(t, &v) || v < 1 || v > INT_MAX)
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "refine.rounds: found %s, expected an integer >= 1", found);
        r->rounds = (int)v;
    } else if (strcmp(key, "enabled") == 0) {
        int v;
        if (!isw_spec_parse_bool(t, &v))
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "refine.enabled: found %s, expected true or false", found);
        r->enabled = v;
    } else {
        char hint[160], list[200];
        isw_spec_suggest(hint, sizeof hint, key, refine_keys);
        isw_spec_join_names(list, sizeof list, refine_keys);
        return isw_error_set(err, ISW_EINVAL, w->file, keyline,
                             "refine.%s: unknown key%s; allowed keys of refine: %s", key, hint,
                             list);
    }
    return ISW_OK;
}

int isw_spec_refine_check(const isw_sweep_t *sw, const char *file, int line, isw_error_t *err)
{
    const isw_refine_spec_t *r = &sw->refine;
    if (!r->enabled)
        return ISW_OK;
    if (strcmp(r->axis, "train.lr") != 0)
        return isw_error_set(err, ISW_EINVAL, file, line,
                             "refine.axis: found \"%s\", expected train.lr (the only axis refine "
                             "bisects)", r->axis);
    if (isw_sweep_find(sw, r->axis) < 0)
        return isw_error_set(err, ISW_EINVAL, file, line,
                             "refine.axis: %s is not a sweep axis; refine bisects between the "
                             "grid points of sweep.%s", r->axis, r->axis);
    return ISW_OK;
}

/* ---- fit ---------------------------------------------------------------- */

int isw_spec_fit_set(isw_fit_spec_t *f, const char *key, yaml_document_t *doc, yaml_node_t *n,
                     const where_t *w, int keyline, isw_error_t *err)
{
    const char *t = isw_yaml_scalar(n);
    char found[160];
    isw_yaml_describe(found, sizeof found, doc, n);
    int line = isw_yaml_line(w, n);
    if (strcmp(key, "axis") == 0) {
        if (!t || strlen(t) >= sizeof f->axis)
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "fit.axis: found %s, expected the key of a numeric sweep axis, "
                                 "e.g. model.width", found);
        isw_spec_copy_str(f->axis, sizeof f->axis, t);
    } else if (strcmp(key, "range") == 0) {
        double v[2];
        int ok = n->type == YAML_SEQUENCE_NODE &&
                 n->data.sequence.items.top - n->data.sequence.items.start == 2;
        for (int i = 0; ok && i < 2; i++) {
            yaml_node_t *item = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
            ok = isw_parse_finite(isw_yaml_scalar(item), &v[i]);
        }
        if (!ok || !(v[0] > 0 && v[1] > v[0]))
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "fit.range: found %s, expected [lo, hi] with 0 < lo < hi (the "
                                 "fit axis values to fit)", found);
        f->lo = v[0];
        f->hi = v[1];
    } else {
        char hint[160], list[200];
        isw_spec_suggest(hint, sizeof hint, key, fit_keys);
        isw_spec_join_names(list, sizeof list, fit_keys);
        return isw_error_set(err, ISW_EINVAL, w->file, keyline,
                             "fit.%s: unknown key%s; allowed keys of fit: %s", key, hint, list);
    }
    return ISW_OK;
}

int isw_spec_fit_check(const isw_sweep_t *sw, const char *file, int axis_line, isw_error_t *err)
{
    const char *axis = sw->fit.axis;
    if (!axis[0])
        return ISW_OK;
    int a = isw_sweep_find(sw, axis);
    if (a < 0)
        return isw_error_set(err, ISW_EINVAL, file, axis_line,
                             "fit.axis: %s is not a sweep axis; the edges are fitted against "
                             "one of the sweep's numeric axes", axis);
    const isw_axis_t *ax = &sw->axes[a];
    if (strcmp(axis, "train.lr") == 0 || strcmp(axis, "seed") == 0 ||
        (ax->kind != ISW_VALUE_INT && ax->kind != ISW_VALUE_REAL))
        return isw_error_set(err, ISW_EINVAL, file, axis_line,
                             "fit.axis: found %s, expected a numeric sweep axis other than "
                             "train.lr and seed (the edges are in train.lr; seeds are pooled)",
                             axis);
    return ISW_OK;
}
