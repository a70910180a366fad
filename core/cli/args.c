/* Option parser for every command; see args.h for the syntax it accepts. */
#include "args.h"
#include "base/err.h"

#include <string.h>

void args_init(struct args *a, const struct cli_opt *opts, int argc, char **argv, const char *cmd)
{
	a->opts = opts;
	a->argc = argc;
	a->argv = argv;
	a->i = 1;
	a->cluster = NULL;
	a->cmd = cmd;
}

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t len)
{
	for (; opts->id; opts++)
		if (opts->long_name && strlen(opts->long_name) == len && strncmp(opts->long_name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
	for (; opts->id; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

int args_next(struct args *a, const char **value, struct berr **err)
{
	const struct cli_opt *o;
	const char *arg;

	*value = NULL;
	if (a->cluster && *a->cluster) {
		char c = *a->cluster++;
		o = find_short(a->opts, c);
		if (o == NULL)
			return berr_usage(err, "unknown option `-%c`; see `%s --help`", c, a->cmd);
		if (o->arg) {
			if (*a->cluster) {
				*value = a->cluster;
			} else if (a->i < a->argc) {
				*value = a->argv[a->i++];
			} else {
				return berr_usage(err, "option `-%c` needs a value (%s)", c, o->arg);
			}
			a->cluster = NULL;
		}
		return o->id;
	}
	a->cluster = NULL;
	if (a->i >= a->argc)
		return ARGS_DONE;
	arg = a->argv[a->i];
	if (arg[0] != '-' || arg[1] == '\0') /* an operand, or "-" (stdin) */
		return ARGS_DONE;
	if (strcmp(arg, "--") == 0) {
		a->i++;
		return ARGS_DONE;
	}
	a->i++;
	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t) (eq - name) : strlen(name);

		o = find_long(a->opts, name, len);
		if (o == NULL) {
			if (len == 4 && strncmp(name, "help", 4) == 0 && !eq)
				return ARGS_HELP;
			return berr_usage(err, "unknown option `--%.*s`; see `%s --help`", (int) len, name, a->cmd);
		}
		if (o->arg == NULL) {
			if (eq)
				return berr_usage(err, "option `--%s` takes no value", o->long_name);
			return o->id;
		}
		if (eq) {
			*value = eq + 1;
		} else if (a->i < a->argc) {
			*value = a->argv[a->i++];
		} else {
			return berr_usage(err, "option `--%s` needs a value (%s)", o->long_name, o->arg);
		}
		return o->id;
	}
	a->cluster = arg + 1;
	return args_next(a, value, err);
}

/* Print `text` from column `indent`, breaking at spaces before column 80. */
static void print_wrapped(FILE *out, const char *text, int indent)
{
	const int width = 80 - indent;

	while ((int) strlen(text) > width) {
		int cut = width;
		while (cut > 0 && text[cut] != ' ')
			cut--;
		if (cut == 0)
			break; /* one long word: let it overflow rather than split it */
		fprintf(out, "%.*s\n%*s", cut, text, indent, "");
		text += cut + 1;
	}
	fprintf(out, "%s\n", text);
}

void args_print_usage(FILE *out, const char *usage, const char *summary, const struct cli_opt *opts)
{
	fprintf(out, "Usage: %s\n\n%s\n", usage, summary);
	if (opts == NULL || opts->id == 0)
		return;
	fprintf(out, "\nOptions:\n");
	for (; opts->id; opts++) {
		char left[64];
		int n;

		n = snprintf(left, sizeof(left), "  %c%c%s%s%s%s%s", opts->short_name ? '-' : ' ',
			     opts->short_name ? opts->short_name : ' ',
			     opts->short_name && opts->long_name ? ", " : "  ",
			     opts->long_name ? "--" : "", opts->long_name ? opts->long_name : "",
			     opts->arg ? " " : "", opts->arg ? opts->arg : "");
		if (n < 0)
			continue;
		/* Help text starts at column 30 and wraps at 80; a long option gets its own line. */
		if (n <= 28)
			fprintf(out, "%-30s", left);
		else
			fprintf(out, "%s\n%30s", left, "");
		print_wrapped(out, opts->help, 30);
	}
}
