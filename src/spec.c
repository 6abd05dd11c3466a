/* The sweep spec: defaults (from the key table), isw_spec_set and --set
 * overrides, and the small helpers the spec's files share (names, "did you
 * mean" hints, integer and boolean scalars, key lines for messages). */
#include "spec_internal.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- defaults ------------------------------------------------------------ */

void isw_spec_defaults(isw_spec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    for (int l = 0; l < ISW_MAX_LAYERS; l++)
        spec->train.lr_layer[l] = 1.0;
    where_t w = {"", 0, 0};
    for (size_t i = 0; i < isw_spec_nkeys; i++) {
        const keydef_t *d = &isw_spec_keys[i];
        if (!d->def)
            continue;
        int st = isw_spec_set_text(spec, d, -1, d->key, d->def, &w, NULL);
        assert(st == ISW_OK);   /* every row's default is one of its values */
        (void)st;
    }
    /* the defaults of output and loss are resolved from the data (validate) */
    spec->model.output_set = spec->model.loss_set = 0;
    spec->init.dist_set = spec->init.bias_set = 0;
}

int isw_spec_layers(const isw_spec_t *spec) { return spec->model.nhidden + 1; }

/* ---- helpers ------------------------------------------------------------- */

/* Copies into a fixed array, zero-filling the rest: specs compare with memcmp. */
void isw_spec_copy_str(char *dst, size_t size, const char *src)
{
    memset(dst, 0, size);
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
}

/* Levenshtein distance, case-insensitive, for "did you mean" hints. */
int isw_spec_edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63)
        return 99;
    int prev[64], cur[64];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, sizeof cur);
    }
    return prev[nb];
}

/* Appends ` (did you mean "x"?)` to hint when some candidate is close. */
void isw_spec_suggest(char *hint, size_t size, const char *word, const char *const *cands)
{
    int best = 99;
    const char *pick = NULL;
    for (int i = 0; cands[i]; i++) {
        int d = isw_spec_edit_distance(word, cands[i]);
        if (d < best) {
            best = d;
            pick = cands[i];
        }
    }
    int limit = strlen(word) <= 3 ? 1 : 2;
    if (pick && best > 0 && best <= limit)
        snprintf(hint, size, " (did you mean \"%s\"?)", pick);
    else if (pick && best == 0)  /* differs only in case */
        snprintf(hint, size, " (did you mean \"%s\"?)", pick);
    else
        hint[0] = '\0';
}

void isw_spec_join_names(char *buf, size_t size, const char *const *names)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && len + 1 < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

static const char *integer_digits(const char *s, int allow_minus)
{
    if (!s)
        return NULL;
    const char *p = s;
    if (*p == '+' || (allow_minus && *p == '-'))
        p++;
    if (!isdigit((unsigned char)*p))
        return NULL;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return NULL;
    return p;
}

int isw_spec_parse_long(const char *s, long *v)
{
    if (!integer_digits(s, 1))
        return 0;
    errno = 0;
    long x = strtol(s, NULL, 10);
    if (errno == ERANGE)
        return 0;
    *v = x;
    return 1;
}

int isw_spec_parse_u64(const char *s, uint64_t *v)
{
    const char *p = integer_digits(s, 0);
    return p && isw_parse_u64(p, v);
}

int isw_spec_parse_bool(const char *s, int *v)
{
    if (!s)
        return 0;
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
        *v = 1;
        return 1;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no")) {
        *v = 0;
        return 1;
    }
    return 0;
}

int isw_spec_is_null(const char *s)
{
    return s && (!*s || !strcmp(s, "~") || !strcasecmp(s, "null"));
}

/* ---- key lines and validation messages ----------------------------------- */

void isw_spec_keylines_add(keylines_t *kl, const char *key, int line)
{
    if (!kl || kl->n >= (int)(sizeof kl->e / sizeof kl->e[0]) || strlen(key) >= 64)
        return;
    isw_spec_copy_str(kl->e[kl->n].key, sizeof kl->e[kl->n].key, key);
    kl->e[kl->n].line = line;
    kl->n++;
}

/* Line of key, else of its section; 0 when unknown. */
int isw_spec_kline(const keylines_t *kl, const char *key)
{
    if (!kl)
        return 0;
    for (int i = 0; i < kl->n; i++)
        if (strcmp(kl->e[i].key, key) == 0)
            return kl->e[i].line;
    const char *dot = strchr(key, '.');
    if (dot)
        for (int i = 0; i < kl->n; i++)
            if (strlen(kl->e[i].key) == (size_t)(dot - key) &&
                strncmp(kl->e[i].key, key, (size_t)(dot - key)) == 0)
                return kl->e[i].line;
    return 0;
}

int isw_spec_verr(const vctx_t *v, const char *key, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return isw_error_set(v->err, ISW_EINVAL, v->file, isw_spec_kline(v->kl, key), "%s: %s", key,
                         msg);
}

void isw_spec_prefix_sweep(isw_error_t *err)
{
    if (!err)
        return;
    char inner[sizeof err->text];
    memcpy(inner, err->text, sizeof inner);
    snprintf(err->text, sizeof err->text, "sweep.%.1000s", inner);
}

/* ---- set / override ----------------------------------------------------- */

int isw_spec_set(isw_spec_t *spec, const char *key, const char *value, isw_error_t *err)
{
    int layer;
    const keydef_t *d = isw_spec_key_find(key, &layer);
    if (!d)
        return isw_spec_unknown_key(err, "", 0, "", key);
    where_t w = {"", 0, 0};
    return isw_spec_set_text(spec, d, layer, key, value, &w, err);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

static int override_impl(isw_spec_t *spec, isw_sweep_t *sweep, const char *assignment,
                         isw_error_t *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return isw_error_set(err, ISW_EINVAL, "", 0, "expected KEY=VALUE, e.g. train.lr=0.5");
    char key[256];
    size_t kn = (size_t)(eq - assignment);
    if (kn >= sizeof key)
        kn = sizeof key - 1;
    memcpy(key, assignment, kn);
    key[kn] = '\0';
    trim(key);
    if (!key[0])
        return isw_error_set(err, ISW_EINVAL, "", 0, "found no key, expected KEY=VALUE");
    const char *value = eq + 1;

    int is_sweep = strncmp(key, "sweep.", 6) == 0;
    int is_refine = strncmp(key, "refine.", 7) == 0;
    int is_fit = strncmp(key, "fit.", 4) == 0;
    if (!is_sweep && !is_refine && !is_fit)
        return isw_spec_set(spec, key, value, err);
    if (!sweep)
        return isw_error_set(err, ISW_EINVAL, "", 0, "%s: this command has no sweep to change",
                             key);

    yaml_document_t doc;
    char problem[256];
    if (!isw_yaml_parse_text(&doc, value, problem, sizeof problem))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "%s: found \"%s\", which is not valid YAML (%s)", key, value,
                             problem);
    where_t w = {"", 0, 0};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int st;
    if (is_sweep) {
        st = isw_spec_sweep_add(sweep, spec, key + 6, &doc, root, &w, 0, 1, err);
    } else if (is_fit) {
        st = isw_spec_fit_set(&sweep->fit, key + 4, &doc, root, &w, 0, err);
    } else {
        /* Any refine key turns refinement on, as a refine section does. */
        int enabled = sweep->refine.enabled;
        sweep->refine.enabled = 1;
        st = isw_spec_refine_set(&sweep->refine, key + 7, &doc, root, &w, 0, err);
        if (st)
            sweep->refine.enabled = enabled;
    }
    yaml_document_delete(&doc);
    if (!st)
        st = isw_spec_refine_check(sweep, "", 0, err);
    if (!st)
        st = isw_spec_fit_check(sweep, "", 0, err);
    return st;
}

int isw_spec_override(isw_spec_t *spec, isw_sweep_t *sweep, const char *assignment,
                      isw_error_t *err)
{
    int st = override_impl(spec, sweep, assignment, err);
    if (st && err) {
        char inner[sizeof err->text];
        memcpy(inner, err->text, sizeof inner);
        snprintf(err->file, sizeof err->file, "--set");
        err->line = 0;
        err->column = 0;
        snprintf(err->text, sizeof err->text, "\"%.200s\": %.800s", assignment, inner);
    }
    return st;
}
