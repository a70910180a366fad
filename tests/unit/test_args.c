/* Unit tests for core/cli/args.c: every argv shape the commands accept, the usage errors, and
 * the usage text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/args.h"

enum { O_INTERACTIVE = 1, O_TTY, O_VOLUME, O_NAME, O_DETACH, O_LONGONLY, O_ENV, O_RM, O_SHORTONLY };

static const struct cli_opt opts[] = {
	{ O_INTERACTIVE, 'i', "interactive", NULL, "Keep stdin open" },
	{ O_TTY, 't', "tty", NULL, "Allocate a terminal" },
	{ O_VOLUME, 'v', "volume", "SRC:DST", "Bind mount a volume" },
	{ O_NAME, 0, "name", "string", "Name the container" },
	{ O_DETACH, 'd', "detach", NULL, "Run in the background" },
	{ O_LONGONLY, 0, "a-rather-long-option-name", "VALUE", "An option whose name pushes the help down" },
	{ O_ENV, 'e', "env", "KEY=VALUE", "Set an environment variable" },
	{ O_RM, 0, "rm", NULL, "Remove the container when it exits" },
	{ O_SHORTONLY, 'x', NULL, NULL, "A short-only flag" },
	{ 0, 0, NULL, NULL, NULL },
};

struct step {
	int id;
	const char *value; /* NULL: no value expected */
};

/* Parse `argv` (NULL-terminated, argv[0] included), expect the steps in order, then ARGS_DONE
 * with a->i at `operand`. */
static void expect_parse(const char **argv_c, const struct step *steps, size_t n, int operand)
{
	char **argv = (char **) argv_c;
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int argc = 0, id;

	while (argv[argc])
		argc++;
	args_init(&a, opts, argc, argv, "berth run");
	for (size_t s = 0; s < n; s++) {
		id = args_next(&a, &value, &err);
		if (err)
			fail_msg("step %zu: unexpected error: %s", s, err->msg);
		assert_int_equal(id, steps[s].id);
		if (steps[s].value == NULL)
			assert_null(value);
		else {
			assert_non_null(value);
			assert_string_equal(value, steps[s].value);
		}
	}
	id = args_next(&a, &value, &err);
	assert_null(err);
	assert_int_equal(id, ARGS_DONE);
	assert_int_equal(a.i, operand);
}

/* Parse until the first error; it must be a usage error whose message contains `want`. */
static void expect_error(const char **argv_c, const char *want)
{
	char **argv = (char **) argv_c;
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int argc = 0, id, guard = 0;

	while (argv[argc])
		argc++;
	args_init(&a, opts, argc, argv, "berth run");
	while ((id = args_next(&a, &value, &err)) > 0 && guard++ < 100)
		;
	assert_int_equal(id, -1);
	assert_non_null(err);
	assert_int_equal(err->status, EXIT_USAGE);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error `%s` does not contain `%s`", err->msg, want);
	berr_free(err);
}

#define STEPS(...) ((const struct step[]){ __VA_ARGS__ })
#define N(...) (sizeof((const struct step[]){ __VA_ARGS__ }) / sizeof(struct step))
#define PARSE(argv, operand, ...) expect_parse((argv), STEPS(__VA_ARGS__), N(__VA_ARGS__), (operand))

static void test_no_arguments(void **state)
{
	const char *argv[] = { "run", NULL };

	(void) state;
	expect_parse(argv, NULL, 0, 1);
}

static void test_long_with_equals_and_separate(void **state)
{
	const char *a1[] = { "run", "--name=web", "img", NULL };
	const char *a2[] = { "run", "--name", "web", "img", NULL };
	const char *a3[] = { "run", "--name=", "img", NULL };
	const char *a4[] = { "run", "--env=A=B=C", "img", NULL };
	const char *a5[] = { "run", "--name", "--rm", "img", NULL }; /* a value may start with '-' */

	(void) state;
	PARSE(a1, 2, { O_NAME, "web" });
	PARSE(a2, 3, { O_NAME, "web" });
	PARSE(a3, 2, { O_NAME, "" });
	PARSE(a4, 2, { O_ENV, "A=B=C" });
	PARSE(a5, 3, { O_NAME, "--rm" });
}

static void test_short_attached_and_separate(void **state)
{
	const char *a1[] = { "run", "-v/a:/b", "img", NULL };
	const char *a2[] = { "run", "-v", "/a:/b", "img", NULL };
	const char *a3[] = { "run", "-eA=1", "-e", "B=2", "img", NULL };

	(void) state;
	PARSE(a1, 2, { O_VOLUME, "/a:/b" });
	PARSE(a2, 3, { O_VOLUME, "/a:/b" });
	PARSE(a3, 4, { O_ENV, "A=1" }, { O_ENV, "B=2" });
}

static void test_clustered_flags(void **state)
{
	const char *a1[] = { "run", "-it", "img", NULL };
	const char *a2[] = { "run", "-dit", "-x", "img", NULL };

	(void) state;
	PARSE(a1, 2, { O_INTERACTIVE, NULL }, { O_TTY, NULL });
	PARSE(a2, 3, { O_DETACH, NULL }, { O_INTERACTIVE, NULL }, { O_TTY, NULL },
	      { O_SHORTONLY, NULL });
}

static void test_cluster_ending_in_value_option(void **state)
{
	const char *a1[] = { "run", "-itv", "x", "img", NULL };
	const char *a2[] = { "run", "-ivx", "img", NULL };
	const char *a3[] = { "run", "-ivt", "img", NULL }; /* "t" is -v's value, not a flag */

	(void) state;
	PARSE(a1, 3, { O_INTERACTIVE, NULL }, { O_TTY, NULL }, { O_VOLUME, "x" });
	PARSE(a2, 2, { O_INTERACTIVE, NULL }, { O_VOLUME, "x" });
	PARSE(a3, 2, { O_INTERACTIVE, NULL }, { O_VOLUME, "t" });
}

static void test_double_dash_ends_options(void **state)
{
	const char *a1[] = { "run", "-d", "--", "-i", "img", NULL };
	const char *a2[] = { "run", "--", NULL };
	const char *a3[] = { "run", "--", "--", NULL };

	(void) state;
	PARSE(a1, 3, { O_DETACH, NULL });
	PARSE(a2, 2);
	PARSE(a3, 2);
}

static void test_first_operand_ends_options(void **state)
{
	const char *a1[] = { "run", "-d", "img", "ls", "-l", NULL };
	const char *a2[] = { "run", "img", "--rm", NULL };

	(void) state;
	PARSE(a1, 2, { O_DETACH, NULL });
	assert_string_equal(a1[2], "img");
	assert_string_equal(a1[4], "-l");
	PARSE(a2, 1);
}

static void test_dash_is_an_operand(void **state)
{
	const char *a1[] = { "run", "--rm", "-", "-d", NULL };

	(void) state;
	PARSE(a1, 2, { O_RM, NULL });
}

static void test_help(void **state)
{
	const char *a1[] = { "run", "--help", NULL };
	const char *a2[] = { "run", "-d", "--help", "img", NULL };
	char **argv = (char **) a2;
	struct berr *err = NULL;
	const char *value;
	struct args a;

	(void) state;
	args_init(&a, opts, 2, (char **) a1, "berth run");
	assert_int_equal(args_next(&a, &value, &err), ARGS_HELP);
	assert_null(err);

	args_init(&a, opts, 4, argv, "berth run");
	assert_int_equal(args_next(&a, &value, &err), O_DETACH);
	assert_int_equal(args_next(&a, &value, &err), ARGS_HELP);
	assert_null(err);
}

static void test_unknown_options(void **state)
{
	const char *a1[] = { "run", "--bogus", "img", NULL };
	const char *a2[] = { "run", "--bogus=1", "img", NULL };
	const char *a3[] = { "run", "-q", "img", NULL };
	const char *a4[] = { "run", "-itq", "img", NULL };
	const char *a5[] = { "run", "--help=yes", NULL };
	const char *a6[] = { "run", "--nam", "x", NULL }; /* no prefix matching */

	(void) state;
	expect_error(a1, "unknown option `--bogus`");
	expect_error(a1, "`berth run --help`");
	expect_error(a2, "unknown option `--bogus`");
	expect_error(a3, "unknown option `-q`");
	expect_error(a4, "unknown option `-q`");
	expect_error(a5, "unknown option `--help`");
	expect_error(a6, "unknown option `--nam`");
}

static void test_missing_values(void **state)
{
	const char *a1[] = { "run", "--name", NULL };
	const char *a2[] = { "run", "-v", NULL };
	const char *a3[] = { "run", "-itv", NULL };
	const char *a4[] = { "run", "-d", "--env", NULL };

	(void) state;
	expect_error(a1, "option `--name` needs a value (string)");
	expect_error(a2, "option `-v` needs a value (SRC:DST)");
	expect_error(a3, "option `-v` needs a value");
	expect_error(a4, "option `--env` needs a value (KEY=VALUE)");
}

static void test_value_given_to_a_flag(void **state)
{
	const char *a1[] = { "run", "--rm=yes", "img", NULL };
	const char *a2[] = { "run", "--detach=", "img", NULL };

	(void) state;
	expect_error(a1, "option `--rm` takes no value");
	expect_error(a2, "option `--detach` takes no value");
}

static void test_usage_text(void **state)
{
	char *text = NULL, *line, *save = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	(void) state;
	assert_non_null(out);
	args_print_usage(out, "berth run [OPTIONS] IMAGE [COMMAND] [ARG...]",
			 "Create and start a container.", opts);
	fclose(out);

	{
		static const char head[] = "Usage: berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
					   "Create and start a container.\n\nOptions:\n";
		assert_memory_equal(text, head, sizeof(head) - 1);
	}
	for (const struct cli_opt *o = opts; o->id; o++) {
		char want[80];
		if (o->long_name) {
			snprintf(want, sizeof(want), "--%s", o->long_name);
			assert_non_null(strstr(text, want));
		}
		if (o->short_name) {
			snprintf(want, sizeof(want), "-%c", o->short_name);
			assert_non_null(strstr(text, want));
		}
		if (o->arg)
			assert_non_null(strstr(text, o->arg));
		assert_non_null(strstr(text, o->help));
	}
	assert_non_null(strstr(text, "  -i, --interactive"));
	assert_non_null(strstr(text, "  -v, --volume SRC:DST"));
	assert_non_null(strstr(text, "      --name string"));
	assert_non_null(strstr(text, "  -x  "));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strlen(line) > 80)
			fail_msg("line longer than 80 columns: `%s`", line);
	free(text);
}

static void test_usage_text_without_options(void **state)
{
	static const struct cli_opt none[] = { { 0, 0, NULL, NULL, NULL } };
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	(void) state;
	assert_non_null(out);
	args_print_usage(out, "berth version", "Print the version.", none);
	args_print_usage(out, "berth version", "Print the version.", NULL);
	fclose(out);
	assert_string_equal(text, "Usage: berth version\n\nPrint the version.\n"
				  "Usage: berth version\n\nPrint the version.\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_arguments),
		cmocka_unit_test(test_long_with_equals_and_separate),
		cmocka_unit_test(test_short_attached_and_separate),
		cmocka_unit_test(test_clustered_flags),
		cmocka_unit_test(test_cluster_ending_in_value_option),
		cmocka_unit_test(test_double_dash_ends_options),
		cmocka_unit_test(test_first_operand_ends_options),
		cmocka_unit_test(test_dash_is_an_operand),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_unknown_options),
		cmocka_unit_test(test_missing_values),
		cmocka_unit_test(test_value_given_to_a_flag),
		cmocka_unit_test(test_usage_text),
		cmocka_unit_test(test_usage_text_without_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
