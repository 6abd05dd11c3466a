/* A tiny check library: failures print file:line and the values compared,
 * and are counted; CHECK_DONE() returns the exit status for ctest. */
#ifndef ISW_CHECK_H
#define ISW_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

static inline int check_true(int ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
        check_failures++;
    }
    return ok;
}

static inline int check_int(long long a, long long b, const char *ea, const char *eb,
                     const char *file, int line)
{
    if (a != b) {
        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", file, line, ea, eb, a, b);
        check_failures++;
        return 0;
    }
    return 1;
}

/* |a - b| <= tol (absolute); NaN never passes. */
static inline int check_near(double a, double b, double tol, const char *ea, const char *eb,
                      const char *file, int line)
{
    if (!(fabs(a - b) <= tol)) {
        fprintf(stderr, "%s:%d: %s ~= %s failed: %.17g vs %.17g (|diff| %.3g > tol %.3g)\n",
                file, line, ea, eb, a, b, fabs(a - b), tol);
        check_failures++;
        return 0;
    }
    return 1;
}

static inline int check_str(const char *a, const char *b, const char *ea, const char *eb,
                     const char *file, int line)
{
    if (!a || !b || strcmp(a, b) != 0) {
        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", file, line, ea, eb,
                a ? a : "(null)", b ? b : "(null)");
        check_failures++;
        return 0;
    }
    return 1;
}

/* strstr(haystack, needle) != NULL */
static inline int check_contains(const char *hay, const char *needle, const char *file, int line)
{
    if (!hay || !needle || !strstr(hay, needle)) {
        fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", file, line,
                hay ? hay : "(null)", needle ? needle : "(null)");
        check_failures++;
        return 0;
    }
    return 1;
}

#define CHECK(e) check_true(!!(e), #e, __FILE__, __LINE__)
#define CHECK_INT(a, b) check_int((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_NEAR(a, b, tol) check_near((a), (b), (tol), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) check_str((a), (b), #a, #b, __FILE__, __LINE__)
#define CHECK_CONTAINS(h, n) check_contains((h), (n), __FILE__, __LINE__)
#define CHECK_DONE()                                                         \
    (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)

#endif
