/*
 * con_assets.c - lookup of the embedded static files (the table itself is generated from
 * console/www/ by console/embed.cmake into the build directory).
 */
#include "con_assets.h"

#include <string.h>

/* con_asset_find - by exact name */
const con_asset *con_asset_find(const char *name)
{
    for (const con_asset *a = con_assets; name && a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

/* con_asset_type - by extension */
const char *con_asset_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { ".html", "text/html; charset=utf-8" },   { ".css", "text/css; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" }, { ".svg", "image/svg+xml" },
        { ".png", "image/png" },                   { ".json", "application/json; charset=utf-8" },
    };
    const char *dot = name ? strrchr(name, '.') : NULL;
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}
