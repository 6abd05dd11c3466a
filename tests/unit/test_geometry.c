/* Box counting against shapes of known dimension: a straight edge (1),
 * noise (2), the graph of a Weierstrass function (2 + ln a / ln b = 1.5),
 * the box counts of a straight edge exactly, unknown points, transposition
 * and the bad sizes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "initsweep/geometry.h"

/* mask[i * ny + j] = 1 below y = f(x) (in grid units), else 0 */
static signed char *below(int nx, int ny, double (*f)(double, void *), void *user)
{
    signed char *m = malloc((size_t)nx * (size_t)ny);
    for (int i = 0; i < nx; i++) {
        double y = f(i, user);
        for (int j = 0; j < ny; j++)
            m[(size_t)i * ny + j] = j < y;
    }
    return m;
}

static double line(double x, void *user)
{
    (void)user;
    return 0.37 * x + 20.5;
}

/* W(x) = sum_k a^k cos(2^k pi x / 64), a = 2^-1/2: box dimension 1.5,
 * scaled to the grid */
static double weierstrass(double x, void *user)
{
    int ny = *(const int *)user;
    double w = 0, a = 1;
    for (int k = 0; k < 14; k++, a *= sqrt(0.5))
        w += a * cos(ldexp(M_PI * x / 64.0, k));
    return ny / 2.0 + ny / 10.0 * w;
}

static void test_line(void)
{
    int n = 513;
    signed char *m = below(n, n, line, NULL);
    isw_geo_t g;
    CHECK_INT(isw_geo_compute(&g, m, n, n), ISW_OK);
    CHECK_INT(g.nx, n);
    CHECK_INT(g.nscales, 9);               /* 1 .. 256 */
    CHECK_INT(g.scale[0], 1);
    CHECK_INT(g.scale[8], 256);
    CHECK_NEAR(g.dimension, 1.0, 0.02);
    CHECK(g.dimension_se < 0.02);
    CHECK_NEAR(g.dimension_1d_x, 0.0, 1e-12); /* along x the edge is crossed at most once */
    CHECK_NEAR(g.dimension_1d_y, 0.0, 1e-12);
    /* every column of x crosses the edge once: at s = 1 the edge boxes are
     * the cells the line passes, at least one per column */
    CHECK(g.boxes[0] >= n - 1);
    CHECK(g.boxes[0] <= 2 * (n - 1));
    CHECK_INT(g.n_true + g.n_false, (long)n * n);
    CHECK_INT(g.n_unknown, 0);
    CHECK_INT(g.boxes_known[0], (long)(n - 1) * (n - 1));
    /* fitted scales: s <= (n - 1) / 4 = 128 */
    CHECK(g.in_fit[7] && !g.in_fit[8]);
    free(m);
}

static void test_noise(void)
{
    int n = 257;
    signed char *m = malloc((size_t)n * n);
    uint64_t x = 88172645463325252u;
    for (long i = 0; i < (long)n * n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = (signed char)(x >> 63);
    }
    isw_geo_t g;
    CHECK_INT(isw_geo_compute(&g, m, n, n), ISW_OK);
    CHECK_NEAR(g.dimension, 2.0, 0.05);
    /* at s = 4 every box (25 points) holds both outcomes */
    CHECK_INT(g.boxes[2], g.boxes_known[2]);
    /* a slice of noise switches about half the time at every resolution:
     * switches ~ s^-1, a 1-D dimension of 1 */
    CHECK_NEAR(g.dimension_1d_x, 1.0, 0.05);
    CHECK_NEAR(g.dimension_1d_y, 1.0, 0.05);
    free(m);
}

static void test_weierstrass(void)
{
    int n = 1025;
    signed char *m = below(n, n, weierstrass, &n);
    isw_geo_t g;
    CHECK_INT(isw_geo_compute(&g, m, n, n), ISW_OK);
    /* a graph of dimension 1.5 at a finite resolution: 1.4 .. 1.6 */
    CHECK(g.dimension > 1.4 && g.dimension < 1.6);
    /* a slice along y (x fixed) crosses the graph once; one along x (y
     * fixed) crosses it on a set of dimension 1.5 - 1 */
    CHECK_NEAR(g.dimension_1d_y, 0.0, 1e-12);
    CHECK(g.dimension_1d_x > 0.3 && g.dimension_1d_x < 0.7);

    /* the transposed mask: the same boxes, the switches swap */
    signed char *t = malloc((size_t)n * n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            t[(size_t)j * n + i] = m[(size_t)i * n + j];
    isw_geo_t gt;
    CHECK_INT(isw_geo_compute(&gt, t, n, n), ISW_OK);
    CHECK_INT(gt.nscales, g.nscales);
    for (int k = 0; k < g.nscales; k++) {
        CHECK_INT(gt.boxes[k], g.boxes[k]);
        CHECK(gt.switches_x[k] == g.switches_y[k] && gt.switches_y[k] == g.switches_x[k]);
    }
    CHECK(gt.dimension == g.dimension);
    free(t);
    free(m);
}

static void test_unknown_and_sizes(void)
{
    /* a straight edge with a hole of unknown points: the boxes inside the
     * hole do not count, the edge elsewhere does */
    int nx = 129, ny = 65;
    signed char *m = malloc((size_t)nx * ny);
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++)
            m[i * ny + j] = i < 64 ? 1 : 0;       /* the edge at x = 63.5 */
    isw_geo_t g;
    CHECK_INT(isw_geo_compute(&g, m, nx, ny), ISW_OK);
    CHECK_INT(g.boxes[0], ny - 1);             /* one column of blocks */
    CHECK_INT(g.boxes[1], 32);                 /* ceil(64 / 2) boxes of side 2 */
    CHECK_NEAR(g.dimension, 1.0, 1e-12);
    CHECK_NEAR(g.switches_x[0], 1.0, 1e-15);   /* every row crosses once */
    CHECK_NEAR(g.switches_y[0], 0.0, 1e-15);
    for (int i = 40; i < 90; i++)
        for (int j = 10; j < 30; j++)
            m[i * ny + j] = -1;
    CHECK_INT(isw_geo_compute(&g, m, nx, ny), ISW_OK);
    CHECK_INT(g.n_unknown, 50 * 20);
    CHECK_INT(g.boxes[0], ny - 1 - 19);        /* the blocks whose four points are all in
                                                * the hole (columns 63, 64, rows 10..29:
                                                * blocks j = 10..28) are not edge boxes */
    CHECK(g.boxes_known[0] < (long)(nx - 1) * (ny - 1));
    /* all one outcome: no edge, no dimension */
    memset(m, 1, (size_t)nx * ny);
    CHECK_INT(isw_geo_compute(&g, m, nx, ny), ISW_OK);
    CHECK_INT(g.boxes[0], 0);
    CHECK(isnan(g.dimension));
    CHECK_INT(isw_geo_compute(&g, m, 1, 40), ISW_EINVAL);
    CHECK_INT(isw_geo_compute(&g, m, 3, 3), ISW_OK);
    CHECK_INT(g.nscales, 1);                   /* s = 1 only: 2 s <= 2 */
    free(m);
}

int main(void)
{
    test_line();
    test_noise();
    test_weierstrass();
    test_unknown_and_sizes();
    return CHECK_DONE();
}
