/* The geometry of a 2-D boundary between outcomes (Sohl-Dickstein 2024):
 * box counting of the edge of a mask over a grid, and the outcome switches
 * along its 1-D slices.  Pure arithmetic on a mask; stats.c builds the
 * masks from a sweep's cells (geometry.csv, INTERFACE.md).
 *
 * The mask is nx x ny grid points, mask[i * ny + j] for x index i, y
 * index j: 1 (the point trains), 0 (it does not), -1 (unknown: no run
 * there).  A box of side s (grid steps) at box index (bi, bj) holds the
 * points i in [bi s, bi s + s], j in [bj s, bj s + s] (clipped to the
 * grid; neighbours share their border points, so at s = 1 the boxes are
 * the 2 x 2 blocks of the edge mask); it is an edge box when it holds both
 * a 1 and a 0, and it counts when it holds a known point.  Scales are s =
 * 1, 2, 4, ... while s <= (min(nx, ny) - 1) / 2 (two boxes across the
 * shorter side).  N(s) edge boxes of a boundary of box-counting dimension
 * D grow as s^-D: D is minus the least-squares slope of ln N(s) on ln s
 * over the fitted scales, those with s <= (min(nx, ny) - 1) / 4 and N(s)
 * >= 4 (coarser scales have too few boxes to mean anything).  A straight
 * edge gives 1, noise 2.
 *
 * The 1-D view: along x, each row j of fixed y sampled every s points (i
 * = 0, s, 2s, ...) switches outcome some number of times between
 * consecutive known samples; switches_x(s) is its mean over the rows with
 * two or more known samples (likewise switches_y along y).  For a fractal
 * edge of dimension D a slice is a set of dimension D - 1 and the switches
 * grow as s^-(D-1): dimension_1d_x is minus the slope of ln switches_x on
 * ln s over the fitted scales where switches_x > 0 (0 for a smooth edge:
 * each slice crosses it once whatever the resolution). */
#ifndef ISW_GEOMETRY_H
#define ISW_GEOMETRY_H

#include "initsweep/common.h"

#define ISW_GEO_MAX_SCALES 40

typedef struct {
    int nx, ny;
    long n_true, n_false, n_unknown;     /* points of each kind */
    int nscales;
    long scale[ISW_GEO_MAX_SCALES];      /* box side in grid steps: 1, 2, 4, ... */
    long boxes[ISW_GEO_MAX_SCALES];      /* edge boxes N(s) */
    long boxes_known[ISW_GEO_MAX_SCALES]; /* boxes holding a known point */
    double switches_x[ISW_GEO_MAX_SCALES], switches_y[ISW_GEO_MAX_SCALES];
    int in_fit[ISW_GEO_MAX_SCALES];      /* 1: used by the dimension fits */
    double dimension, dimension_se;      /* box counting; NaN with < 2 fitted scales
                                          * (se: with < 3) or no edge */
    double dimension_1d_x, dimension_1d_y; /* NaN likewise */
} isw_geo_t;

/* Box counting and switches of mask (nx, ny >= 2).  ISW_EINVAL for a grid
 * smaller than 2 x 2; ISW_EGSL when the fit fails. */
int isw_geo_compute(isw_geo_t *g, const signed char *mask, int nx, int ny);

#endif
