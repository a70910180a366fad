/* `berth store verify [--repair]`: check the store on flash; exit 1 if anything is wrong. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "image/verify.h"

#include <stdio.h>
#include <string.h>

enum { O_REPAIR = 1 };

const struct cli_opt cmd_store_opts[] = {
	{ O_REPAIR, 0, "repair", NULL, "Remove corrupt blobs and layers and tmp/ leftovers "
	  "(refs stay, reported as broken)" },
	{ 0, 0, NULL, NULL, NULL },
};

static const char *const kind_names[] = { "blob", "layer", "image", "tmp", "note" };

/* Words of `text` then `tail`, wrapped at 80 columns with a 6-column indent after the
 * first line (a serial console does not scroll sideways). */
static void print_wrapped(size_t col, const char *text, const char *tail)
{
	char buf[1024];
	const char *p = buf;

	snprintf(buf, sizeof(buf), "%s%s", text, tail);
	while (*p) {
		size_t w = strcspn(p, " ");
		if (col + 1 + w > 80 && col > 6) {
			printf("\n     ");
			col = 5;
		}
		printf(" %.*s", (int) w, p);
		col += 1 + w;
		p += w;
		while (*p == ' ')
			p++;
	}
	printf("\n");
}

static void on_report(void *data, enum verify_kind kind, const char *subject, const char *problem,
		      bool repaired)
{
	char subj[40];

	(void) data;
	/* Digests shortened to fit the console; the hex prefix is unique in practice. */
	if (str_has_prefix(subject, "sha256:"))
		snprintf(subj, sizeof(subj), "%.19s", subject);
	else if (strlen(subject) == 64)
		snprintf(subj, sizeof(subj), "%.12s", subject);
	else
		snprintf(subj, sizeof(subj), "%s", subject);
	printf("%-5s %s:", kind_names[kind], subj);
	print_wrapped(6 + strlen(subj) + 1, problem, repaired ? " (removed)" : "");
}

int cmd_store(struct cli_ctx *ctx, int argc, char **argv)
{
	struct verify_opts o = { .report = on_report };
	struct verify_stats st;
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int id;

	(void) ctx;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fprintf(argc < 2 ? stderr : stdout, "Usage: berth store COMMAND\n\nManage the image store "
			"on flash\n\nCommands:\n  verify    Check blobs, layers and refs; --repair "
			"removes what is corrupt\n");
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "verify") != 0) {
		berr_usage(&err, "unknown command `berth store %s`; see `berth store --help`", argv[1]);
		return berr_report(err);
	}
	args_init(&a, cmd_store_opts, argc - 1, argv + 1, "berth store verify");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			args_print_usage(stdout, "berth store verify [OPTIONS]",
					 "Check every blob, layer file and ref; "
					 "exit 1 if anything is wrong", cmd_store_opts);
			return EXIT_OK;
		}
		if (id == O_REPAIR)
			o.repair = true;
	}
	if (a.i < argc - 1) {
		berr_usage(&err, "`berth store verify` takes no arguments");
		return berr_report(err);
	}
	if (verify_store(&o, &st, &err) < 0)
		return berr_report(err);
	printf("berth store verify: %zu blobs, %zu layers, %zu images; %zu problem%s", st.blobs,
	       st.layers, st.images, st.problems, st.problems == 1 ? "" : "s");
	if (o.repair)
		printf(", %zu repaired", st.repaired);
	printf("\n");
	/* After a repair, what is left wrong (broken refs, mounted layers) still fails. */
	return st.problems > st.repaired ? EXIT_FAILED : (st.problems && !o.repair ? EXIT_FAILED : EXIT_OK);
}
