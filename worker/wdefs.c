/*
 * wdefs.c - a worker's parsed flow definitions per flow version (see wdefs.h).
 */
#include "wdefs.h"

#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/util.h"

#define WDEFS_MAX 4096 /* flows cached per environment; past it the cache starts again */

/* One flow version. */
typedef struct {
    partition_flow meta; /* clear metadata as read (name and signature not opened) */
    flowdef *fd;         /* the parsed definition (the cache's reference) */
} wdef;

struct wdefs {
    cmk_hmap *map; /* flow id -> wdef */
    uint64_t gen;  /* partition_flow_gen when filled */
};

/* wdefs_clear - drop every entry */
static void wdefs_clear(wdefs *self)
{
    size_t pos = 0;
    void *v;
    while (cmk_hmap_next(self->map, &pos, NULL, &v)) {
        wdef *d = v;
        flowdef_destroy(&d->fd);
        free(d);
    }
    cmk_hmap_destroy(&self->map);
    self->map = cmk_hmap_new();
}

/* wdefs_get - a flow's metadata and parsed definition, from the cache or the partition */
int wdefs_get(wdefs **cache, partition *part, const char *id, partition_flow *meta, flowdef **fd, cmk_err *err)
{
    wdefs *self = *cache;
    wdef *d;
    char *text = NULL;
    int rc;

    *fd = NULL;
    if (!self) {
        if (!(self = calloc(1, sizeof *self)) || !(self->map = cmk_hmap_new())) {
            free(self);
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        }
        self->gen = partition_flow_gen(part);
        *cache = self;
    }
    if (self->gen != partition_flow_gen(part) || cmk_hmap_count(self->map) >= WDEFS_MAX) {
        wdefs_clear(self);
        self->gen = partition_flow_gen(part);
        if (!self->map)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    if ((d = cmk_hmap_get(self->map, id))) {
        *meta = d->meta;
        *fd = flowdef_ref(d->fd);
        return 0;
    }
    if ((rc = partition_flow_get_ex(part, id, meta, &text, 0, err)) < 0)
        return rc;
    rc = flowdef_parse(text, strlen(text), fd, err);
    cmk_wipe_str(text, strlen(text));
    if (rc < 0)
        return rc;
    /* keep it for the next run of this version (not cached if memory is short: still correct) */
    if ((d = calloc(1, sizeof *d))) {
        d->meta = *meta;
        d->fd = flowdef_ref(*fd);
        if (cmk_hmap_put(self->map, id, d) < 0) {
            flowdef_destroy(&d->fd);
            free(d);
        }
    }
    return 0;
}

/* wdefs_destroy - drop the cache */
void wdefs_destroy(wdefs **self_p)
{
    if (!self_p || !*self_p)
        return;
    wdefs *self = *self_p;
    if (self->map) {
        size_t pos = 0;
        void *v;
        while (cmk_hmap_next(self->map, &pos, NULL, &v)) {
            wdef *d = v;
            flowdef_destroy(&d->fd);
            free(d);
        }
        cmk_hmap_destroy(&self->map);
    }
    free(self);
    *self_p = NULL;
}
