/* The record schema: one table from ISW_RECORD_COLUMNS, and each column
 * type's text form (record.h). */
#include "initsweep/record.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "initsweep/train.h"

#define COLUMN_ROW_(name, type, init, meaning) \
    {#name, ISW_COL_##type, offsetof(isw_record_t, name), meaning},
const isw_record_column_t isw_record_columns[ISW_RECORD_NCOLUMNS] = {
    ISW_RECORD_COLUMNS(COLUMN_ROW_)};
#undef COLUMN_ROW_

void isw_record_init(isw_record_t *rec, uint64_t task)
{
    memset(rec, 0, sizeof *rec);
    rec->task = task;
#define COLUMN_INIT_(name, type, init, meaning) rec->name = (init);
    ISW_RECORD_COLUMNS(COLUMN_INIT_)
#undef COLUMN_INIT_
}

const char *isw_col_type_name(isw_col_type_t type)
{
    switch (type) {
    case ISW_COL_OUTCOME: return "outcome";
    case ISW_COL_INT: return "int";
    case ISW_COL_EPOCH: return "epoch";
    case ISW_COL_REAL: return "real";
    }
    return "?";
}

static int32_t *int_field(isw_record_t *rec, int col)
{
    return (int32_t *)((char *)rec + isw_record_columns[col].offset);
}

static double *real_field(isw_record_t *rec, int col)
{
    return (double *)((char *)rec + isw_record_columns[col].offset);
}

int isw_record_format(isw_sb_t *b, const isw_record_t *rec, int col)
{
    return isw_record_format_digits(b, rec, col, 17);
}

int isw_record_format_digits(isw_sb_t *b, const isw_record_t *rec, int col, int digits)
{
    const char *field = (const char *)rec + isw_record_columns[col].offset;
    switch (isw_record_columns[col].type) {
    case ISW_COL_OUTCOME: {
        int32_t o = *(const int32_t *)field;
        if (o < 0 || o >= ISW_NOUTCOMES)
            return -1;
        isw_sb_puts(b, isw_outcome_name(o));
        return 0;
    }
    case ISW_COL_EPOCH:
        if (*(const int32_t *)field < 0)
            return 0;
        /* fall through */
    case ISW_COL_INT:
        isw_sb_printf(b, "%d", (int)*(const int32_t *)field);
        return 0;
    case ISW_COL_REAL: {
        double x = *(const double *)field;
        if (!isnan(x))
            isw_sb_printf(b, "%.*g", digits, x);
        return 0;
    }
    }
    return -1;
}

static int parse_int(const char *s, int32_t *v)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || *end || x < INT32_MIN || x > INT32_MAX)
        return 0;
    *v = (int32_t)x;
    return 1;
}

/* Empty = NaN; "inf" and "-inf" are infinities. */
static int parse_real(const char *s, double *v)
{
    if (!*s) {
        *v = NAN;
        return 1;
    }
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || end == s)
        return 0;
    *v = x;  /* ERANGE underflow keeps the denormal/zero strtod returns */
    return 1;
}

int isw_record_parse(isw_record_t *rec, int col, const char *text, const char **expected)
{
    switch (isw_record_columns[col].type) {
    case ISW_COL_OUTCOME:
        *expected = "an outcome (converged, diverged, dead, saturated, stalled, slow)";
        return (*int_field(rec, col) = isw_outcome_parse(text)) >= 0;
    case ISW_COL_INT:
        *expected = "an integer";
        return parse_int(text, int_field(rec, col));
    case ISW_COL_EPOCH:
        *expected = "an integer or empty";
        *int_field(rec, col) = -1;
        return !*text || parse_int(text, int_field(rec, col));
    case ISW_COL_REAL:
        *expected = "a number or empty";
        return parse_real(text, real_field(rec, col));
    }
    *expected = "a known column";
    return 0;
}
