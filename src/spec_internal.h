/* Shared by the spec module's source files (not part of the API):
 *   spec_keys.c   the key table, the field validator and the key help
 *   spec_rules.c  the cross-field rules and isw_spec_validate
 *   spec_yaml.c   YAML nodes: flow text, messages, setting a key from a node
 *   spec_load.c   loading a spec file and writing the resolved spec
 *   spec_axis.c   the sweep axis grammar and refine
 *   spec.c        defaults, isw_spec_set / override, small helpers */
#ifndef ISW_SPEC_INTERNAL_H
#define ISW_SPEC_INTERNAL_H

#include "initsweep/spec.h"

#include <yaml.h>

/* ---- the key table -------------------------------------------------------- */

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
    F_CLASSES = 16,   /* clears data.classes_default */
    F_NULL = 32,      /* a real that null unsets (NaN: not given); not written then */
    F_DISTSET = 64,   /* sets init.dist_set */
    F_BIASSET = 128   /* sets init.bias_set */
};

/* The names of an enum key, read from the owning module's table: value v
 * (0 <= v < n) is called name(v). */
typedef struct {
    int n;
    const char *(*name)(int v);
} knames_t;

typedef struct {
    const char *key;                     /* dotted, e.g. "train.lr" */
    ktype_t type;
    size_t off, size;                    /* field in isw_spec_t; size for strings */
    krange_t range;                      /* checked when a value is set */
    long max;                            /* integers (list entries too): largest value,
                                          * 0 = none; checked by validation */
    knames_t names;                      /* K_ENUM */
    unsigned flags;
    const char *def;                     /* default as YAML flow text, NULL: zero/none */
    const char *help;
} keydef_t;

#define ISW_SPEC_MAX_KEYS 96              /* room for the rows, for name lists */
extern const keydef_t isw_spec_keys[];
extern const size_t isw_spec_nkeys;

extern const char *const isw_spec_sections[];   /* data, model, ..., NULL */
#define ISW_SPEC_LRK_PREFIX "train.lr_layer."

/* The row of a dotted key, NULL when there is none.  For
 * train.lr_layer.K, *layer gets K (possibly out of range; the setter
 * reports that); else -1. */
const keydef_t *isw_spec_key_find(const char *key, int *layer);
int isw_spec_key_numeric(const keydef_t *d);
/* Value v of an enum key by name: -1 when name is none of them. */
int isw_spec_enum_find(const keydef_t *d, const char *name);
/* Keys of a section without the section prefix, NULL-terminated. */
int isw_spec_section_keys(const char *section, const char **out, int max);

int isw_spec_range_ok(krange_t r, double x);
/* "expected ..." text of a key, as setting a value checks it. */
void isw_spec_expect_text(char *buf, size_t size, const keydef_t *d);
/* The value of key (row d; layer for train.lr_layer.K) as text; yaml = 1
 * quotes strings that need it. */
void isw_spec_value_text(isw_sb_t *b, const isw_spec_t *s, const keydef_t *d, int layer,
                         int yaml);
/* x in the shortest %g form that reads back exactly. */
void isw_spec_put_double(isw_sb_t *b, double x);
/* Checks the fields of one section ("" for name and seed) against their
 * rows: ranges, maxima, enum values, list lengths. */
typedef struct keylines keylines_t;
typedef struct {
    const char *file;
    const keylines_t *kl;
    isw_error_t *err;
} vctx_t;
int isw_spec_check_fields(const isw_spec_t *s, const char *section, const vctx_t *v);

/* ---- messages and small helpers (spec.c) ----------------------------------- */

/* Lines of the keys a file set, so validation messages can point at them. */
struct keylines {
    struct {
        char key[64];
        int line;
    } e[200];
    int n;
};
void isw_spec_keylines_add(keylines_t *kl, const char *key, int line);
/* Line of key, else of its section; 0 when unknown. */
int isw_spec_kline(const keylines_t *kl, const char *key);
/* "KEY: message" at the key's line. */
int isw_spec_verr(const vctx_t *v, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void isw_spec_copy_str(char *dst, size_t size, const char *src);
int isw_spec_edit_distance(const char *a, const char *b);
/* ` (did you mean "x"?)` in hint when some candidate is close, else "". */
void isw_spec_suggest(char *hint, size_t size, const char *word, const char *const *cands);
void isw_spec_join_names(char *buf, size_t size, const char *const *names);
int isw_spec_parse_long(const char *s, long *v);
int isw_spec_parse_u64(const char *s, uint64_t *v);
int isw_spec_parse_bool(const char *s, int *v);
int isw_spec_is_null(const char *s);
/* Puts "sweep." before the message of err (an axis value's own message
 * starts with its key). */
void isw_spec_prefix_sweep(isw_error_t *err);

/* ---- YAML (spec_yaml.c) --------------------------------------------------- */

/* An axis may not hold more values than this: each is checked at load. */
#define ISW_SPEC_AXIS_MAX 1000000
/* Lists or mappings nested deeper than this are refused before libyaml
 * parses them (it takes seconds on 100,000 levels); a spec needs 3. */
#define ISW_SPEC_MAX_DEPTH 64

/* Where node lines come from: the file's marks, or one fixed line (values
 * parsed from --set text or from an axis value's text). */
typedef struct {
    const char *file;
    int line;
    int marks;
} where_t;

int isw_yaml_line(const where_t *w, const yaml_node_t *n);
const char *isw_yaml_scalar(const yaml_node_t *n);
int isw_yaml_count(const yaml_node_t *n);
yaml_node_t *isw_yaml_item(yaml_document_t *doc, const yaml_node_t *n, int i);
/* A string as a YAML flow scalar: plain when safe, else double-quoted. */
void isw_yaml_put_scalar(isw_sb_t *b, const char *s, size_t n);
/* A node as YAML flow text: "0.5", "[16, 16]", "{a: 1}". */
void isw_yaml_put_node(isw_sb_t *b, yaml_document_t *doc, yaml_node_t *n, int depth);
/* What was found, for messages: "\"abc\"", "a list [1, 2]", "a mapping {a: 1}". */
void isw_yaml_describe(char *buf, size_t size, yaml_document_t *doc, yaml_node_t *n);
/* The first node with an explicit tag, or NULL. */
yaml_node_t *isw_yaml_tagged(yaml_document_t *doc);
/* Deepest [ / { nesting outside quotes and comments; *line where it passed
 * ISW_SPEC_MAX_DEPTH. */
int isw_yaml_flow_depth(const char *text, int *line);
/* Parses YAML flow text (one value) into doc; 0 with problem filled on error. */
int isw_yaml_parse_text(yaml_document_t *doc, const char *text, char *problem, size_t size);

/* "KEY: found X, expected Y[hint]" at the node's line. */
int isw_spec_bad_value(isw_error_t *err, const where_t *w, yaml_document_t *doc,
                       yaml_node_t *n, const char *key, const keydef_t *d, const char *hint);
/* "unknown key" for a dotted key; names the allowed keys of its section. */
int isw_spec_unknown_key(isw_error_t *err, const char *file, int line, const char *prefix,
                         const char *key);
/* Refuses a node that is not a mapping and a mapping whose keys are not
 * scalars or repeat. */
int isw_spec_check_mapping(yaml_document_t *doc, yaml_node_t *map, const char *prefix,
                           const char *expected, const char *file, isw_error_t *err);
/* Sets key (row d; layer for train.lr_layer.K) from node n, or from YAML
 * flow text (messages at w's file and line). */
int isw_spec_set_node(isw_spec_t *s, const keydef_t *d, int layer, const char *key,
                      yaml_document_t *doc, yaml_node_t *n, const where_t *w, isw_error_t *err);
int isw_spec_set_text(isw_spec_t *s, const keydef_t *d, int layer, const char *key,
                      const char *text, const where_t *w, isw_error_t *err);

/* ---- validation (spec_rules.c) -------------------------------------------- */

int isw_spec_validate_at(isw_spec_t *s, const char *file, const keylines_t *kl,
                         isw_error_t *err);

/* ---- sweep and refine (spec_axis.c) --------------------------------------- */

/* An empty sweep with refine defaults (axis train.lr, tolerance 0.01,
 * rounds 10, disabled).  Load and override start from this. */
void isw_spec_sweep_init(isw_sweep_t *sweep);
/* Adds (or, when replace, replaces) an axis parsed from node n; keyline:
 * line of the axis key. */
int isw_spec_sweep_add(isw_sweep_t *sw, const isw_spec_t *spec, const char *key,
                       yaml_document_t *doc, yaml_node_t *n, const where_t *w, int keyline,
                       int replace, isw_error_t *err);
int isw_spec_refine_set(isw_refine_spec_t *r, const char *key, yaml_document_t *doc,
                        yaml_node_t *n, const where_t *w, int keyline, isw_error_t *err);
int isw_spec_refine_check(const isw_sweep_t *sw, const char *file, int line, isw_error_t *err);
/* The fit section's keys, one at a time, and the check against the sweep
 * once it is complete (axis_line, range_line: where they were set, 0 for
 * --set). */
int isw_spec_fit_set(isw_fit_spec_t *f, const char *key, yaml_document_t *doc, yaml_node_t *n,
                     const where_t *w, int keyline, isw_error_t *err);
int isw_spec_fit_check(const isw_sweep_t *sw, const char *file, int axis_line, isw_error_t *err);

#endif
