/* The sweep spec: YAML -> isw_spec_t + isw_sweep_t, `--set` overrides, the
 * resolved spec written back as YAML.  The only file that includes yaml.h.
 *
 * Every settable key is one row of a table (dotted key, type, field offset,
 * allowed range or names), so the loader, isw_spec_set, the sweep axes,
 * isw_spec_get and isw_spec_write all agree on keys and checks.  Values are
 * parsed with libyaml's document API: the file loader walks the document
 * and reports node lines; isw_spec_set parses its text as a one-line
 * document and goes through the same per-node setter. */
#include "initsweep/spec.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

/* Enum fields are written through int pointers by the table-driven setter. */
_Static_assert(sizeof(isw_act_t) == sizeof(int), "enum size");
_Static_assert(sizeof(isw_dist_t) == sizeof(int), "enum size");

/* An axis may not hold more values than this: each is checked at load. */
#define AXIS_MAX_VALUES 1000000
/* Flow text of a node is cut here (aliases can expand exponentially). */
#define FLOW_MAX 65536

/* ---- names ------------------------------------------------------------ */

static const char *const kind_names[] = {"idx", "csv", "synthetic", NULL};
static const char *const gen_names[] = {"xor", "spirals", "blobs", "teacher",
                                        "linear", "gaussian", NULL};
static const char *const act_names[] = {"sigmoid", "tanh", "relu", "leaky_relu",
                                        "linear", NULL};
static const char *const out_names[] = {"sigmoid", "softmax", "linear", NULL};
static const char *const loss_names[] = {"mse", "cross_entropy", NULL};
static const char *const param_names[] = {"standard", "mean_field", NULL};
static const char *const dist_names[] = {
    "uniform", "uniform_positive", "normal", "truncated_normal", "xavier_uniform",
    "xavier_normal", "he_uniform", "he_normal", "lecun_normal", "lecun_uniform",
    "zero", NULL};
static const char *const ibias_names[] = {"same", "zero", NULL}; /* = bias_zero */
static const char *const prec_names[] = {"float", "double", NULL};

static const char *name_of(const char *const *names, int v)
{
    for (int i = 0; names[i]; i++)
        if (i == v)
            return names[i];
    return "?";
}

const char *isw_act_name(isw_act_t a) { return name_of(act_names, (int)a); }
const char *isw_out_name(isw_out_t o) { return name_of(out_names, (int)o); }
const char *isw_loss_name(isw_loss_t l) { return name_of(loss_names, (int)l); }
const char *isw_dist_name(isw_dist_t d) { return name_of(dist_names, (int)d); }
const char *isw_data_kind_name(isw_data_kind_t k) { return name_of(kind_names, (int)k); }
const char *isw_generator_name(isw_generator_t g) { return name_of(gen_names, (int)g); }
const char *isw_param_name(isw_param_t p) { return name_of(param_names, (int)p); }
const char *isw_prec_name(isw_prec_t p) { return name_of(prec_names, (int)p); }

/* ---- the key table ------------------------------------------------------ */

typedef enum {
    K_STR, K_BOOL, K_INT, K_LONG, K_U64, K_DBL, K_ENUM,
    K_INTLIST,   /* model.hidden */
    K_DBLLIST,   /* train.lr_layer */
    K_STRLIST,   /* data.target: a scalar or a list */
    K_LRK        /* train.lr_layer.K */
} ktype_t;

typedef enum {
    R_ANY, R_POS, R_NONNEG, R_GE1, R_GT1,
    R_UNIT,      /* (0, 1] */
    R_MOMENTUM,  /* [0, 1) */
    R_FRAC,      /* [0, 1] */
    R_OPEN01     /* (0, 1) */
} krange_t;

enum {
    F_TARGET = 1,     /* one of the three criteria targets: null unsets */
    F_OUTPUT = 2,     /* sets model.output_set; `auto` clears it */
    F_LOSS = 4,       /* sets model.loss_set; `auto` clears it */
    F_DATASEED = 8,   /* sets data.has_seed */
    F_CLASSES = 16    /* clears data.classes_default */
};

typedef struct {
    const char *key;                     /* dotted, e.g. "train.lr" */
    ktype_t type;
    size_t off, size;                    /* field in isw_spec_t; size for strings */
    krange_t range;
    const char *const *names;            /* K_ENUM: names in enum order */
    unsigned flags;
} keydef_t;

#define FLD(m) offsetof(isw_spec_t, m), sizeof(((isw_spec_t *)0)->m)

/* Table order is the order isw_spec_write uses. */
static const keydef_t keys[] = {
    {"name", K_STR, FLD(name), R_ANY, NULL, 0},
    {"seed", K_U64, FLD(seed), R_ANY, NULL, 0},
    {"data.kind", K_ENUM, FLD(data.kind), R_ANY, kind_names, 0},
    {"data.images", K_STR, FLD(data.images), R_ANY, NULL, 0},
    {"data.labels", K_STR, FLD(data.labels), R_ANY, NULL, 0},
    {"data.path", K_STR, FLD(data.path), R_ANY, NULL, 0},
    {"data.header", K_BOOL, FLD(data.header), R_ANY, NULL, 0},
    {"data.target", K_STRLIST, FLD(data.target), R_ANY, NULL, 0},
    {"data.generator", K_ENUM, FLD(data.generator), R_ANY, gen_names, 0},
    {"data.samples", K_LONG, FLD(data.samples), R_GE1, NULL, 0},
    {"data.inputs", K_INT, FLD(data.inputs), R_GE1, NULL, 0},
    {"data.targets", K_INT, FLD(data.targets), R_GE1, NULL, 0},
    {"data.noise", K_DBL, FLD(data.noise), R_NONNEG, NULL, 0},
    {"data.target_scale", K_DBL, FLD(data.target_scale), R_NONNEG, NULL, 0},
    {"data.teacher_hidden", K_INT, FLD(data.teacher_hidden), R_GE1, NULL, 0},
    {"data.classes", K_INT, FLD(data.classes), R_NONNEG, NULL, F_CLASSES},
    {"data.limit", K_LONG, FLD(data.limit), R_NONNEG, NULL, 0},
    {"data.normalize", K_DBL, FLD(data.normalize), R_POS, NULL, 0},
    {"data.seed", K_U64, FLD(data.seed), R_ANY, NULL, F_DATASEED},
    {"model.hidden", K_INTLIST, FLD(model.hidden), R_GE1, NULL, 0},
    {"model.activation", K_ENUM, FLD(model.activation), R_ANY, act_names, 0},
    {"model.output", K_ENUM, FLD(model.output), R_ANY, out_names, F_OUTPUT},
    {"model.loss", K_ENUM, FLD(model.loss), R_ANY, loss_names, F_LOSS},
    {"model.bias", K_BOOL, FLD(model.bias), R_ANY, NULL, 0},
    {"model.parameterization", K_ENUM, FLD(model.parameterization), R_ANY, param_names, 0},
    {"model.leaky_slope", K_DBL, FLD(model.leaky_slope), R_NONNEG, NULL, 0},
    {"init.dist", K_ENUM, FLD(init.dist), R_ANY, dist_names, 0},
    {"init.scale", K_DBL, FLD(init.scale), R_NONNEG, NULL, 0},
    {"init.mean", K_DBL, FLD(init.mean), R_ANY, NULL, 0},
    {"init.bias", K_ENUM, FLD(init.bias_zero), R_ANY, ibias_names, 0},
    {"train.lr", K_DBL, FLD(train.lr), R_POS, NULL, 0},
    {"train.lr_layer", K_DBLLIST, FLD(train.lr_layer), R_NONNEG, NULL, 0},
    {"train.lr_layer.K", K_LRK, FLD(train.lr_layer), R_NONNEG, NULL, 0},
    {"train.momentum", K_DBL, FLD(train.momentum), R_MOMENTUM, NULL, 0},
    {"train.precision", K_ENUM, FLD(train.precision), R_ANY, prec_names, 0},
    {"train.epochs", K_INT, FLD(train.epochs), R_NONNEG, NULL, 0},
    {"train.batch", K_LONG, FLD(train.batch), R_NONNEG, NULL, 0},
    {"train.shuffle", K_BOOL, FLD(train.shuffle), R_ANY, NULL, 0},
    {"train.sharpness", K_BOOL, FLD(train.sharpness), R_ANY, NULL, 0},
    {"train.sharpness_iters", K_INT, FLD(train.sharpness_iters), R_GE1, NULL, 0},
    {"train.eval_samples", K_LONG, FLD(train.eval_samples), R_NONNEG, NULL, 0},
    {"criteria.target_accuracy", K_DBL, FLD(criteria.target_accuracy), R_UNIT, NULL, F_TARGET},
    {"criteria.target_loss", K_DBL, FLD(criteria.target_loss), R_NONNEG, NULL, F_TARGET},
    {"criteria.target_loss_ratio", K_DBL, FLD(criteria.target_loss_ratio), R_POS, NULL, F_TARGET},
    {"criteria.stop_on_target", K_BOOL, FLD(criteria.stop_on_target), R_ANY, NULL, 0},
    {"criteria.patience", K_INT, FLD(criteria.patience), R_GE1, NULL, 0},
    {"criteria.min_improvement", K_DBL, FLD(criteria.min_improvement), R_NONNEG, NULL, 0},
    {"criteria.stop_on_flat", K_BOOL, FLD(criteria.stop_on_flat), R_ANY, NULL, 0},
    {"criteria.diverge_ratio", K_DBL, FLD(criteria.diverge_ratio), R_GT1, NULL, 0},
    {"criteria.diverge_end_ratio", K_DBL, FLD(criteria.diverge_end_ratio), R_GT1, NULL, 0},
    {"criteria.dead_fraction", K_DBL, FLD(criteria.dead_fraction), R_FRAC, NULL, 0},
    {"criteria.saturated_fraction", K_DBL, FLD(criteria.saturated_fraction), R_FRAC, NULL, 0},
    {"criteria.saturation_derivative", K_DBL, FLD(criteria.saturation_derivative), R_POS, NULL, 0},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = {"data", "model", "init", "train", "criteria", NULL};
static const char *const top_keys[] = {"name", "seed", "data", "model", "init", "train",
                                       "criteria", "sweep", "refine", NULL};
static const char *const refine_keys[] = {"axis", "tolerance", "rounds", "enabled", NULL};
static const char *const axis_forms[] = {"linspace", "logspace", "range", NULL};

static const char lrk_prefix[] = "train.lr_layer.";

/* Finds the row of a dotted key.  For train.lr_layer.K, *layer gets K
 * (possibly out of range; the setter reports that); else -1. */
static const keydef_t *key_find(const char *key, int *layer)
{
    *layer = -1;
    size_t np = sizeof lrk_prefix - 1;
    if (strncmp(key, lrk_prefix, np) == 0) {
        const char *p = key + np;
        /* one spelling per layer: lr_layer.00 is not a second lr_layer.0 */
        if (!*p || strlen(p) > 6 || (p[0] == '0' && p[1]))
            return NULL;
        for (const char *q = p; *q; q++)
            if (!isdigit((unsigned char)*q))
                return NULL;
        *layer = atoi(p);
        for (size_t i = 0; i < NKEYS; i++)
            if (keys[i].type == K_LRK)
                return &keys[i];
        return NULL;
    }
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].type != K_LRK && strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

static int is_numeric_key(const keydef_t *d)
{
    return d->type == K_INT || d->type == K_LONG || d->type == K_U64 || d->type == K_DBL ||
           d->type == K_LRK;
}

/* ---- small helpers ------------------------------------------------------ */

/* Copies into a fixed array, zero-filling the rest: specs compare with memcmp. */
static void copy_str(char *dst, size_t size, const char *src)
{
    memset(dst, 0, size);
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
}

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

static void sb_scalar(isw_sb_t *b, const char *s, size_t n)
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
static void sb_node(isw_sb_t *b, yaml_document_t *doc, yaml_node_t *n, int depth)
{
    if (!n || depth > 64 || b->len > FLOW_MAX) {
        isw_sb_puts(b, "...");
        return;
    }
    if (n->type == YAML_SCALAR_NODE) {
        sb_scalar(b, (const char *)n->data.scalar.value, n->data.scalar.length);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        isw_sb_putn(b, "[", 1);
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++) {
            if (it != n->data.sequence.items.start)
                isw_sb_puts(b, ", ");
            sb_node(b, doc, yaml_document_get_node(doc, *it), depth + 1);
        }
        isw_sb_putn(b, "]", 1);
    } else if (n->type == YAML_MAPPING_NODE) {
        isw_sb_putn(b, "{", 1);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             p < n->data.mapping.pairs.top; p++) {
            if (p != n->data.mapping.pairs.start)
                isw_sb_puts(b, ", ");
            sb_node(b, doc, yaml_document_get_node(doc, p->key), depth + 1);
            isw_sb_puts(b, ": ");
            sb_node(b, doc, yaml_document_get_node(doc, p->value), depth + 1);
        }
        isw_sb_putn(b, "}", 1);
    }
}

/* What was found, for messages: "\"abc\"", "a list [1, 2]", "a mapping {a: 1}". */
static void describe_node(char *buf, size_t size, yaml_document_t *doc, yaml_node_t *n)
{
    isw_sb_t b = {0};
    if (n->type == YAML_SCALAR_NODE) {
        isw_sb_putn(&b, "\"", 1);
        isw_sb_putn(&b, (const char *)n->data.scalar.value, n->data.scalar.length);
        isw_sb_putn(&b, "\"", 1);
    } else {
        isw_sb_puts(&b, n->type == YAML_SEQUENCE_NODE ? "a list " : "a mapping ");
        sb_node(&b, doc, n, 0);
    }
    const char *s = b.s ? b.s : "?";
    if (strlen(s) > 100)
        snprintf(buf, size, "%.96s ...", s);
    else
        snprintf(buf, size, "%s", s);
    free(b.s);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int node_count(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n->type == YAML_MAPPING_NODE)
        return (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

static yaml_node_t *seq_item(yaml_document_t *doc, const yaml_node_t *n, int i)
{
    return yaml_document_get_node(doc, n->data.sequence.items.start[i]);
}

/* Levenshtein distance, case-insensitive, for "did you mean" hints. */
static int edit_distance(const char *a, const char *b)
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
static void suggest(char *hint, size_t size, const char *word, const char *const *cands)
{
    int best = 99;
    const char *pick = NULL;
    for (int i = 0; cands[i]; i++) {
        int d = edit_distance(word, cands[i]);
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

static void join_names(char *buf, size_t size, const char *const *names)
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

/* Keys of a section without the section prefix, for messages. */
static int section_keys(const char *section, const char **out, int max)
{
    int n = 0;
    size_t sl = strlen(section);
    for (size_t i = 0; i < NKEYS && n < max - 1; i++)
        if (strncmp(keys[i].key, section, sl) == 0 && keys[i].key[sl] == '.')
            out[n++] = keys[i].key + sl + 1;
    out[n] = NULL;
    return n;
}

/* s is an optional sign ('-' only when allow_minus) and then decimal digits
 * only; returns where the digits start, or NULL. */
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

static int parse_long(const char *s, long *v)
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

static int parse_u64(const char *s, uint64_t *v)
{
    const char *p = integer_digits(s, 0);
    return p && isw_parse_u64(p, v);
}

static int parse_bool(const char *s, int *v)
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

static int is_null(const char *s)
{
    return s && (!*s || !strcmp(s, "~") || !strcasecmp(s, "null"));
}

static int range_ok(krange_t r, double x)
{
    switch (r) {
    case R_ANY: return 1;
    case R_POS: return x > 0;
    case R_NONNEG: return x >= 0;
    case R_GE1: return x >= 1;
    case R_GT1: return x > 1;
    case R_UNIT: return x > 0 && x <= 1;
    case R_MOMENTUM: return x >= 0 && x < 1;
    case R_FRAC: return x >= 0 && x <= 1;
    case R_OPEN01: return x > 0 && x < 1;
    }
    return 0;
}

static const char *range_text(krange_t r, int integer)
{
    if (integer) {
        switch (r) {
        case R_GE1: return "an integer >= 1";
        case R_NONNEG: return "an integer >= 0";
        default: return "an integer";
        }
    }
    switch (r) {
    case R_ANY: return "a number";
    case R_POS: return "a positive number";
    case R_NONNEG: return "a number >= 0";
    case R_GE1: return "a number >= 1";
    case R_GT1: return "a number > 1";
    case R_UNIT: return "a number in (0, 1]";
    case R_MOMENTUM: return "a number in [0, 1)";
    case R_FRAC: return "a number in [0, 1]";
    case R_OPEN01: return "a number in (0, 1)";
    }
    return "a number";
}

/* "expected ..." text of a key. */
static void expect_text(char *buf, size_t size, const keydef_t *d)
{
    switch (d->type) {
    case K_STR:
        snprintf(buf, size, "a string of at most %zu characters", d->size - 1);
        break;
    case K_BOOL:
        snprintf(buf, size, "true or false");
        break;
    case K_INT:
    case K_LONG:
        snprintf(buf, size, "%s", range_text(d->range, 1));
        break;
    case K_U64:
        snprintf(buf, size, "a non-negative integer below 2^64");
        break;
    case K_DBL:
    case K_LRK:
        snprintf(buf, size, "%s%s", range_text(d->range, 0),
                 (d->flags & F_TARGET) ? " (or null to unset)" : "");
        break;
    case K_ENUM: {
        char list[400];
        join_names(list, sizeof list, d->names);
        snprintf(buf, size, "one of %s%s", list,
                 (d->flags & (F_OUTPUT | F_LOSS)) ? " (or auto)" : "");
        break;
    }
    case K_INTLIST:
        snprintf(buf, size, "a list of at most %d integers >= 1, e.g. [32, 32]", ISW_MAX_HIDDEN);
        break;
    case K_DBLLIST:
        snprintf(buf, size, "a list of numbers >= 0, one per weight layer, e.g. [1, 0.5]");
        break;
    case K_STRLIST:
        snprintf(buf, size, "a column name or 0-based index, or a list of at most %d of them",
                 ISW_MAX_TARGETS);
        break;
    }
}

/* Where node lines come from: the file's marks, or one fixed line (values
 * parsed from --set text or from an axis value's text). */
typedef struct {
    const char *file;
    int line;
    int marks;
} where_t;

static int node_line(const where_t *w, const yaml_node_t *n)
{
    return w->marks ? (int)n->start_mark.line + 1 : w->line;
}

/* "KEY: found X, expected Y[hint]" at the node's line. */
static int bad_value(isw_error_t *err, const where_t *w, yaml_document_t *doc, yaml_node_t *n,
                     const char *key, const keydef_t *d, const char *hint)
{
    char found[160], expected[512];
    describe_node(found, sizeof found, doc, n);
    expect_text(expected, sizeof expected, d);
    return isw_error_set(err, ISW_EINVAL, w->file, node_line(w, n), "%s: found %s, expected %s%s",
                         key, found, expected, hint ? hint : "");
}

/* "unknown key" for a dotted key; names the allowed keys of its section. */
static int unknown_key(isw_error_t *err, const char *file, int line, const char *prefix,
                       const char *key)
{
    const char *dot = strchr(key, '.');
    char hint[160] = "", list[700];
    if (dot) {
        for (int s = 0; sections[s]; s++) {
            size_t sl = strlen(sections[s]);
            if ((size_t)(dot - key) != sl || strncmp(key, sections[s], sl) != 0)
                continue;
            const char *names[NKEYS + 1];
            section_keys(sections[s], names, (int)NKEYS + 1);
            suggest(hint, sizeof hint, dot + 1, names);
            join_names(list, sizeof list, names);
            return isw_error_set(err, ISW_EINVAL, file, line,
                                 "%s%s: unknown key%s; allowed keys of %s: %s", prefix, key,
                                 hint, sections[s], list);
        }
    }
    /* Not in a known section: look for a key whose last part matches. */
    const char *full[NKEYS + 1], *last[NKEYS + 1];
    int n = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        full[n] = keys[i].key;
        const char *d = strrchr(keys[i].key, '.');
        last[n] = d ? d + 1 : keys[i].key;
        n++;
    }
    full[n] = last[n] = NULL;
    suggest(hint, sizeof hint, key, full);
    if (!hint[0]) {
        for (int i = 0; i < n; i++)
            if (edit_distance(key, last[i]) <= (strlen(key) <= 3 ? 0 : 1)) {
                snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", full[i]);
                break;
            }
    }
    join_names(list, sizeof list, sections);
    return isw_error_set(err, ISW_EINVAL, file, line,
                         "%s%s: unknown key%s; expected seed, name or SECTION.KEY with SECTION "
                         "one of %s", prefix, key, hint, list);
}

/* Rejects a node that is not a mapping (message: "PREFIX: found X,
 * expected EXPECTED") and a mapping whose keys are not scalars or repeat. */
static int check_mapping(yaml_document_t *doc, yaml_node_t *map, const char *prefix,
                         const char *expected, const char *file, isw_error_t *err)
{
    if (map->type != YAML_MAPPING_NODE) {
        char found[160];
        describe_node(found, sizeof found, doc, map);
        return isw_error_set(err, ISW_EINVAL, file, (int)map->start_mark.line + 1,
                             "%s%sfound %s, expected %s", prefix, prefix[0] ? ": " : "", found,
                             expected);
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (!scalar(k)) {
            char found[160];
            describe_node(found, sizeof found, doc, k);
            return isw_error_set(err, ISW_EINVAL, file, (int)k->start_mark.line + 1,
                                 "%s%sfound %s as a key, expected a name", prefix,
                                 prefix[0] ? ": " : "", found);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(doc, q->key);
            if (strcmp(scalar(k), scalar(k2)) == 0)
                return isw_error_set(err, ISW_EINVAL, file, (int)k->start_mark.line + 1,
                                     "%s%s%s: duplicate %s (first at line %d)", prefix,
                                     prefix[0] ? "." : "", scalar(k),
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
        count = node_count(n);
    else if (d->type != K_STRLIST || n->type != YAML_SCALAR_NODE)
        return bad_value(err, w, doc, n, key, d, NULL);

    int max = d->type == K_INTLIST ? ISW_MAX_HIDDEN
            : d->type == K_DBLLIST ? ISW_MAX_LAYERS : ISW_MAX_TARGETS;
    if (count > max)
        return isw_error_set(err, ISW_EINVAL, w->file, node_line(w, n),
                             "%s: found %d entries, expected at most %d", key, count, max);

    int ivals[ISW_MAX_HIDDEN];
    double dvals[ISW_MAX_LAYERS];
    for (int i = 0; i < count; i++) {
        yaml_node_t *it = n->type == YAML_SEQUENCE_NODE ? seq_item(doc, n, i) : n;
        const char *t = scalar(it);
        long lv = 0;
        double dv = 0;
        int ok = t != NULL;
        if (ok && d->type == K_INTLIST)
            ok = parse_long(t, &lv) && lv >= 1 && lv <= INT_MAX;
        else if (ok && d->type == K_DBLLIST)
            ok = isw_parse_finite(t, &dv) && range_ok(d->range, dv);
        else if (ok)
            ok = *t && strlen(t) < ISW_NAME_MAX;
        if (!ok)
            return bad_value(err, w, doc, it, key, d, NULL);
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
        t->nlr_layer = count > t->lr_layer_keys ? count : t->lr_layer_keys;
    } else {
        memset(s->data.target, 0, sizeof s->data.target);
        for (int i = 0; i < count; i++) {
            yaml_node_t *it = n->type == YAML_SEQUENCE_NODE ? seq_item(doc, n, i) : n;
            copy_str(s->data.target[i], ISW_NAME_MAX, scalar(it));
        }
        s->data.ntargets = count;
    }
    return ISW_OK;
}

/* Sets key (row d; layer for train.lr_layer.K) from node n. */
static int set_node(isw_spec_t *s, const keydef_t *d, int layer, const char *key,
                    yaml_document_t *doc, yaml_node_t *n, const where_t *w, isw_error_t *err)
{
    if (d->type == K_INTLIST || d->type == K_DBLLIST || d->type == K_STRLIST)
        return set_list(s, d, key, doc, n, w, err);
    const char *t = scalar(n);
    if (!t)
        return bad_value(err, w, doc, n, key, d, NULL);

    char *field = (char *)s + d->off;
    long lv;
    double dv;
    uint64_t uv;
    int bv;
    switch (d->type) {
    case K_STR:
        if (strlen(t) >= d->size)
            return bad_value(err, w, doc, n, key, d, NULL);
        copy_str(field, d->size, t);
        break;
    case K_BOOL:
        if (!parse_bool(t, &bv))
            return bad_value(err, w, doc, n, key, d, NULL);
        *(int *)field = bv;
        break;
    case K_INT:
    case K_LONG:
        if (!parse_long(t, &lv) || !range_ok(d->range, (double)lv) ||
            (d->type == K_INT && (lv > INT_MAX || lv < INT_MIN)))
            return bad_value(err, w, doc, n, key, d, NULL);
        if (d->type == K_INT)
            *(int *)field = (int)lv;
        else
            *(long *)field = lv;
        break;
    case K_U64:
        if (!parse_u64(t, &uv))
            return bad_value(err, w, doc, n, key, d, NULL);
        *(uint64_t *)field = uv;
        break;
    case K_DBL:
        if ((d->flags & F_TARGET) && is_null(t)) {
            dv = NAN;
        } else if (!isw_parse_finite(t, &dv) || !range_ok(d->range, dv)) {
            return bad_value(err, w, doc, n, key, d, NULL);
        }
        if (d->flags & F_TARGET) {
            isw_criteria_spec_t *c = &s->criteria;
            if (c->target_default)
                c->target_accuracy = c->target_loss = c->target_loss_ratio = NAN;
            c->target_default = 0;
        }
        *(double *)field = dv;
        break;
    case K_LRK:
        if (layer < 0 || layer >= ISW_MAX_LAYERS)
            return isw_error_set(err, ISW_EINVAL, w->file, node_line(w, n),
                                 "%s: layer index %d out of range, expected 0..%d", key, layer,
                                 ISW_MAX_LAYERS - 1);
        if (!isw_parse_finite(t, &dv) || !range_ok(d->range, dv))
            return bad_value(err, w, doc, n, key, d, NULL);
        s->train.lr_layer[layer] = dv;
        if (layer + 1 > s->train.lr_layer_keys)
            s->train.lr_layer_keys = layer + 1;
        if (layer + 1 > s->train.nlr_layer)
            s->train.nlr_layer = layer + 1;
        break;
    case K_ENUM: {
        if ((d->flags & (F_OUTPUT | F_LOSS)) && strcmp(t, "auto") == 0) {
            if (d->flags & F_OUTPUT)
                s->model.output_set = 0;
            else
                s->model.loss_set = 0;
            break;
        }
        int v = -1;
        for (int i = 0; d->names[i]; i++)
            if (strcmp(d->names[i], t) == 0)
                v = i;
        if (v < 0) {
            char hint[160];
            suggest(hint, sizeof hint, t, d->names);
            return bad_value(err, w, doc, n, key, d, hint);
        }
        *(int *)field = v;
        if (d->flags & F_OUTPUT)
            s->model.output_set = 1;
        if (d->flags & F_LOSS)
            s->model.loss_set = 1;
        break;
    }
    default:
        return bad_value(err, w, doc, n, key, d, NULL);
    }
    if (d->flags & F_DATASEED)
        s->data.has_seed = 1;
    if (d->flags & F_CLASSES)
        s->data.classes_default = 0;
    return ISW_OK;
}

/* Parses YAML flow text into doc.  An empty text gives an empty plain
 * scalar, so "train.lr=" reports `found ""`.  Returns 0 and fills problem
 * on a syntax error. */
/* A node with an explicit tag (`!!float 5`, `!x`): its default tag
 * (str, seq, map) is what every untagged node gets.  Tags would change
 * what a value means, and initsweep reads every value by its key's type,
 * so a tag is refused rather than silently ignored.  Returns the first
 * tagged node, or NULL. */
static yaml_node_t *tagged_node(yaml_document_t *doc)
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

static int flow_depth(const char *text, int *line);
#define SPEC_MAX_DEPTH 64

static int parse_text(yaml_document_t *doc, const char *text, char *problem, size_t size)
{
    int deep;
    if (flow_depth(text, &deep) > SPEC_MAX_DEPTH) {
        snprintf(problem, size, "nested more than %d deep", SPEC_MAX_DEPTH);
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
        yaml_node_t *t = ok ? tagged_node(doc) : NULL;
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

/* Sets a key from YAML flow text; messages at w's file and line. */
static int set_text(isw_spec_t *s, const keydef_t *d, int layer, const char *key,
                    const char *text, const where_t *w, isw_error_t *err)
{
    yaml_document_t doc;
    char problem[256];
    if (!parse_text(&doc, text, problem, sizeof problem))
        return isw_error_set(err, ISW_EINVAL, w->file, w->line,
                             "%s: found \"%s\", which is not valid YAML (%s)", key, text, problem);
    where_t fixed = {w->file, w->line, 0};
    int st = set_node(s, d, layer, key, &doc, yaml_document_get_root_node(&doc), &fixed, err);
    yaml_document_delete(&doc);
    return st;
}

/* ---- defaults ----------------------------------------------------------- */

void isw_spec_defaults(isw_spec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    copy_str(spec->name, sizeof spec->name, "spec");

    isw_data_spec_t *d = &spec->data;
    d->kind = ISW_DATA_SYNTHETIC;
    d->header = 1;
    d->generator = ISW_GEN_XOR;
    d->samples = 1000;
    d->inputs = 2;
    d->targets = 1;
    d->noise = 0.1;
    d->target_scale = 1.0;
    d->teacher_hidden = 16;
    d->normalize = 1.0;

    isw_model_spec_t *m = &spec->model;
    m->nhidden = 1;
    m->hidden[0] = 32;
    m->activation = ISW_ACT_RELU;
    m->output = ISW_OUT_SOFTMAX;
    m->loss = ISW_LOSS_CROSS_ENTROPY;
    m->bias = 1;
    m->parameterization = ISW_PARAM_STANDARD;
    m->leaky_slope = 0.01;

    spec->init.dist = ISW_DIST_HE_NORMAL;
    spec->init.scale = 1.0;
    spec->init.bias_zero = 1;

    isw_train_spec_t *t = &spec->train;
    t->lr = 0.1;
    for (int l = 0; l < ISW_MAX_LAYERS; l++)
        t->lr_layer[l] = 1.0;
    t->precision = ISW_PREC_FLOAT;
    t->epochs = 30;
    t->batch = 32;
    t->shuffle = 1;
    t->sharpness_iters = 20;

    isw_criteria_spec_t *c = &spec->criteria;
    c->target_accuracy = c->target_loss = c->target_loss_ratio = NAN;
    c->stop_on_target = 1;
    c->patience = 5;
    c->min_improvement = 1e-3;
    c->stop_on_flat = 1;
    c->diverge_ratio = 1e10;
    c->diverge_end_ratio = 10;
    c->dead_fraction = 0.5;
    c->saturated_fraction = 0.5;
    c->saturation_derivative = 1e-3;
}

void isw_sweep_init(isw_sweep_t *sweep)
{
    memset(sweep, 0, sizeof *sweep);
    copy_str(sweep->refine.axis, sizeof sweep->refine.axis, "train.lr");
    sweep->refine.tolerance = 0.01;
    sweep->refine.rounds = 10;
}

void isw_sweep_free(isw_sweep_t *sweep)
{
    if (!sweep)
        return;
    for (int a = 0; a < sweep->naxes && a < ISW_MAX_AXES; a++) {
        isw_axis_t *ax = &sweep->axes[a];
        if (ax->values) {
            for (size_t i = 0; i < ax->n; i++)
                free(ax->values[i]);
            free(ax->values);
        }
        ax->values = NULL;
    }
    sweep->naxes = 0;
}

int isw_sweep_find(const isw_sweep_t *sweep, const char *key)
{
    for (int a = 0; sweep && a < sweep->naxes; a++)
        if (strcmp(sweep->axes[a].key, key) == 0)
            return a;
    return -1;
}

int isw_spec_layers(const isw_spec_t *spec) { return spec->model.nhidden + 1; }

/* ---- sweep axes --------------------------------------------------------- */

static void axis_clear(isw_axis_t *ax)
{
    if (ax->values) {
        for (size_t i = 0; i < ax->n; i++)
            free(ax->values[i]);
        free(ax->values);
    }
    memset(ax, 0, sizeof *ax);
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
        /* start + i*step lies between start and stop, so it fits; computed
         * in unsigned arithmetic, where the intermediate product may wrap. */
        unsigned long long v = (unsigned long long)axis->start +
                               (unsigned long long)i * (unsigned long long)axis->step;
        long long sv = v <= (unsigned long long)LLONG_MAX ? (long long)v
                                                          : -(long long)(~v) - 1;
        snprintf(buf->num, sizeof buf->num, "%lld", sv);
        break;
    }
    }
    return buf->num;
}

static void value_text(isw_sb_t *b, const isw_spec_t *s, const keydef_t *d, int layer, int yaml);

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
            isw_axis_buf_t p, q;
            const char *tp = isw_axis_text(ax, i - 1, &p), *tq = isw_axis_text(ax, i, &q);
            if (strtod(tp, NULL) == strtod(tq, NULL))
                return duplicate_value(err, ax, w, line, i - 1, i, tq);
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
        if ((st = set_text(tmp, d, layer, ax->key, ax->values[i], &wi, err)) != ISW_OK)
            break;
        isw_sb_puts(&b, "");
        value_text(&b, tmp, d, layer, 0);
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

/* Parses the node of sweep axis `key` into ax and checks every value by
 * setting it on a copy of spec.  keyline: line of the axis key. */
static int axis_parse(isw_axis_t *ax, const isw_spec_t *spec, const char *key,
                      yaml_document_t *doc, yaml_node_t *n, const where_t *w, int keyline,
                      isw_error_t *err)
{
    memset(ax, 0, sizeof *ax);
    int layer;
    const keydef_t *d = strlen(key) < ISW_NAME_MAX ? key_find(key, &layer) : NULL;
    if (!d)
        return unknown_key(err, w->file, keyline, "sweep.", key);
    if (d->type == K_LRK) {
        if (layer >= ISW_MAX_LAYERS)
            return isw_error_set(err, ISW_EINVAL, w->file, keyline,
                                 "sweep.%s: layer index %d out of range, expected 0..%d", key,
                                 layer, ISW_MAX_LAYERS - 1);
        snprintf(ax->key, sizeof ax->key, "%s%d", lrk_prefix, layer);
    } else {
        copy_str(ax->key, sizeof ax->key, key);
    }
    ax->line = keyline;
    int line = node_line(w, n);
    static const char forms_text[] =
        "a list of values or one of {linspace: [a, b, n]}, {logspace: [a, b, n]}, "
        "{range: [start, stop]}, {range: [start, stop, step]}";

    isw_spec_t *tmp = malloc(sizeof *tmp);
    if (!tmp)
        return isw_error_set(err, ISW_ENOMEM, w->file, line, "out of memory");
    *tmp = *spec;
    int st = ISW_OK;
    isw_axis_buf_t num;

    if (n->type == YAML_SEQUENCE_NODE) {
        ax->form = ISW_AXIS_LIST;
        int count = node_count(n);
        if (count == 0) {
            st = isw_error_set(err, ISW_EINVAL, w->file, line,
                               "sweep.%s: empty list, expected at least one value", ax->key);
            goto out;
        }
        ax->values = calloc((size_t)count, sizeof *ax->values);
        if (!ax->values) {
            st = isw_error_set(err, ISW_ENOMEM, w->file, line, "out of memory");
            goto out;
        }
        for (int i = 0; i < count; i++) {
            yaml_node_t *it = seq_item(doc, n, i);
            isw_sb_t b = {0};
            sb_node(&b, doc, it, 0);
            if (b.oom || !b.s) {
                free(b.s);
                st = isw_error_set(err, ISW_ENOMEM, w->file, line, "out of memory");
                goto out;
            }
            ax->values[i] = b.s;
            ax->n = (size_t)i + 1;
            where_t wi = {w->file, node_line(w, it), 0};
            if ((st = set_text(tmp, d, layer, ax->key, b.s, &wi, err)))
                goto prefixed;
        }
    } else if (n->type == YAML_MAPPING_NODE) {
        yaml_node_pair_t *p = n->data.mapping.pairs.start;
        const char *form = node_count(n) == 1 ? scalar(yaml_document_get_node(doc, p->key)) : NULL;
        if (!form) {
            char found[160];
            describe_node(found, sizeof found, doc, n);
            st = isw_error_set(err, ISW_EINVAL, w->file, line, "sweep.%s: found %s, expected %s",
                               ax->key, found, forms_text);
            goto out;
        }
        if (strcmp(form, "linspace") && strcmp(form, "logspace") && strcmp(form, "range")) {
            char hint[160];
            suggest(hint, sizeof hint, form, axis_forms);
            st = isw_error_set(err, ISW_EINVAL, w->file, line,
                               "sweep.%s: unknown axis form \"%s\"%s, expected %s", ax->key,
                               form, hint, forms_text);
            goto out;
        }
        yaml_node_t *args = yaml_document_get_node(doc, p->value);
        int vline = node_line(w, args);
        int nargs = args->type == YAML_SEQUENCE_NODE ? node_count(args) : -1;
        const char *arg[3] = {NULL, NULL, NULL};
        for (int i = 0; i < nargs && i < 3; i++)
            arg[i] = scalar(seq_item(doc, args, i));
        if (strcmp(form, "range") == 0) {
            long a, b, step = 1;
            if ((nargs != 2 && nargs != 3) || !parse_long(arg[0], &a) ||
                !parse_long(arg[1], &b) || (nargs == 3 && !parse_long(arg[2], &step))) {
                char found[160];
                describe_node(found, sizeof found, doc, args);
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: range: found %s, expected integers [start, stop] or "
                                   "[start, stop, step] (stop excluded)", ax->key, found);
                goto out;
            }
            if (!is_numeric_key(d)) {
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: range needs a numeric key; use a list of values",
                                   ax->key);
                goto out;
            }
            if (step == 0) {
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: range step is 0, expected a nonzero integer",
                                   ax->key);
                goto out;
            }
            /* Count in unsigned arithmetic: stop - start may overflow long. */
            unsigned long span = step > 0 ? (unsigned long)b - (unsigned long)a
                                          : (unsigned long)a - (unsigned long)b;
            unsigned long ustep = step > 0 ? (unsigned long)step : 0UL - (unsigned long)step;
            int empty = step > 0 ? b <= a : b >= a;
            if (empty) {
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: range [%ld, %ld, %ld] is empty (stop is excluded)",
                                   ax->key, a, b, step);
                goto out;
            }
            unsigned long count = span / ustep + (span % ustep != 0);
            if (count > AXIS_MAX_VALUES) {
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: range has %lu values, at most %d allowed", ax->key,
                                   count, AXIS_MAX_VALUES);
                goto out;
            }
            ax->form = ISW_AXIS_RANGE;
            ax->start = a;
            ax->stop = b;
            ax->step = step;
            ax->n = (size_t)count;
        } else {
            int logf = strcmp(form, "logspace") == 0;
            double a, b;
            long cnt;
            if (nargs != 3 || !isw_parse_finite(arg[0], &a) || !isw_parse_finite(arg[1], &b) ||
                !parse_long(arg[2], &cnt)) {
                char found[160];
                describe_node(found, sizeof found, doc, args);
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: %s: found %s, expected [a, b, n] with end values a, "
                                   "b and an integer count n", ax->key, form, found);
                goto out;
            }
            if (!is_numeric_key(d)) {
                char expected[512];
                expect_text(expected, sizeof expected, d);
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: %s needs a numeric key, but %s takes %s; use a list "
                                   "of values", ax->key, form, ax->key, expected);
                goto out;
            }
            if (cnt < 1 || cnt > AXIS_MAX_VALUES) {
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: %s: found n = %ld, expected 1 <= n <= %d", ax->key,
                                   form, cnt, AXIS_MAX_VALUES);
                goto out;
            }
            if (logf && !(a > 0 && b > 0)) {
                st = isw_error_set(err, ISW_EINVAL, w->file, vline,
                                   "sweep.%s: logspace: found a = %s, b = %s, expected end values "
                                   "> 0 (a and b are values, not exponents)", ax->key, arg[0],
                                   arg[1]);
                goto out;
            }
            ax->form = logf ? ISW_AXIS_LOGSPACE : ISW_AXIS_LINSPACE;
            ax->a = a;
            ax->b = b;
            ax->n = (size_t)cnt;
        }
        for (size_t i = 0; i < ax->n; i++) {
            const char *text = isw_axis_text(ax, i, &num);
            where_t wi = {w->file, vline, 0};
            if ((st = set_text(tmp, d, layer, ax->key, text, &wi, err)))
                goto prefixed;
        }
    } else {
        char found[160];
        describe_node(found, sizeof found, doc, n);
        st = isw_error_set(err, ISW_EINVAL, w->file, line,
                           "sweep.%s: found %s, expected %s (a single value is written [%s])",
                           ax->key, found, forms_text, scalar(n));
        goto out;
    }

    ax->numeric = 1;
    for (size_t i = 0; i < ax->n; i++) {
        double v;
        if (!isw_parse_finite(isw_axis_text(ax, i, &num), &v))
            ax->numeric = 0;
    }
    st = axis_distinct(ax, d, layer, spec, w, line, err);
    goto out;

prefixed:
    /* The value's own message starts with its key: say it is an axis value. */
    if (err) {
        char inner[sizeof err->text];
        memcpy(inner, err->text, sizeof inner);
        snprintf(err->text, sizeof err->text, "sweep.%.1000s", inner);
    }
out:
    free(tmp);
    if (st)
        axis_clear(ax);
    return st;
}

/* Adds (or, when replace, replaces) an axis parsed from node. */
static int sweep_add(isw_sweep_t *sw, const isw_spec_t *spec, const char *key,
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

static int refine_set(isw_refine_spec_t *r, const char *key, yaml_document_t *doc,
                      yaml_node_t *n, const where_t *w, int keyline, isw_error_t *err)
{
    const char *t = scalar(n);
    char found[160];
    describe_node(found, sizeof found, doc, n);
    int line = node_line(w, n);
    if (strcmp(key, "axis") == 0) {
        if (!t || strlen(t) >= sizeof r->axis)
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "refine.axis: found %s, expected train.lr", found);
        copy_str(r->axis, sizeof r->axis, t);
    } else if (strcmp(key, "tolerance") == 0) {
        double v;
        if (!isw_parse_finite(t, &v) || !range_ok(R_OPEN01, v))
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "refine.tolerance: found %s, expected a number in (0, 1) "
                                 "(relative bracket width)", found);
        r->tolerance = v;
    } else if (strcmp(key, "rounds") == 0) {
        long v;
        if (!parse_long(t, &v) || v < 1 || v > INT_MAX)
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "refine.rounds: found %s, expected an integer >= 1", found);
        r->rounds = (int)v;
    } else if (strcmp(key, "enabled") == 0) {
        int v;
        if (!parse_bool(t, &v))
            return isw_error_set(err, ISW_EINVAL, w->file, line,
                                 "refine.enabled: found %s, expected true or false", found);
        r->enabled = v;
    } else {
        char hint[160], list[200];
        suggest(hint, sizeof hint, key, refine_keys);
        join_names(list, sizeof list, refine_keys);
        return isw_error_set(err, ISW_EINVAL, w->file, keyline,
                             "refine.%s: unknown key%s; allowed keys of refine: %s", key, hint,
                             list);
    }
    return ISW_OK;
}

static int refine_check(const isw_sweep_t *sw, const char *file, int line, isw_error_t *err)
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

/* ---- validation --------------------------------------------------------- */

/* Lines of the keys a file set, so validation messages can point at them. */
typedef struct {
    struct {
        char key[64];
        int line;
    } e[200];
    int n;
} keylines_t;

static void keylines_add(keylines_t *kl, const char *key, int line)
{
    if (!kl || kl->n >= (int)(sizeof kl->e / sizeof kl->e[0]) || strlen(key) >= 64)
        return;
    copy_str(kl->e[kl->n].key, sizeof kl->e[kl->n].key, key);
    kl->e[kl->n].line = line;
    kl->n++;
}

/* Line of key, else of its section; 0 when unknown. */
static int kline(const keylines_t *kl, const char *key)
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

typedef struct {
    const char *file;
    const keylines_t *kl;
    isw_error_t *err;
} vctx_t;

static int verr(const vctx_t *v, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int verr(const vctx_t *v, const char *key, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return isw_error_set(v->err, ISW_EINVAL, v->file, kline(v->kl, key), "%s: %s", key, msg);
}

int isw_spec_is_classification(const isw_spec_t *spec)
{
    const isw_data_spec_t *d = &spec->data;
    switch (d->kind) {
    case ISW_DATA_IDX:
        return 1;
    case ISW_DATA_CSV:
        return d->classes > 0;
    case ISW_DATA_SYNTHETIC:
        switch (d->generator) {
        case ISW_GEN_XOR:
        case ISW_GEN_SPIRALS:
        case ISW_GEN_BLOBS:
            return 1;
        case ISW_GEN_TEACHER:
            return d->classes > 0;
        case ISW_GEN_LINEAR:
        case ISW_GEN_GAUSSIAN:
            return 0;
        }
    }
    return 0;
}

/* "regression data (generator linear)" and the like, for messages. */
static void describe_data(char *buf, size_t size, const isw_spec_t *s)
{
    const isw_data_spec_t *d = &s->data;
    const char *task = isw_spec_is_classification(s) ? "classification" : "regression";
    if (d->kind == ISW_DATA_SYNTHETIC)
        snprintf(buf, size, "%s data (generator %s)", task, isw_generator_name(d->generator));
    else if (d->kind == ISW_DATA_CSV && !d->classes)
        snprintf(buf, size, "regression data (csv without data.classes)");
    else
        snprintf(buf, size, "%s data (kind %s)", task, isw_data_kind_name(d->kind));
}

static int enum_ok(int v, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (i == v)
            return 1;
    return 0;
}

static int validate_data(isw_spec_t *s, const vctx_t *v)
{
    isw_data_spec_t *d = &s->data;
    if (d->classes_default) {
        d->classes = 0;
        d->classes_default = 0;
    }
    if (!enum_ok((int)d->kind, kind_names))
        return verr(v, "data.kind", "found %d, expected one of idx, csv, synthetic", (int)d->kind);
    if (d->classes < 0 || d->classes == 1)
        return verr(v, "data.classes", "found %d, expected 0 (regression) or at least 2 classes",
                    d->classes);
    if (!(d->normalize > 0 && isfinite(d->normalize)))
        return verr(v, "data.normalize", "found %g, expected a positive number", d->normalize);
    if (d->limit < 0)
        return verr(v, "data.limit", "found %ld, expected an integer >= 0 (0 = all)", d->limit);
    if (d->ntargets < 0 || d->ntargets > ISW_MAX_TARGETS)
        return verr(v, "data.target", "found %d targets, expected at most %d", d->ntargets,
                    ISW_MAX_TARGETS);

    switch (d->kind) {
    case ISW_DATA_IDX:
        if (!d->images[0] || !d->labels[0])
            return verr(v, d->images[0] ? "data.labels" : "data.images",
                        "kind idx needs both data.images and data.labels");
        if (d->classes == 0) {
            d->classes = 10;
            d->classes_default = 1;
        }
        return ISW_OK;
    case ISW_DATA_CSV:
        if (!d->path[0])
            return verr(v, "data.path", "kind csv needs data.path");
        if (d->ntargets < 1)
            return verr(v, "data.target",
                        "kind csv needs at least one target column (name or 0-based index)");
        if (d->classes >= 2 && d->ntargets != 1)
            return verr(v, "data.target",
                        "found %d target columns, expected exactly one (the integer label) with "
                        "data.classes", d->ntargets);
        return ISW_OK;
    case ISW_DATA_SYNTHETIC:
        break;
    }

    if (!enum_ok((int)d->generator, gen_names))
        return verr(v, "data.generator", "found %d, expected a generator", (int)d->generator);
    const char *g = isw_generator_name(d->generator);
    if (d->samples < 1)
        return verr(v, "data.samples", "found %ld, expected an integer >= 1", d->samples);
    if (!(d->noise >= 0 && isfinite(d->noise)))
        return verr(v, "data.noise", "found %g, expected a number >= 0", d->noise);
    if (d->inputs < 1)
        return verr(v, "data.inputs", "found %d, expected an integer >= 1", d->inputs);
    if (d->targets < 1)
        return verr(v, "data.targets", "found %d, expected an integer >= 1", d->targets);
    if (d->teacher_hidden < 1)
        return verr(v, "data.teacher_hidden", "found %d, expected an integer >= 1",
                    d->teacher_hidden);
    switch (d->generator) {
    case ISW_GEN_XOR:
    case ISW_GEN_SPIRALS:
        if (d->inputs != 2)
            return verr(v, "data.inputs", "found %d, but generator %s is 2-D (expected 2)",
                        d->inputs, g);
        if (d->generator == ISW_GEN_XOR && d->classes != 0 && d->classes != 2)
            return verr(v, "data.classes", "found %d, but generator xor has 2 classes",
                        d->classes);
        /* fall through */
    case ISW_GEN_BLOBS:
        if (d->classes == 0) {
            d->classes = d->generator == ISW_GEN_XOR ? 2 : 3;
            d->classes_default = 1;
        }
        break;
    case ISW_GEN_TEACHER:
        break;
    case ISW_GEN_LINEAR:
    case ISW_GEN_GAUSSIAN:
        if (d->classes != 0)
            return verr(v, "data.classes",
                        "found %d, but generator %s makes regression data (expected 0 or none)",
                        d->classes, g);
        break;
    }
    return ISW_OK;
}

static int validate_model(isw_spec_t *s, const vctx_t *v)
{
    isw_model_spec_t *m = &s->model;
    if (m->nhidden < 0 || m->nhidden > ISW_MAX_HIDDEN)
        return verr(v, "model.hidden", "found %d layers, expected at most %d", m->nhidden,
                    ISW_MAX_HIDDEN);
    for (int l = 0; l < m->nhidden; l++)
        if (m->hidden[l] < 1 || m->hidden[l] > ISW_MAX_WIDTH)
            return verr(v, "model.hidden", "found width %d in layer %d, expected widths 1..%d",
                        m->hidden[l], l, ISW_MAX_WIDTH);
    if (!enum_ok((int)m->activation, act_names))
        return verr(v, "model.activation", "found %d, expected an activation", (int)m->activation);
    if (!enum_ok((int)m->parameterization, param_names))
        return verr(v, "model.parameterization", "found %d, expected standard or mean_field",
                    (int)m->parameterization);
    if (!(m->leaky_slope >= 0 && isfinite(m->leaky_slope)))
        return verr(v, "model.leaky_slope", "found %g, expected a number >= 0", m->leaky_slope);

    int cls = isw_spec_is_classification(s);
    if (!m->output_set)
        m->output = cls ? ISW_OUT_SOFTMAX : ISW_OUT_LINEAR;
    if (!m->loss_set)
        m->loss = cls ? ISW_LOSS_CROSS_ENTROPY : ISW_LOSS_MSE;
    if (!enum_ok((int)m->output, out_names))
        return verr(v, "model.output", "found %d, expected an output", (int)m->output);
    if (!enum_ok((int)m->loss, loss_names))
        return verr(v, "model.loss", "found %d, expected a loss", (int)m->loss);

    char what[160];
    describe_data(what, sizeof what, s);
    if (m->output == ISW_OUT_SOFTMAX && !(cls && s->data.classes >= 2))
        return verr(v, "model.output",
                    "softmax needs classification data with at least 2 classes, but the spec "
                    "has %s; use sigmoid or linear", what);
    if (m->loss == ISW_LOSS_CROSS_ENTROPY && m->output == ISW_OUT_LINEAR)
        return verr(v, "model.loss",
                    "cross_entropy needs a softmax or sigmoid output, found model.output linear%s",
                    m->output_set ? "" : " (the default for regression)");
    return ISW_OK;
}

static int validate_train(isw_spec_t *s, const vctx_t *v)
{
    const isw_init_spec_t *in = &s->init;
    if (!enum_ok((int)in->dist, dist_names))
        return verr(v, "init.dist", "found %d, expected a distribution", (int)in->dist);
    if (!(in->scale >= 0 && isfinite(in->scale)))
        return verr(v, "init.scale", "found %g, expected a number >= 0", in->scale);
    if (!isfinite(in->mean))
        return verr(v, "init.mean", "found %g, expected a finite number", in->mean);
    if (in->bias_zero != 0 && in->bias_zero != 1)
        return verr(v, "init.bias", "found %d, expected same or zero", in->bias_zero);

    isw_train_spec_t *t = &s->train;
    int layers = isw_spec_layers(s);
    if (!(t->lr > 0 && isfinite(t->lr)))
        return verr(v, "train.lr", "found %g, expected a positive number", t->lr);
    if (t->lr_layer_list < 0 || t->lr_layer_list > ISW_MAX_LAYERS || t->lr_layer_keys < 0 ||
        t->lr_layer_keys > ISW_MAX_LAYERS)
        return verr(v, "train.lr_layer", "inconsistent multiplier counts %d, %d",
                    t->lr_layer_list, t->lr_layer_keys);
    if (t->lr_layer_list > 0 && t->lr_layer_list != layers)
        return verr(v, "train.lr_layer",
                    "found %d multipliers, expected %d (one per weight layer: model.hidden has "
                    "%d hidden layers)", t->lr_layer_list, layers, s->model.nhidden);
    if (t->lr_layer_keys > layers) {
        char key[64];
        snprintf(key, sizeof key, "%s%d", lrk_prefix, t->lr_layer_keys - 1);
        return verr(v, key, "layer %d does not exist: the model has %d weight layers (0..%d)",
                    t->lr_layer_keys - 1, layers, layers - 1);
    }
    for (int l = 0; l < ISW_MAX_LAYERS; l++)
        if (!(t->lr_layer[l] >= 0 && isfinite(t->lr_layer[l])))
            return verr(v, "train.lr_layer", "found %g for layer %d, expected a number >= 0",
                        t->lr_layer[l], l);
    t->nlr_layer = t->lr_layer_list > t->lr_layer_keys ? t->lr_layer_list : t->lr_layer_keys;
    if (!(t->momentum >= 0 && t->momentum < 1))
        return verr(v, "train.momentum", "found %g, expected a number in [0, 1)", t->momentum);
    if (!enum_ok((int)t->precision, prec_names))
        return verr(v, "train.precision", "found %d, expected float or double", (int)t->precision);
    if (t->epochs < 0 || t->epochs > ISW_MAX_EPOCHS)
        return verr(v, "train.epochs", "found %d, expected an integer 0..%d", t->epochs,
                    ISW_MAX_EPOCHS);
    if (t->batch < 0)
        return verr(v, "train.batch", "found %ld, expected an integer >= 0 (0 = full batch)",
                    t->batch);
    if (t->sharpness_iters < 1)
        return verr(v, "train.sharpness_iters", "found %d, expected an integer >= 1",
                    t->sharpness_iters);
    if (t->eval_samples < 0)
        return verr(v, "train.eval_samples", "found %ld, expected an integer >= 0 (0 = all)",
                    t->eval_samples);
    return ISW_OK;
}

static int validate_criteria(isw_spec_t *s, const vctx_t *v)
{
    isw_criteria_spec_t *c = &s->criteria;
    if (c->target_default) {
        c->target_accuracy = c->target_loss = c->target_loss_ratio = NAN;
        c->target_default = 0;
    }
    const char *given[3];
    int n = 0;
    if (!isnan(c->target_accuracy))
        given[n++] = "criteria.target_accuracy";
    if (!isnan(c->target_loss))
        given[n++] = "criteria.target_loss";
    if (!isnan(c->target_loss_ratio))
        given[n++] = "criteria.target_loss_ratio";
    if (n > 1) {
        int l0 = kline(v->kl, given[0]);
        char first[80] = "";
        if (l0 > 0)
            snprintf(first, sizeof first, " (line %d)", l0);
        return verr(v, given[1], "at most one target may be given, found %s%s and %s", given[0],
                    first, given[1]);
    }
    int cls = isw_spec_is_classification(s);
    if (!isnan(c->target_accuracy)) {
        if (!cls) {
            char what[160];
            describe_data(what, sizeof what, s);
            return verr(v, "criteria.target_accuracy",
                        "needs classification data, but the spec has %s; use target_loss or "
                        "target_loss_ratio", what);
        }
        if (!range_ok(R_UNIT, c->target_accuracy))
            return verr(v, "criteria.target_accuracy", "found %g, expected a number in (0, 1]",
                        c->target_accuracy);
    }
    if (!isnan(c->target_loss) && !(c->target_loss >= 0 && isfinite(c->target_loss)))
        return verr(v, "criteria.target_loss", "found %g, expected a number >= 0", c->target_loss);
    if (!isnan(c->target_loss_ratio) &&
        !(c->target_loss_ratio > 0 && isfinite(c->target_loss_ratio)))
        return verr(v, "criteria.target_loss_ratio", "found %g, expected a positive number",
                    c->target_loss_ratio);
    if (n == 0) {
        if (cls)
            c->target_accuracy = 0.9;
        else
            c->target_loss_ratio = 0.01;
        c->target_default = 1;
    }
    if (c->patience < 1)
        return verr(v, "criteria.patience", "found %d, expected an integer >= 1", c->patience);
    if (!(c->min_improvement >= 0 && isfinite(c->min_improvement)))
        return verr(v, "criteria.min_improvement", "found %g, expected a number >= 0",
                    c->min_improvement);
    if (!(c->diverge_ratio > 1 && isfinite(c->diverge_ratio)))
        return verr(v, "criteria.diverge_ratio", "found %g, expected a number > 1",
                    c->diverge_ratio);
    if (!(c->diverge_end_ratio > 1 && isfinite(c->diverge_end_ratio)))
        return verr(v, "criteria.diverge_end_ratio", "found %g, expected a number > 1",
                    c->diverge_end_ratio);
    if (!range_ok(R_FRAC, c->dead_fraction))
        return verr(v, "criteria.dead_fraction", "found %g, expected a number in [0, 1]",
                    c->dead_fraction);
    if (!range_ok(R_FRAC, c->saturated_fraction))
        return verr(v, "criteria.saturated_fraction", "found %g, expected a number in [0, 1]",
                    c->saturated_fraction);
    if (!(c->saturation_derivative > 0 && isfinite(c->saturation_derivative)))
        return verr(v, "criteria.saturation_derivative", "found %g, expected a positive number",
                    c->saturation_derivative);
    return ISW_OK;
}

static int validate_impl(isw_spec_t *s, const char *file, const keylines_t *kl, isw_error_t *err)
{
    vctx_t v = {file ? file : "", kl, err};
    if (!s->name[0] || strchr(s->name, '/') || !strcmp(s->name, ".") || !strcmp(s->name, ".."))
        return verr(&v, "name", "found \"%s\", expected a non-empty name without '/' (it names "
                    "the results directory)", s->name);
    int st;
    if ((st = validate_data(s, &v)) || (st = validate_model(s, &v)) ||
        (st = validate_train(s, &v)) || (st = validate_criteria(s, &v)))
        return st;
    return ISW_OK;
}

int isw_spec_validate(isw_spec_t *spec, const char *file, isw_error_t *err)
{
    return validate_impl(spec, file, NULL, err);
}

/* ---- loading ------------------------------------------------------------ */

static int load_section(isw_spec_t *s, const char *section, yaml_document_t *doc,
                        yaml_node_t *map, const char *file, keylines_t *kl, isw_error_t *err)
{
    const char *names[NKEYS + 1];
    char list[700], expected[760];
    section_keys(section, names, (int)NKEYS + 1);
    join_names(list, sizeof list, names);
    snprintf(expected, sizeof expected, "a mapping with keys %s", list);
    int st = check_mapping(doc, map, section, expected, file, err);
    if (st)
        return st;
    where_t w = {file, 0, 1};
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        int line = (int)k->start_mark.line + 1;
        char key[256];
        snprintf(key, sizeof key, "%s.%s", section, scalar(k));
        int layer;
        const keydef_t *d = key_find(key, &layer);
        if (!d)
            return unknown_key(err, file, line, "", key);
        if ((st = set_node(s, d, layer, key, doc, yaml_document_get_node(doc, p->value), &w, err)))
            return st;
        keylines_add(kl, key, line);
    }
    return ISW_OK;
}

static int load_refine(isw_sweep_t *sw, yaml_document_t *doc, yaml_node_t *map, const char *file,
                       keylines_t *kl, isw_error_t *err)
{
    int st = check_mapping(doc, map, "refine", "a mapping with keys axis, tolerance, rounds",
                           file, err);
    if (st)
        return st;
    sw->refine.enabled = 1;
    where_t w = {file, 0, 1};
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        int line = (int)k->start_mark.line + 1;
        if ((st = refine_set(&sw->refine, scalar(k), doc, yaml_document_get_node(doc, p->value),
                             &w, line, err)))
            return st;
        char key[128];
        snprintf(key, sizeof key, "refine.%s", scalar(k));
        keylines_add(kl, key, line);
    }
    return ISW_OK;
}

static int load_sweep(isw_sweep_t *sw, const isw_spec_t *spec, yaml_document_t *doc,
                      yaml_node_t *map, const char *file, isw_error_t *err)
{
    int st = check_mapping(doc, map, "sweep",
                           "a mapping of axes, e.g. train.lr: {logspace: [1e-4, 1, 9]}", file,
                           err);
    if (st)
        return st;
    where_t w = {file, 0, 1};
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if ((st = sweep_add(sw, spec, scalar(k), doc, yaml_document_get_node(doc, p->value), &w,
                            (int)k->start_mark.line + 1, 0, err)))
            return st;
    }
    return ISW_OK;
}

static int load_root(isw_spec_t *s, isw_sweep_t *sw, yaml_document_t *doc, const char *file,
                     keylines_t *kl, isw_error_t *err)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    char list[300], hint[160], found[160];
    join_names(list, sizeof list, top_keys);
    if (!root)
        return isw_error_set(err, ISW_EINVAL, file, 0,
                             "the spec is empty, expected a mapping with keys %s", list);
    char expected[sizeof list + 32];
    snprintf(expected, sizeof expected, "a mapping with keys %s", list);
    int st = check_mapping(doc, root, "", expected, file, err);
    if (st)
        return st;

    yaml_node_t *sweep_node = NULL, *refine_node = NULL;
    int have_run_seed = 0;
    uint64_t run_seed = 0;
    where_t w = {file, 0, 1};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *val = yaml_document_get_node(doc, p->value);
        const char *key = scalar(k);
        int line = (int)k->start_mark.line + 1;
        int layer, sect = 0;
        for (int i = 0; sections[i]; i++)
            if (strcmp(key, sections[i]) == 0)
                sect = 1;
        keylines_add(kl, key, line);
        if (sect) {
            st = load_section(s, key, doc, val, file, kl, err);
        } else if (strcmp(key, "name") == 0 || strcmp(key, "seed") == 0) {
            st = set_node(s, key_find(key, &layer), -1, key, doc, val, &w, err);
            if (!st && strcmp(key, "seed") == 0)  /* the file's seed is the base seed too */
                s->base_seed = s->seed;
        } else if (strcmp(key, "run_seed") == 0) {
            /* Written by isw_spec_write when the run seed differs from the
             * base seed, so that the written spec reads back identical. */
            if (!parse_u64(scalar(val), &run_seed)) {
                describe_node(found, sizeof found, doc, val);
                st = isw_error_set(err, ISW_EINVAL, file, node_line(&w, val),
                                   "run_seed: found %s, expected a non-negative integer", found);
            }
            have_run_seed = 1;
        } else if (strcmp(key, "sweep") == 0) {
            sweep_node = val;
        } else if (strcmp(key, "refine") == 0) {
            refine_node = val;
        } else {
            suggest(hint, sizeof hint, key, top_keys);
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
    if (refine_node && (st = load_refine(sw, doc, refine_node, file, kl, err)))
        return st;
    return refine_check(sw, file, kline(kl, "refine.axis"), err);
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

#define SPEC_MAX_BYTES (1024 * 1024)

/* Flow collections nested deeper than SPEC_MAX_DEPTH are refused before
 * libyaml parses them (it takes seconds on 100,000 levels); a spec needs 3. */

/* Deepest [ / { nesting outside quotes and comments; *line where it passed
 * SPEC_MAX_DEPTH. */
static int flow_depth(const char *text, int *line)
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
            if (++depth > SPEC_MAX_DEPTH) {
                *line = ln;
                return depth;
            }
        } else if ((*c == ']' || *c == '}') && depth > 0) {
            depth--;
        }
    }
    return depth;
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
        isw_sweep_init(sweep);
    if (flow_depth(text, &deep_line) > SPEC_MAX_DEPTH)
        return isw_error_set(err, ISW_EINVAL, file, deep_line,
                             "lists or mappings nested more than %d deep, expected a spec "
                             "(which needs 3)", SPEC_MAX_DEPTH);

    isw_sweep_t *local = NULL;
    if (!sweep) {
        if (!(local = malloc(sizeof *local)))
            return isw_error_set(err, ISW_ENOMEM, file, 0, "out of memory");
        sweep = local;
    }
    isw_sweep_init(sweep);
    keylines_t *kl = calloc(1, sizeof *kl);
    yaml_parser_t p;
    if (!kl || !yaml_parser_initialize(&p)) {
        free(kl);
        free(local);
        return isw_error_set(err, ISW_ENOMEM, file, 0, "out of memory");
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    yaml_document_t doc;
    int st;
    if (!yaml_parser_load(&p, &doc)) {
        int line = (int)p.problem_mark.line + 1, col = (int)p.problem_mark.column + 1;
        char ctx[200] = "";
        if (p.context)
            snprintf(ctx, sizeof ctx, " (%s at line %d)", p.context, (int)p.context_mark.line + 1);
        if (p.error == YAML_READER_ERROR) {
            line = 0;
            col = 0;
        }
        st = isw_error_set(err, ISW_EINVAL, file, line, "invalid YAML: %s%s",
                           p.problem ? p.problem : "syntax error", ctx);
        if (err)
            err->column = col;
        yaml_parser_delete(&p);
        free(kl);
        free(local);
        return st;
    }
    yaml_node_t *tagged = tagged_node(&doc);
    if (tagged)
        st = isw_error_set(err, ISW_EINVAL, file, (int)tagged->start_mark.line + 1,
                           "found the tag %.60s, expected values without YAML tags (each "
                           "key's type is known)", (const char *)tagged->tag);
    else
        st = load_root(spec, sweep, &doc, file, kl, err);
    yaml_document_delete(&doc);
    if (!st) {
        /* A second document is most likely a stray `---`: refuse it. */
        yaml_document_t more;
        if (!yaml_parser_load(&p, &more)) {
            st = isw_error_set(err, ISW_EINVAL, file, (int)p.problem_mark.line + 1,
                               "invalid YAML: %s", p.problem ? p.problem : "syntax error");
        } else {
            yaml_node_t *r = yaml_document_get_root_node(&more);
            if (r)
                st = isw_error_set(err, ISW_EINVAL, file, (int)r->start_mark.line + 1,
                                   "found a second YAML document, expected one spec per file");
            yaml_document_delete(&more);
        }
    }
    yaml_parser_delete(&p);
    if (!st)
        st = validate_impl(spec, file, kl, err);
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
        isw_sweep_init(sweep);
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

/* ---- set / override ----------------------------------------------------- */

int isw_spec_set(isw_spec_t *spec, const char *key, const char *value, isw_error_t *err)
{
    int layer;
    const keydef_t *d = key_find(key, &layer);
    if (!d)
        return unknown_key(err, "", 0, "", key);
    where_t w = {"", 0, 0};
    return set_text(spec, d, layer, key, value, &w, err);
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
    if (!is_sweep && !is_refine)
        return isw_spec_set(spec, key, value, err);
    if (!sweep)
        return isw_error_set(err, ISW_EINVAL, "", 0, "%s: this command has no sweep to change",
                             key);

    yaml_document_t doc;
    char problem[256];
    if (!parse_text(&doc, value, problem, sizeof problem))
        return isw_error_set(err, ISW_EINVAL, "", 0,
                             "%s: found \"%s\", which is not valid YAML (%s)", key, value,
                             problem);
    where_t w = {"", 0, 0};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int st;
    if (is_sweep) {
        st = sweep_add(sweep, spec, key + 6, &doc, root, &w, 0, 1, err);
    } else {
        /* Any refine key turns refinement on, as a refine section does. */
        int enabled = sweep->refine.enabled;
        sweep->refine.enabled = 1;
        st = refine_set(&sweep->refine, key + 7, &doc, root, &w, 0, err);
        if (st)
            sweep->refine.enabled = enabled;
    }
    yaml_document_delete(&doc);
    if (!st)
        st = refine_check(sweep, "", 0, err);
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

/* ---- get / write -------------------------------------------------------- */

/* Shortest %g text that reads back as exactly x. */
static void fmt_double(char *buf, size_t size, double x)
{
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* Value of a key as text; yaml = 1 quotes strings that need it. */
static void value_text(isw_sb_t *b, const isw_spec_t *s, const keydef_t *d, int layer, int yaml)
{
    const char *field = (const char *)s + d->off;
    char num[64];
    switch (d->type) {
    case K_STR:
        if (yaml)
            sb_scalar(b, field, strlen(field));
        else
            isw_sb_puts(b, field);
        break;
    case K_BOOL:
        isw_sb_puts(b, *(const int *)field ? "true" : "false");
        break;
    case K_INT:
        isw_sb_printf(b, "%d", *(const int *)field);
        break;
    case K_LONG:
        isw_sb_printf(b, "%ld", *(const long *)field);
        break;
    case K_U64:
        isw_sb_printf(b, "%" PRIu64, *(const uint64_t *)field);
        break;
    case K_DBL:
        if (!isnan(*(const double *)field)) {
            fmt_double(num, sizeof num, *(const double *)field);
            isw_sb_puts(b, num);
        }
        break;
    case K_LRK:
        fmt_double(num, sizeof num, s->train.lr_layer[layer]);
        isw_sb_puts(b, num);
        break;
    case K_ENUM:
        isw_sb_puts(b, name_of(d->names, *(const int *)field));
        break;
    case K_INTLIST:
        isw_sb_putn(b, "[", 1);
        for (int l = 0; l < s->model.nhidden; l++)
            isw_sb_printf(b, "%s%d", l ? ", " : "", s->model.hidden[l]);
        isw_sb_putn(b, "]", 1);
        break;
    case K_DBLLIST: {
        int n = yaml ? s->train.lr_layer_list : isw_spec_layers(s);
        isw_sb_putn(b, "[", 1);
        for (int l = 0; l < n && l < ISW_MAX_LAYERS; l++) {
            fmt_double(num, sizeof num, s->train.lr_layer[l]);
            isw_sb_printf(b, "%s%s", l ? ", " : "", num);
        }
        isw_sb_putn(b, "]", 1);
        break;
    }
    case K_STRLIST:
        if (!yaml && s->data.ntargets == 1) {
            isw_sb_puts(b, s->data.target[0]);
            break;
        }
        isw_sb_putn(b, "[", 1);
        for (int i = 0; i < s->data.ntargets && i < ISW_MAX_TARGETS; i++) {
            if (i)
                isw_sb_puts(b, ", ");
            sb_scalar(b, s->data.target[i], strlen(s->data.target[i]));
        }
        isw_sb_putn(b, "]", 1);
        break;
    }
}

int isw_spec_get(const isw_spec_t *spec, const char *key, char *buf, size_t size)
{
    int layer;
    const keydef_t *d = key_find(key, &layer);
    if (!d || (d->type == K_LRK && layer >= ISW_MAX_LAYERS) || !size)
        return ISW_EINVAL;
    isw_sb_t b = {0};
    isw_sb_puts(&b, "");
    value_text(&b, spec, d, layer, 0);
    int st = b.oom ? ISW_ENOMEM : b.len < size ? ISW_OK : ISW_EINVAL;
    snprintf(buf, size, "%s", b.s ? b.s : "");
    free(b.s);
    return st;
}

static void write_key(isw_sb_t *b, const isw_spec_t *s, const keydef_t *d)
{
    const char *sub = strchr(d->key, '.') + 1;
    const isw_criteria_spec_t *c = &s->criteria;
    if (d->type == K_LRK) {
        for (int l = 0; l < s->train.lr_layer_keys && l < ISW_MAX_LAYERS; l++) {
            isw_sb_printf(b, "  lr_layer.%d: ", l);
            value_text(b, s, d, l, 1);
            isw_sb_putn(b, "\n", 1);
        }
        return;
    }
    if (d->type == K_DBLLIST && s->train.lr_layer_list == 0)
        return;
    if (strcmp(d->key, "data.seed") == 0 && !s->data.has_seed)
        return;
    if ((d->flags & F_TARGET) && isnan(*(const double *)((const char *)s + d->off)))
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
    value_text(b, s, d, -1, 1);
    if (why)
        isw_sb_printf(b, "  (%s)", why);
    isw_sb_putn(b, "\n", 1);
}

int isw_spec_write(FILE *out, const isw_spec_t *spec, const isw_sweep_t *sweep)
{
    isw_sb_t b = {0};
    char num[64];
    isw_sb_printf(&b, "# initsweep %s: the resolved spec, every default filled in\n", ISW_VERSION);
    isw_sb_puts(&b, "name: ");
    sb_scalar(&b, spec->name, strlen(spec->name));
    isw_sb_printf(&b, "\nseed: %" PRIu64 "\n", spec->base_seed);
    if (spec->seed != spec->base_seed)
        isw_sb_printf(&b, "run_seed: %" PRIu64 "\n", spec->seed);
    for (int sct = 0; sections[sct]; sct++) {
        size_t sl = strlen(sections[sct]);
        isw_sb_printf(&b, "%s:\n", sections[sct]);
        for (size_t i = 0; i < NKEYS; i++)
            if (strncmp(keys[i].key, sections[sct], sl) == 0 && keys[i].key[sl] == '.')
                write_key(&b, spec, &keys[i]);
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
                fmt_double(num, sizeof num, ax->a);
                isw_sb_printf(&b, "%s, ", num);
                fmt_double(num, sizeof num, ax->b);
                isw_sb_printf(&b, "%s, %zu]}\n", num, ax->n);
            }
        }
    }
    if (sweep && sweep->refine.enabled) {
        isw_sb_puts(&b, "refine:\n  axis: ");
        sb_scalar(&b, sweep->refine.axis, strlen(sweep->refine.axis));
        fmt_double(num, sizeof num, sweep->refine.tolerance);
        isw_sb_printf(&b, "\n  tolerance: %s\n  rounds: %d\n", num, sweep->refine.rounds);
    }
    if (b.oom) {
        free(b.s);
        return ISW_ENOMEM;
    }
    size_t w = b.s ? fwrite(b.s, 1, b.len, out) : 0;
    free(b.s);
    return w == b.len && !ferror(out) ? ISW_OK : ISW_EIO;
}
