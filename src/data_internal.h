/* Helpers shared by the data module's source files (not part of the API). */
#ifndef ISW_DATA_INTERNAL_H
#define ISW_DATA_INTERNAL_H

#include "initsweep/data.h"

/* Checks the limit and normalize options shared by every reader and sets
 * *divisor = normalize (0 means 1).  file names the source in the message. */
int isw_data_check_options(long limit, double normalize, double *divisor,
                           const char *file, isw_error_t *err);

/* Inputs of the data a generator makes: 2 for the 2-D generators (xor,
 * spirals), else data.inputs. */
int isw_data_generator_inputs(const isw_data_spec_t *ds);

/* Sets err->file (err may be NULL), truncating a long path. */
void isw_data_error_file(isw_error_t *err, const char *path);

/* Samples kept of `available`: the first `limit` (0 = all). */
static inline size_t isw_data_limited(size_t available, long limit)
{
    return (limit > 0 && (unsigned long)limit < available) ? (size_t)limit : available;
}

#endif
