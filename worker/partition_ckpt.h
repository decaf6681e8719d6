/*
 * partition_ckpt.h - a partition's WAL checkpoints on a thread of their own (issue #18).
 *
 * SQLite copies the WAL back into the database file at a checkpoint, and with synchronous=NORMAL
 * syncs both files there. Run by the committing connection (SQLite's default, every 1,000 WAL
 * pages), a checkpoint stopped the worker's loop for 12-80 ms on the project's machine, a few
 * times a second under load: that was the p99 of the Compose runs at half rate. Here a thread
 * with a connection of its own runs PASSIVE checkpoints (they never block the writer) every
 * PT_CKPT_PAGES new WAL pages. Such a checkpoint cannot finish while the writer keeps appending,
 * and the WAL only starts over after one finished, so once the WAL holds PT_CKPT_INLINE pages
 * and the thread is idle the writer checkpoints the few pages left itself (as SQLite did) and the
 * next transaction starts the WAL over; past PT_CKPT_FORCE pages it tries whether or not.
 */
#ifndef CMK_PARTITION_CKPT_H
#define CMK_PARTITION_CKPT_H

#include <sqlite3.h>

#include "common/err.h"

#define PT_CKPT_PAGES 1000   /* new WAL pages between two checkpoints on the thread */
#define PT_CKPT_INLINE 4000  /* WAL pages past which the writer finishes one while the thread idles */
#define PT_CKPT_FORCE 64000  /* WAL pages past which the writer tries one at every commit */

typedef struct pt_ckpt pt_ckpt;

/* pt_ckpt_start - open a second connection to path and start the thread; then install it on
 * db (the writer's connection) with sqlite3_wal_hook, replacing SQLite's auto-checkpoint.
 * On failure db keeps SQLite's own checkpoints and the error says why. */
pt_ckpt *pt_ckpt_start(sqlite3 *db, const char *path, cmk_err *err);

/* pt_ckpt_stop - stop the thread (after its checkpoint, if one runs) and close its connection;
 * call before closing db. NULL-safe; nulls the pointer. */
void pt_ckpt_stop(pt_ckpt **self_p);

/* pt_ckpt_count - checkpoints done on the thread and by the writer so far (tests) */
void pt_ckpt_count(pt_ckpt *self, long *on_thread, long *inline_done);

#endif
