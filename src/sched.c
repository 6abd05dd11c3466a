/* placeholder */ typedef int isw_sched_placeholder_t;
