/*
 * cli_spec_test.c - cmkctl's option tables (cli/cli_spec.c) are whole and consistent: every
 * command has rows and every row a command; flags have no value, values have a name, choices
 * list their values, numbers parse their range, defaults of choices are among them; no option
 * twice in a row; and the closest-word suggestion picks the near option and nothing far.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

START_TEST(test_commands_and_rows_match)
{
    for (const cli_cmd *c = cli_commands(); c->name; c++) {
        int rows = 0;
        for (const cli_usage *u = cli_usages(); u->cmd; u++)
            rows += strcmp(u->cmd, c->name) == 0;
        ck_assert_msg(rows > 0, "command %s has no option table", c->name);
        ck_assert_msg(c->fn && c->summary && *c->summary, "command %s lacks a function or summary", c->name);
        if (c->default_sub)
            ck_assert_msg(cli_usage_of(c->name, c->default_sub) != NULL, "%s: default %s has no row", c->name,
                          c->default_sub);
    }
    for (const cli_usage *u = cli_usages(); u->cmd; u++) {
        const cli_cmd *c = cli_commands();
        while (c->name && strcmp(c->name, u->cmd) != 0)
            c++;
        ck_assert_msg(c->name != NULL, "row %s %s names no command", u->cmd, u->sub ? u->sub : "");
        ck_assert_msg(u->summary && *u->summary && u->args && u->opts, "row %s %s is incomplete", u->cmd,
                      u->sub ? u->sub : "");
        ck_assert_msg(u->max_pos < 0 || u->min_pos <= u->max_pos, "row %s %s: min > max", u->cmd, u->sub);
    }
}
END_TEST

/* check_options - one table's rows */
static void check_options(const char *where, const cli_option *opts)
{
    for (const cli_option *op = opts; op->name; op++) {
        ck_assert_msg(strncmp(op->name, "--", 2) == 0, "%s: %s is not --name", where, op->name);
        ck_assert_msg(op->help && *op->help, "%s %s has no help", where, op->name);
        ck_assert_msg((op->type == CLI_T_FLAG) == (op->meta == NULL), "%s %s: a flag has no value name, "
                      "a value has one", where, op->name);
        if (op->type == CLI_T_ENUM) {
            ck_assert_msg(op->allowed && strchr(op->allowed, '|'), "%s %s: a choice lists its values", where, op->name);
            if (op->def) {
                char pad[256];
                snprintf(pad, sizeof pad, "|%s|", op->allowed);
                char want[96];
                snprintf(want, sizeof want, "|%s|", op->def);
                ck_assert_msg(strstr(pad, want) != NULL, "%s %s: default %s is not a choice", where, op->name, op->def);
            }
        }
        if (op->type == CLI_T_INT && op->allowed) {
            long long lo, hi;
            ck_assert_msg(sscanf(op->allowed, "%lld..%lld", &lo, &hi) == 2 && lo <= hi, "%s %s: range %s", where,
                          op->name, op->allowed);
        }
        for (const cli_option *o2 = op + 1; o2->name; o2++)
            ck_assert_msg(strcmp(op->name, o2->name) != 0, "%s: %s twice", where, op->name);
    }
}

START_TEST(test_option_rows_are_consistent)
{
    char where[96];
    check_options("global", cli_global_options());
    for (const cli_usage *u = cli_usages(); u->cmd; u++) {
        snprintf(where, sizeof where, "%s %s", u->cmd, u->sub ? u->sub : "");
        check_options(where, u->opts);
        for (const cli_option *op = u->opts; op->name; op++)
            for (const cli_option *g = cli_global_options(); g->name; g++)
                /* --version is global only before the command word (cli_main) */
                ck_assert_msg(strcmp(op->name, g->name) != 0 || strcmp(g->name, "--version") == 0,
                              "%s: %s hides the global option", where, op->name);
    }
}
END_TEST

START_TEST(test_closest)
{
    static const char *const names[] = { "--size", "--kty", "--ops", "--expires", "--tenant", "--run-dir" };
    ck_assert_str_eq(cli_closest("--sise", names, 6), "--size");
    ck_assert_str_eq(cli_closest("--tenat", names, 6), "--tenant");
    ck_assert_str_eq(cli_closest("--rundir", names, 6), "--run-dir");
    ck_assert_ptr_null(cli_closest("--frobnicate", names, 6));
    ck_assert_ptr_null(cli_closest("--x", names, 0));
}
END_TEST

/* cli_spec_suite - every case above */
static Suite *cli_spec_suite(void)
{
    Suite *s = suite_create("cli_spec");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_commands_and_rows_match);
    tcase_add_test(tc, test_option_rows_are_consistent);
    tcase_add_test(tc, test_closest);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero exit on failure */
int main(void)
{
    SRunner *sr = srunner_create(cli_spec_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
