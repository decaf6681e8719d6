/*
 * suggest.h - "did you mean ...?": the known word nearest to a mistyped one, by edit distance
 * (cmkctl, cmk-bench and cmk-firewall name it in their unknown-option errors).
 */
#ifndef CMK_SUGGEST_H
#define CMK_SUGGEST_H

#include <stddef.h>

/* cmk_edit_distance - Levenshtein distance of two words of up to 126 characters ((size_t)-1
 * for longer ones); an and bn are their lengths to compare */
size_t cmk_edit_distance(const char *a, size_t an, const char *b, size_t bn);

/* cmk_closest - the candidate nearest to word[0..n), or NULL if none is within a third of its
 * length (at least 2 edits). candidates ends with NULL when count is 0, else has count entries. */
const char *cmk_closest(const char *word, size_t n, const char *const *candidates, size_t count);

#endif
