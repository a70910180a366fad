/* Command-line option parsing with Docker's manners: `--name value`, `--name=value`, `-n value`,
 * `-nvalue`, clustered flags (`-it`), `--` ends options, the first operand ends options (so
 * `berth run IMG ls -l` passes `-l` to the container). Usage text comes from the same table. */
#ifndef BERTH_ARGS_H
#define BERTH_ARGS_H

#include <stdio.h>

struct berr;

struct cli_opt {
	int id;                 /* > 0, returned by args_next */
	char short_name;        /* 0 if none */
	const char *long_name;  /* NULL if none */
	const char *arg;        /* metavar if the option takes a value ("string", "DIR"), else NULL */
	const char *help;
};

enum { ARGS_DONE = 0, ARGS_HELP = -2 };

struct args {
	const struct cli_opt *opts; /* not owned; terminated by an entry with id 0 */
	int argc;
	char **argv;                /* not owned */
	int i;                      /* next argv index; after ARGS_DONE, the first operand */
	const char *cluster;        /* rest of a short-option cluster being parsed */
	const char *cmd;            /* for messages: "berth run" */
};

void args_init(struct args *a, const struct cli_opt *opts, int argc, char **argv, const char *cmd);

/* Next option: its id (and *value for options with a value), ARGS_DONE when the operands
 * start at a->i, ARGS_HELP for --help, or -1 with a usage error. */
int args_next(struct args *a, const char **value, struct berr **err);

/* Print "Usage: <usage>\n\n<summary>\n\nOptions:\n..." fitting 80 columns. */
void args_print_usage(FILE *out, const char *usage, const char *summary, const struct cli_opt *opts);

#endif
