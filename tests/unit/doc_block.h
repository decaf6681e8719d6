/*
 * doc_block.h - for the suites that prove a generated block of a document is up to date
 * (ops_test.c: the operation table, fields_test.c: the field table; included by each, once):
 * the text of docs/PROTOCOL.md between a `<!-- NAME:begin ...` line and `<!-- NAME:end -->`.
 */
#ifndef CMK_TEST_DOC_BLOCK_H
#define CMK_TEST_DOC_BLOCK_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

/* doc_block - the block NAME of the project's document doc (e.g. "docs/PROTOCOL.md"), malloc'd */
static char *doc_block(const char *doc, const char *name)
{
    char path[4096], marker[128], *text = NULL, *begin, *end;
    size_t len = 0;
    cmk_err err = CMK_ERR_INIT;

    snprintf(path, sizeof path, "%s/%s", CMK_SOURCE_DIR, doc);
    ck_assert_msg(cmk_file_read(path, &text, &len, &err) == 0, "%s", err.msg);
    snprintf(marker, sizeof marker, "<!-- %s:begin", name);
    begin = strstr(text, marker);
    ck_assert_msg(begin != NULL, "%s has no %s marker", doc, marker);
    begin = strchr(begin, '\n') + 1;
    snprintf(marker, sizeof marker, "<!-- %s:end -->", name);
    end = strstr(begin, marker);
    ck_assert_msg(end != NULL, "%s has no %s marker", doc, marker);
    *end = '\0';
    memmove(text, begin, strlen(begin) + 1);
    return text;
}

#endif
