/*
 * suggest.c - the closest known word to a mistyped one (see suggest.h).
 */
#include "suggest.h"

#include <string.h>

/* cmk_edit_distance - one-row dynamic programming */
size_t cmk_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[128];
    if (la >= 127 || lb >= 127)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* cmk_closest - nearest candidate within the limit */
const char *cmk_closest(const char *word, size_t n, const char *const *candidates, size_t count)
{
    const char *best = NULL;
    size_t bd = (size_t)-1, limit = n / 3 < 2 ? 2 : n / 3;
    for (size_t i = 0; count ? i < count : candidates[i] != NULL; i++) {
        size_t d = cmk_edit_distance(word, n, candidates[i], strlen(candidates[i]));
        if (d < bd) {
            bd = d;
            best = candidates[i];
        }
    }
    return bd <= limit ? best : NULL;
}
