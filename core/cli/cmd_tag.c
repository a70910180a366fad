/* `berth tag SOURCE TARGET`: give an image another name. */
#include "cli.h"
#include "base/err.h"
#include "image/image.h"
#include "image/store.h"

#include <stdio.h>

const struct cli_opt cmd_tag_opts[] = {
	{ 0, 0, NULL, NULL, NULL },
};

int cmd_tag(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *dreg = ctx->cfg.daemon.default_registry, *value;
	char key[STORE_REF_NAME_MAX + 1], dk[DIGEST_STR_SIZE];
	struct store_refs refs = { 0 };
	struct berr *err = NULL;
	struct img_match m;
	struct args a;
	int id, lock, ret = -1;

	args_init(&a, cmd_tag_opts, argc, argv, "berth tag");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("tag"), stdout);
			return EXIT_OK;
		}
	}
	if (argc - a.i != 2) {
		berr_usage(&err, "`berth tag` requires exactly 2 arguments: SOURCE_IMAGE TARGET_IMAGE[:TAG]");
		return berr_report(err);
	}
	if (img_name_key(argv[a.i + 1], dreg, key, sizeof(key), &err) < 0)
		return berr_report(err);
	lock = store_refs_lock(&err);
	if (lock < 0)
		return berr_report(err);
	if (store_refs_load(&refs, &err) < 0 ||
	    img_resolve(&refs, argv[a.i], dreg, &m, &err) < 0 ||
	    store_refs_set(&refs, key, &m.top, -1, &err) < 0)
		goto out;
	/* A named image is no longer dangling. */
	img_dangling_key(&m.top, dk);
	store_refs_remove(&refs, dk);
	ret = store_refs_save(&refs, &err);
out:
	store_refs_free(&refs);
	store_refs_unlock(lock);
	return ret < 0 ? berr_report(err) : EXIT_OK;
}
