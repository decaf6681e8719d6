/*
 * con_assets.h - the console's static files (console/www/), embedded into the binary at build
 * time by console/embed.cmake, so the console needs no install step, no file lookup and no
 * network: the page works offline.
 */
#ifndef CMK_CON_ASSETS_H
#define CMK_CON_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *name;          /* "index.html" */
    const unsigned char *data; /* its bytes */
    size_t len;
} con_asset;

/* con_assets - the files, ended by an entry with name NULL (generated) */
extern const con_asset con_assets[];

/* con_asset_find - a file by name, NULL if none */
const con_asset *con_asset_find(const char *name);

/* con_asset_type - the Content-Type for a file name */
const char *con_asset_type(const char *name);

#endif
