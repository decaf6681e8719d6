/*
 * load.h - `cmk-bench load`: flow workloads through a running cluster.
 *
 * Connects to the controller's front door as the "bench" identity (keys/bench.key of the run
 * dir), creates the workload's tenant, shared environments and flows, then runs its phases:
 * a closed loop of C runs in flight (flow.run on one or more DEALER sockets), optionally paced
 * to a rate. Reports runs/s, latency percentiles per phase and per second, failures by cause,
 * the CPU and memory of every process of the cluster (pids from `status`, figures from
 * /proc), and runs lost: acknowledged runs that run.show cannot find afterwards.
 */
#ifndef CMK_BENCH_LOAD_H
#define CMK_BENCH_LOAD_H

#include "common/err.h"

/* bench_load_cmd - run `cmk-bench load` with its options (argv[0] is the first option);
 * prints --help when asked. 0 or a negative cmk code with err filled; a run that lost
 * acknowledged runs is CMK_EINTERNAL after the report is written. */
int bench_load_cmd(int argc, char **argv, cmk_err *err);

#endif
