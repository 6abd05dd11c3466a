/* YAML nodes for the spec: flow text, "found ..." descriptions, messages
 * about keys and mappings, and setting one key from a node or from flow
 * text (the loader, isw_spec_set and the sweep axes all go through
 * isw_spec_set_node).  Values are parsed with libyaml's document API. */
#include "spec_internal.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Flow text of a node is cut here (aliases can expand exponentially). */
#define FLOW_MAX 65536

/* Plain YAML scalars need no quotes in flow context when they consist of
 * these characters only; anything else is double-quoted. */
static int plain_safe(const char *s, size_t n)
{
    if (n == 0 || (s[0] == '-' && n == 1))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

void isw_yaml_put_scalar(isw_sb_t *b, const char *s, size_t n)
{
    if (plain_safe(s, n)) {
        isw_sb_putn(b, s, n);
        return;
    }
    isw_sb_putn(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            isw_sb_putn(b, e, 2);
        } else if (c == '\n') {
            isw_sb_puts(b, "\\n");
        } else if (c == '\t') {
            isw_sb_puts(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            isw_sb_printf(b, "\\x%02x", c);
        } else {
            isw_sb_putn(b, (const char *)&c, 1);
        }
    }
    isw_sb_putn(b, "\"", 1);
}

/* A node as YAML flow text: "0.5", "[16, 16]", "{a: 1}". */
void isw_yaml_put_node(isw_sb_t *b, yaml_document_t *doc, yaml_node_t *n, int depth)
{
    if (!n || depth > 64 || b->len > FLOW_MAX) {
        isw_sb_puts(b, "...");
        return;
    }
    if (n->type == YAML_SCALAR_NODE) {
        isw_yaml_put_scalar(b, (const char *)n->data.scalar.value, n->data.scalar.length);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        isw_sb_putn(b, "[", 1);
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++) {
            if (it != n->data.sequence.items.start)
                isw_sb_puts(b, ", ");
            isw_yaml_put_node(b, doc, yaml_document_get_node(doc, *it), depth + 1);
        }
        isw_sb_putn(b, "]", 1);
    } else if (n->type == YAML_MAPPING_NODE) {
        isw_sb_putn(b, "{", 1);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             p < n->data.mapping.pairs.top; p++) {
            if (p != n->data.mapping.pairs.start)
                isw_sb_puts(b, ", ");
            isw_yaml_put_node(b, doc, yaml_document_get_node(doc, p->key), depth + 1);
            isw_sb_puts(b, ": ");
            isw_yaml_put_node(b, doc, yaml_document_get_node(doc, p->value), depth + 1);
        }
        isw_sb_putn(b, "}", 1);
    }
}

/* What was found, for messages: "\"abc\"", "a list [1, 2]", "a mapping {a: 1}". */
void isw_yaml_describe(char *buf, size_t size, yaml_document_t *doc, yaml_node_t *n)
{
    isw_sb_t b = {0};
    if (n->type == YAML_SCALAR_NODE) {
        isw_sb_putn(&b, "\"", 1);
        isw_sb_putn(&b, (const char *)n->data.scalar.value, n->data.scalar.length);
        isw_sb_putn(&b, "\"", 1);
    } else {
        isw_sb_puts(&b, n->type == YAML_SEQUENCE_NODE ? "a list " : "a mapping ");
        isw_yaml_put_node(&b, doc, n, 0);
    }
    const char *s = b.s ? b.s : "?";
    if (strlen(s) > 100)
        snprintf(buf, size, "%.96s ...", s);
    else
        snprintf(buf, size, "%s", s);
    free(b.s);
}

const char *isw_yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int isw_yaml_count(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n->type == YAML_MAPPING_NODE)
        return (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

yaml_node_t *isw_yaml_item(yaml_document_t *doc, const yaml_node_t *n, int i)
{
    return yaml_document_get_node(doc, n->data.sequence.items.start[i]);
}

int isw_yaml_line(const where_t *w, const yaml_node_t *n)
{
    return w->marks ? (int)n->start_mark.line + 1 : w->line;
}

/* "KEY: found X, expected Y[hint]" at the node's line. */
int isw_spec_bad_value(isw_error_t *err, const where_t *w, yaml_document_t *doc, yaml_node_t *n,
                     const char *key, const keydef_t *d, const char *hint)
{
    char found[160], expected[512];
    isw_yaml_describe(found, sizeof found, doc, n);
    isw_spec_expect_text(expected, sizeof expected, d);
    return isw_error_set(err, ISW_EINVAL, w->file, isw_yaml_line(w, n), "%s: found %s, expected %s%s",
                         key, found, expected, hint ? hint : "");
}

/* "unknown key" for a dotted key; names the allowed keys of its section. */
int isw_spec_unknown_key(isw_error_t *err, const char *file, int line, const char *prefix,
                       const char *key)
{
    const char *dot = strchr(key, '.');
    char hint[160] = "", list[700];
    if (dot) {
        for (int s = 0; isw_spec_sections[s]; s++) {
            size_t sl = strlen(isw_spec_sections[s]);
            if ((size_t)(dot - key) != sl || strncmp(key, isw_spec_sections[s], sl) != 0)
                continue;
            const char *names[ISW_SPEC_MAX_KEYS + 1];
            isw_spec_section_keys(isw_spec_sections[s], names, ISW_SPEC_MAX_KEYS + 1);
            isw_spec_suggest(hint, sizeof hint, dot + 1, names);
            isw_spec_join_names(list, sizeof list, names);
            return isw_error_set(err, ISW_EINVAL, file, line,
                                 "%s%s: unknown key%s; allowed keys of %s: %s", prefix, key,
                                 hint, isw_spec_sections[s], list);
        }
    }
    /* Not in a known section: look for a key whose last part matches. */
    const char *full[ISW_SPEC_MAX_KEYS + 1], *last[ISW_SPEC_MAX_KEYS + 1];
    int n = 0;
    for (size_t i = 0; i < isw_spec_nkeys; i++) {
        full[n] = isw_spec_keys[i].key;
        const char *d = strrchr(isw_spec_keys[i].key, '.');
        last[n] = d ? d + 1 : isw_spec_keys[i].key;
        n++;
    }
    full[n] = last[n] = NULL;
    isw_spec_suggest(hint, sizeof hint, key, full);
    if (!hint[0]) {
        for (int i = 0; i < n; i++)
            if (isw_spec_edit_distance(key, last[i]) <= (strlen(key) <= 3 ? 0 : 1)) {
                snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", full[i]);
                break;
            }
    }
    isw_spec_join_names(list, sizeof list, isw_spec_sections);
    return isw_error_set(err, ISW_EINVAL, file, line,
                         "%s%s: unknown key%s; expected seed, name or SECTION.KEY with SECTION "
                         "one of %s", prefix, key, hint, list);
}

/* Rejects a node that is not a mapping (message: "PREFIX: found X,
 * expected EXPECTED") and a mapping whose keys are not scalars or repeat. */
int isw_spec_check_mapping(yaml_document_t *doc, yaml_node_t *map, const char *prefix,
                         const char *expected, const char *file, isw_error_t *err)
{
    if (map->type != YAML_MAPPING_NODE) {
        char found[160];
        isw_yaml_describe(found, sizeof found, doc, map);
        return isw_error_set(err, ISW_EINVAL, file, (int)map->start_mark.line + 1,
                             "%s%sfound %s, expected %s", prefix, prefix[0] ? ": " : "", found,
                             expected);
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (!isw_yaml_scalar(k)) {
            char found[160];
            isw_yaml_describe(found, sizeof found, doc, k);
            return isw_error_set(err, ISW_EINVAL, file, (int)k->start_mark.line + 1,
                                 "%s%sfound %s as a key, expected a name", prefix,
                                 prefix[0] ? ": " : "", found);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(doc, q->key);
            if (strcmp(isw_yaml_scalar(k), isw_yaml_scalar(k2)) == 0)
                return isw_error_set(err, ISW_EINVAL, file, (int)k->start_mark.line + 1,
                                     "%s%s%s: duplicate %s (first at line %d)", prefix,
                                     prefix[0] ? "." : "", isw_yaml_scalar(k),
                                     strcmp(prefix, "sweep") ? "key" : "axis",
                                     (int)k2->start_mark.line + 1);
        }
    }
    return ISW_OK;
}
/* ---- setting one key from a node --------------------------------------- */

static int set_list(isw_spec_t *s, const keydef_t *d, const char *key, yaml_document_t *doc,
                    yaml_node_t *n, const where_t *w, isw_error_t *err)
{
    int count = 1;
    if (n->type == YAML_SEQUENCE_NODE)
        count = isw_yaml_count(n);
    else if (d->type != K_STRLIST || n->type != YAML_SCALAR_NODE)
        return isw_spec_bad_value(err, w, doc, n, key, d, NULL);

    int max = d->type == K_INTLIST ? ISW_MAX_HIDDEN
            : d->type == K_DBLLIST ? ISW_MAX_LAYERS : ISW_MAX_TARGETS;
    if (count > max)
        return isw_error_set(err, ISW_EINVAL, w->file, isw_yaml_line(w, n),
                             "%s: found %d entries, expected at most %d", key, count, max);

    int ivals[ISW_MAX_HIDDEN];
    double dvals[ISW_MAX_LAYERS];
    for (int i = 0; i < count; i++) {
        yaml_node_t *it = n->type == YAML_SEQUENCE_NODE ? isw_yaml_item(doc, n, i) : n;
        const char *t = isw_yaml_scalar(it);
        long lv = 0;
        double dv = 0;
        int ok = t != NULL;
        if (ok && d->type == K_INTLIST)
            ok = isw_spec_parse_long(t, &lv) && lv >= 1 && lv <= INT_MAX;
        else if (ok && d->type == K_DBLLIST)
            ok = isw_parse_finite(t, &dv) && isw_spec_range_ok(d->range, dv);
        else if (ok)
            ok = *t && strlen(t) < ISW_NAME_MAX;
        if (!ok)
            return isw_spec_bad_value(err, w, doc, it, key, d, NULL);
        if (d->type == K_INTLIST)
            ivals[i] = (int)lv;
        else if (d->type == K_DBLLIST)
            dvals[i] = dv;
    }

    if (d->type == K_INTLIST) {
        memset(s->model.hidden, 0, sizeof s->model.hidden);
        memcpy(s->model.hidden, ivals, (size_t)count * sizeof ivals[0]);
        s->model.nhidden = count;
    } else if (d->type == K_DBLLIST) {
        isw_train_spec_t *t = &s->train;
        for (int l = 0; l < ISW_MAX_LAYERS; l++)
            t->lr_layer[l] = l < count ? dvals[l] : 1.0;
        t->lr_layer_list = count;
    } else {
        memset(s->data.target, 0, sizeof s->data.target);
        for (int i = 0; i < count; i++) {
            yaml_node_t *it = n->type == YAML_SEQUENCE_NODE ? isw_yaml_item(doc, n, i) : n;
            isw_spec_copy_str(s->data.target[i], ISW_NAME_MAX, isw_yaml_scalar(it));
        }
        s->data.ntargets = count;
    }
    return ISW_OK;
}

/* Typed assignments of a plain row's field, with the row's range: 0 when
 * the value is not one of the row's.  The text setter parses, then calls
 * these; an axis value typed at load calls them directly. */
static int assign_integer(isw_spec_t *s, const keydef_t *d, long long v)
{
    char *field = (char *)s + d->off;
    switch (d->type) {
    case K_INT:
    case K_LONG:
        if (!isw_spec_range_ok(d->range, (double)v) || v > LONG_MAX || v < LONG_MIN ||
            (d->type == K_INT && (v > INT_MAX || v < INT_MIN)))
            return 0;
        if (d->type == K_INT)
            *(int *)field = (int)v;
        else
            *(long *)field = (long)v;
        return 1;
    case K_U64:
        /* v holds the u64's bits (isw_value_t) */
        *(uint64_t *)field = (uint64_t)v;
        return 1;
    default:
        return 0;
    }
}

static int assign_real(isw_spec_t *s, const keydef_t *d, double v)
{
    if (d->type != K_DBL)
        return 0;
    if (!((d->flags & (F_TARGET | F_NULL)) && isnan(v)) &&
        !(isfinite(v) && isw_spec_range_ok(d->range, v)))
        return 0;
    if (d->flags & F_TARGET) {
        /* a target given replaces the default one */
        isw_criteria_spec_t *c = &s->criteria;
        if (c->target_default)
            c->target_accuracy = c->target_loss = c->target_loss_ratio = NAN;
        c->target_default = 0;
    }
    *(double *)((char *)s + d->off) = v;
    return 1;
}

/* Parses scalar t into the field of a plain-valued row (string, bool,
 * integer, real); 0 when t is not a value of the row. */
static int set_plain(isw_spec_t *s, const keydef_t *d, const char *t)
{
    char *field = (char *)s + d->off;
    long lv;
    double dv;
    uint64_t uv;
    int bv;
    switch (d->type) {
    case K_STR:
        if (strlen(t) >= d->size)
            return 0;
        isw_spec_copy_str(field, d->size, t);
        return 1;
    case K_BOOL:
        if (!isw_spec_parse_bool(t, &bv))
            return 0;
        *(int *)field = bv;
        return 1;
    case K_INT:
    case K_LONG:
        return isw_spec_parse_long(t, &lv) && assign_integer(s, d, lv);
    case K_U64:
        return isw_spec_parse_u64(t, &uv) && assign_integer(s, d, (long long)uv);
    case K_DBL:
        if ((d->flags & (F_TARGET | F_NULL)) && isw_spec_is_null(t))
            return assign_real(s, d, NAN);
        return isw_parse_finite(t, &dv) && assign_real(s, d, dv);
    default:
        return 0;
    }
}

/* train.lr_layer.K: layer K's multiplier (layer already checked). */
static int assign_lrk(isw_spec_t *s, const keydef_t *d, int layer, double v)
{
    if (!isfinite(v) || !isw_spec_range_ok(d->range, v))
        return 0;
    s->train.lr_layer[layer] = v;
    if (layer + 1 > s->train.lr_layer_keys)
        s->train.lr_layer_keys = layer + 1;
    return 1;
}

static int set_lrk(isw_spec_t *s, const keydef_t *d, int layer, const char *key,
                   yaml_document_t *doc, yaml_node_t *n, const where_t *w, isw_error_t *err)
{
    double dv;
    if (layer < 0 || layer >= ISW_MAX_LAYERS)
        return isw_error_set(err, ISW_EINVAL, w->file, isw_yaml_line(w, n),
                             "%s: layer index %d out of range, expected 0..%d", key, layer,
                             ISW_MAX_LAYERS - 1);
    if (!isw_parse_finite(isw_yaml_scalar(n), &dv) || !assign_lrk(s, d, layer, dv))
        return isw_spec_bad_value(err, w, doc, n, key, d, NULL);
    return ISW_OK;
}

static int set_enum(isw_spec_t *s, const keydef_t *d, const char *key, yaml_document_t *doc,
                    yaml_node_t *n, const where_t *w, isw_error_t *err)
{
    const char *t = isw_yaml_scalar(n);
    if ((d->flags & (F_OUTPUT | F_LOSS)) && strcmp(t, "auto") == 0) {
        if (d->flags & F_OUTPUT)
            s->model.output_set = 0;
        else
            s->model.loss_set = 0;
        return ISW_OK;
    }
    int v = isw_spec_enum_find(d, t);
    if (v < 0) {
        const char *cands[65];
        int nc = 0;
        for (; nc < d->names.n && nc < 64; nc++)
            cands[nc] = d->names.name(nc);
        cands[nc] = NULL;
        char hint[160];
        isw_spec_suggest(hint, sizeof hint, t, cands);
        return isw_spec_bad_value(err, w, doc, n, key, d, hint);
    }
    *(int *)((char *)s + d->off) = v;
    if (d->flags & F_OUTPUT)
        s->model.output_set = 1;
    if (d->flags & F_LOSS)
        s->model.loss_set = 1;
    if (d->flags & F_DISTSET)
        s->init.dist_set = 1;
    if (d->flags & F_BIASSET)
        s->init.bias_set = 1;
    return ISW_OK;
}

/* What setting a row's value implies beyond its field. */
static void mark_set(isw_spec_t *s, const keydef_t *d)
{
    if (d->flags & F_DATASEED)
        s->data.has_seed = 1;
    if (d->flags & F_CLASSES)
        s->data.classes_default = 0;
}

int isw_spec_set_node(isw_spec_t *s, const keydef_t *d, int layer, const char *key,
                      yaml_document_t *doc, yaml_node_t *n, const where_t *w, isw_error_t *err)
{
    if (d->type == K_INTLIST || d->type == K_DBLLIST || d->type == K_STRLIST)
        return set_list(s, d, key, doc, n, w, err);
    const char *t = isw_yaml_scalar(n);
    if (!t)
        return isw_spec_bad_value(err, w, doc, n, key, d, NULL);
    int st = ISW_OK;
    if (d->type == K_LRK)
        st = set_lrk(s, d, layer, key, doc, n, w, err);
    else if (d->type == K_ENUM)
        st = set_enum(s, d, key, doc, n, w, err);
    else if (!set_plain(s, d, t))
        st = isw_spec_bad_value(err, w, doc, n, key, d, NULL);
    if (st == ISW_OK)
        mark_set(s, d);
    return st;
}

/* Parses YAML flow text into doc.  An empty text gives an empty plain
 * scalar, so "train.lr=" reports `found ""`.  Returns 0 and fills problem
 * on a syntax error. */
/* A node with an explicit tag (`!!float 5`, `!x`): its default tag
 * (str, seq, map) is what every untagged node gets.  Tags would change
 * what a value means, and initsweep reads every value by its key's type,
 * so a tag is refused rather than silently ignored.  Returns the first
 * tagged node, or NULL. */
yaml_node_t *isw_yaml_tagged(yaml_document_t *doc)
{
    for (yaml_node_t *n = doc->nodes.start; n && n < doc->nodes.top; n++) {
        const char *want = n->type == YAML_SCALAR_NODE     ? YAML_DEFAULT_SCALAR_TAG
                           : n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG
                                                           : YAML_DEFAULT_MAPPING_TAG;
        if (n->tag && strcmp((const char *)n->tag, want) != 0)
            return n;
    }
    return NULL;
}


int isw_yaml_parse_text(yaml_document_t *doc, const char *text, char *problem, size_t size)
{
    int deep;
    if (isw_yaml_flow_depth(text, &deep) > ISW_SPEC_MAX_DEPTH) {
        snprintf(problem, size, "nested more than %d deep", ISW_SPEC_MAX_DEPTH);
        return 0;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        snprintf(problem, size, "out of memory");
        return 0;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    int ok = yaml_parser_load(&p, doc);
    if (!ok)
        snprintf(problem, size, "%s", p.problem ? p.problem : "invalid YAML");
    if (ok) {
        /* one value: a second document ("1\n---\n2") is not ignored */
        yaml_document_t more;
        if (!yaml_parser_load(&p, &more)) {
            snprintf(problem, size, "%s", p.problem ? p.problem : "invalid YAML");
            ok = 0;
        } else {
            if (yaml_document_get_root_node(&more)) {
                snprintf(problem, size, "found a second YAML document, expected one value");
                ok = 0;
            }
            yaml_document_delete(&more);
        }
        yaml_node_t *t = ok ? isw_yaml_tagged(doc) : NULL;
        if (t) {
            snprintf(problem, size, "found the tag %.60s, expected a value without a tag",
                     (const char *)t->tag);
            ok = 0;
        }
        if (!ok)
            yaml_document_delete(doc);
    }
    yaml_parser_delete(&p);
    if (!ok)
        return 0;
    if (!yaml_document_get_root_node(doc)) {
        yaml_document_delete(doc);
        if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1) ||
            !yaml_document_add_scalar(doc, NULL, (yaml_char_t *)"", 0, YAML_PLAIN_SCALAR_STYLE)) {
            snprintf(problem, size, "out of memory");
            return 0;
        }
    }
    return 1;
}

int isw_spec_set_value(isw_spec_t *s, const char *key, const isw_value_t *v, isw_error_t *err)
{
    int layer;
    const keydef_t *d = isw_spec_key_find(key, &layer);
    if (!d)
        return isw_spec_unknown_key(err, "", 0, "", key);
    int ok;
    switch (v->kind) {
    case ISW_VALUE_INT:
        ok = d->type == K_DBL ? assign_real(s, d, (double)v->i) : assign_integer(s, d, v->i);
        break;
    case ISW_VALUE_REAL:
        ok = d->type == K_LRK ? layer >= 0 && layer < ISW_MAX_LAYERS &&
                                    assign_lrk(s, d, layer, v->r)
                              : assign_real(s, d, v->r);
        break;
    default: {
        where_t w = {"", 0, 0};
        return isw_spec_set_text(s, d, layer, key, v->text, &w, err);
    }
    }
    if (!ok) {
        char expected[256];
        isw_spec_expect_text(expected, sizeof expected, d);
        return v->kind == ISW_VALUE_INT
                   ? isw_error_set(err, ISW_EINVAL, "", 0, "%s: found %lld, expected %s", key,
                                   v->i, expected)
                   : isw_error_set(err, ISW_EINVAL, "", 0, "%s: found %.17g, expected %s", key,
                                   v->r, expected);
    }
    mark_set(s, d);
    return ISW_OK;
}

/* Sets a key from YAML flow text; messages at w's file and line. */
int isw_spec_set_text(isw_spec_t *s, const keydef_t *d, int layer, const char *key,
                    const char *text, const where_t *w, isw_error_t *err)
{
    yaml_document_t doc;
    char problem[256];
    if (!isw_yaml_parse_text(&doc, text, problem, sizeof problem))
        return isw_error_set(err, ISW_EINVAL, w->file, w->line,
                             "%s: found \"%s\", which is not valid YAML (%s)", key, text, problem);
    where_t fixed = {w->file, w->line, 0};
    int st = isw_spec_set_node(s, d, layer, key, &doc, yaml_document_get_root_node(&doc), &fixed, err);
    yaml_document_delete(&doc);
    return st;
}
/* Deepest [ / { nesting outside quotes and comments; *line where it passed
 * ISW_SPEC_MAX_DEPTH. */
int isw_yaml_flow_depth(const char *text, int *line)
{
    int depth = 0, ln = 1;
    char quote = 0;
    for (const char *c = text; *c; c++) {
        if (*c == '\n') {
            ln++;
            if (quote == 0)
                continue;
        }
        if (quote) {
            if (*c == quote)
                quote = 0;
            else if (*c == '\\' && quote == '"' && c[1])
                c++;
        } else if (*c == '"' || *c == '\'') {
            quote = *c;
        } else if (*c == '#' && (c == text || isspace((unsigned char)c[-1]))) {
            while (c[1] && c[1] != '\n')
                c++;
        } else if (*c == '[' || *c == '{') {
            if (++depth > ISW_SPEC_MAX_DEPTH) {
                *line = ln;
                return depth;
            }
        } else if ((*c == ']' || *c == '}') && depth > 0) {
            depth--;
        }
    }
    return depth;
}
