/* Box counting and 1-D switches of a 2-D outcome mask (geometry.h). */
#include "initsweep/geometry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_fit.h>

/* Box flags: the box holds a point that trains / one that does not. */
enum { HAS_TRUE = 1, HAS_FALSE = 2 };

static unsigned char point_flag(signed char m)
{
    return m == 1 ? HAS_TRUE : m == 0 ? HAS_FALSE : 0;
}

/* Mean switches per 1-D slice sampled every s points: along x (rows of
 * fixed j) when along_x, else along y. */
static double switches(const signed char *mask, int nx, int ny, long s, int along_x)
{
    int nslices = along_x ? ny : nx, len = along_x ? nx : ny;
    long total = 0, counted = 0;
    for (int k = 0; k < nslices; k++) {
        int last = -1, known = 0;
        long sw = 0;
        for (long t = 0; t < len; t += s) {
            signed char m = along_x ? mask[t * ny + k] : mask[(long)k * ny + t];
            if (m < 0)
                continue;
            if (last >= 0 && m != last)
                sw++;
            last = m;
            known++;
        }
        if (known >= 2) {
            total += sw;
            counted++;
        }
    }
    return counted ? (double)total / (double)counted : NAN;
}

/* -slope of ln y on ln scale over the fitted scales with y > 0, and its
 * standard error (NaN with fewer than 3 such scales). */
static int fit_dimension(const isw_geo_t *g, const double *y, double *dim, double *se)
{
    double lx[ISW_GEO_MAX_SCALES], ly[ISW_GEO_MAX_SCALES];
    size_t n = 0;
    for (int k = 0; k < g->nscales; k++)
        if (g->in_fit[k] && y[k] > 0 && isfinite(y[k])) {
            lx[n] = log((double)g->scale[k]);
            ly[n] = log(y[k]);
            n++;
        }
    *dim = *se = NAN;
    if (n < 2)
        return ISW_OK;
    double c0, c1, cov00, cov01, cov11, sumsq;
    if (gsl_fit_linear(lx, 1, ly, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq) != 0)
        return ISW_EGSL;
    *dim = -c1 + 0.0;              /* + 0.0: a flat fit is 0, not -0 */
    if (n >= 3)
        *se = sqrt(cov11);
    return ISW_OK;
}

int isw_geo_compute(isw_geo_t *g, const signed char *mask, int nx, int ny)
{
    memset(g, 0, sizeof *g);
    g->dimension = g->dimension_se = g->dimension_1d_x = g->dimension_1d_y = NAN;
    if (nx < 2 || ny < 2)
        return ISW_EINVAL;
    g->nx = nx;
    g->ny = ny;
    for (long i = 0; i < (long)nx * ny; i++) {
        g->n_true += mask[i] == 1;
        g->n_false += mask[i] == 0;
        g->n_unknown += mask[i] != 0 && mask[i] != 1;
    }
    /* level s = 1: the (nx-1) x (ny-1) blocks of 2 x 2 points; each next
     * level merges 2 x 2 boxes of the last (a box of side 2s is exactly the
     * union of four of side s, borders shared) */
    long bx = nx - 1, by = ny - 1;
    unsigned char *box = malloc((size_t)bx * (size_t)by);
    if (!box)
        return ISW_ENOMEM;
    for (long i = 0; i < bx; i++)
        for (long j = 0; j < by; j++)
            box[i * by + j] = point_flag(mask[i * ny + j]) | point_flag(mask[i * ny + j + 1]) |
                              point_flag(mask[(i + 1) * ny + j]) |
                              point_flag(mask[(i + 1) * ny + j + 1]);
    long shorter = (nx < ny ? nx : ny) - 1;
    for (long s = 1; 2 * s <= shorter && g->nscales < ISW_GEO_MAX_SCALES; s *= 2) {
        int k = g->nscales++;
        g->scale[k] = s;
        for (long i = 0; i < bx * by; i++) {
            g->boxes[k] += box[i] == (HAS_TRUE | HAS_FALSE);
            g->boxes_known[k] += box[i] != 0;
        }
        g->switches_x[k] = switches(mask, nx, ny, s, 1);
        g->switches_y[k] = switches(mask, nx, ny, s, 0);
        g->in_fit[k] = 4 * s <= shorter && g->boxes[k] >= 4;
        /* merge into the next level, in place: box (i, j) of the next level
         * reads (2i.., 2j..) of this one, never one it has overwritten */
        long nbx = (bx + 1) / 2, nby = (by + 1) / 2;
        for (long i = 0; i < nbx; i++)
            for (long j = 0; j < nby; j++) {
                unsigned char f = 0;
                for (long di = 0; di < 2; di++)
                    for (long dj = 0; dj < 2; dj++) {
                        long a = 2 * i + di, b = 2 * j + dj;
                        if (a < bx && b < by)
                            f |= box[a * by + b];
                    }
                box[i * nby + j] = f;
            }
        bx = nbx;
        by = nby;
    }
    free(box);
    double nb[ISW_GEO_MAX_SCALES], unused;
    for (int k = 0; k < g->nscales; k++)
        nb[k] = (double)g->boxes[k];
    int st = fit_dimension(g, nb, &g->dimension, &g->dimension_se);
    if (st == ISW_OK)
        st = fit_dimension(g, g->switches_x, &g->dimension_1d_x, &unused);
    if (st == ISW_OK)
        st = fit_dimension(g, g->switches_y, &g->dimension_1d_y, &unused);
    return st;
}
