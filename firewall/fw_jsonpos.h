/*
 * fw_jsonpos.h - where in a JSON text a value lives, for error messages with line numbers.
 *
 * cJSON reports no positions. These helpers scan the raw text instead: the line and column of
 * a byte offset (for syntax errors, from cJSON_GetErrorPtr), and the offset of the value at a
 * path such as "rules[3].source[1]" (for semantic errors found after parsing). The path
 * scanner expects text that cJSON has already accepted; on anything else it gives up quietly.
 *
 *   int line = fw_jsonpos_line(text, len, "rules[2].port");   // 0 when not found
 */
#ifndef CMK_FW_JSONPOS_H
#define CMK_FW_JSONPOS_H

#include <stddef.h>

/* fw_jsonpos_line_col - 1-based line and column of byte offset in text (clamped to len) */
void fw_jsonpos_line_col(const char *text, size_t len, size_t offset, int *line, int *col);

/* fw_jsonpos_find - byte offset of the value at path ("a.b[2].c"; "" is the root), or -1.
 * When the full path is missing, *found_depth (may be NULL) tells how many segments matched
 * and the offset of the deepest matched value is returned instead (-1 only if none). */
long fw_jsonpos_find(const char *text, size_t len, const char *path, int *found_depth);

/* fw_jsonpos_line - line of the value at path, or of its deepest existing parent; 0 if none */
int fw_jsonpos_line(const char *text, size_t len, const char *path);

#endif
