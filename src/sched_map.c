/* isw_sched_map (sched.h): independent items spread over the ranks of an
 * mpirun job, results collected on rank 0 (`initsweep explain`'s
 * counterfactuals).  Waiting ranks poll: a blocked receive spins a core. */
#include "sched_internal.h"

#include <stdlib.h>

#define TAG_ITEM 100                     /* + item index */

int isw_sched_map(size_t n, size_t size, isw_map_fn fn, void *user, void *results, int *root)
{
    *root = 1;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return ISW_EMPI;
    int rank = 0, nranks = 1, ub_flag = 0, *ub = NULL;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &ub_flag);
    if (ub_flag && ub && (size_t)*ub < TAG_ITEM + n) {
        MPI_Finalize();
        return ISW_EMPI;
    }
    *root = rank == 0;
    char *res = results;
    for (size_t i = (size_t)rank; i < n; i += (size_t)nranks)
        fn(i, res + i * size, user);
    size_t mine = 0, theirs = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % (size_t)nranks == (size_t)rank)
            mine++;
        else
            theirs++;
    }
    size_t nreq = rank == 0 ? theirs : mine;
    MPI_Request *req = calloc(nreq + 1, sizeof *req);
    if (!req) {
        MPI_Abort(MPI_COMM_WORLD, 1);
        return ISW_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int owner = (int)(i % (size_t)nranks);
        if (rank == 0 && owner != 0)
            MPI_Irecv(res + i * size, (int)size, MPI_BYTE, owner, TAG_ITEM + (int)i,
                      MPI_COMM_WORLD, &req[k++]);
        else if (rank != 0 && owner == rank)
            MPI_Isend(res + i * size, (int)size, MPI_BYTE, 0, TAG_ITEM + (int)i, MPI_COMM_WORLD,
                      &req[k++]);
    }
    int done = 0;
    MPI_Testall((int)k, req, &done, MPI_STATUSES_IGNORE);
    while (!done) {
        isw_sched_nap();
        MPI_Testall((int)k, req, &done, MPI_STATUSES_IGNORE);
    }
    free(req);
    MPI_Finalize();
    return ISW_OK;
}
