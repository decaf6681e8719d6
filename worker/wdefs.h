/*
 * wdefs.h - a worker's parsed, validated flow definitions, one per flow of an environment and
 * per version: a run of a flow whose definition did not change since the last run needs no
 * SELECT, no decryption, no parse and no validation, only a reference (flowdef_ref) that the
 * run shares with every other run of that version.
 *
 * Validity: the cache of an environment is dropped as a whole whenever its partition's flow
 * generation (partition_flow_gen) changes: a flow written, deleted or cleared, a rollback, keys
 * set or forgotten. A locked environment therefore never runs from the cache: its partition
 * forgot its keys, the next run misses and reads the partition, which refuses (CMK_EUNAVAIL).
 */
#ifndef CMK_WDEFS_H
#define CMK_WDEFS_H

#include "common/err.h"
#include "common/flowdef.h"
#include "partition.h"

typedef struct wdefs wdefs;

/* wdefs_get - the flow `id` of part: its clear metadata (name and signature left "") and its
 * parsed definition (*fd: a reference, release with flowdef_destroy). *cache is created on
 * first use. CMK_ENOENT if no such flow; the partition's or the parser's error otherwise. */
int wdefs_get(wdefs **cache, partition *part, const char *id, partition_flow *meta, flowdef **fd, cmk_err *err);

/* wdefs_destroy - drop every cached definition; NULL-safe, nulls the caller's pointer */
void wdefs_destroy(wdefs **self_p);

#endif
