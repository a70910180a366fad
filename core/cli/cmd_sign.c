/* `berth sign --key KEY IMAGE`: sign an image in its registry, in cosign's key-based format. */
#include "cli.h"
#include "base/err.h"
#include "config.h"
#include "image/ref.h"
#include "registry/sign.h"
#include "trust/keys.h"

#include <stdio.h>

enum { O_KEY = 1 };

const struct cli_opt cmd_sign_opts[] = {
	{ O_KEY, 0, "key", "FILE", "Private key (PEM, ECDSA P-256) to sign with, e.g. from "
	  "`berth keygen`" },
	{ 0, 0, NULL, NULL, NULL },
};

int cmd_sign(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *key_path = NULL, *value;
	char name[REF_STR_SIZE], ds[DIGEST_STR_SIZE];
	struct reg_sign_result res;
	struct berr *err = NULL;
	struct key *k = NULL;
	struct ref image;
	struct args a;
	int id, ret;

	args_init(&a, cmd_sign_opts, argc, argv, "berth sign");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("sign"), stdout);
			return EXIT_OK;
		}
		if (id == O_KEY)
			key_path = value;
	}
	if (!ENABLE_SIGNATURES) {
		berr_usage(&err, "this berth was built without signature support "
			   "(CONFIG_SIGNATURES is off): sign is not available");
		return berr_report(err);
	}
	if (key_path == NULL || argc - a.i != 1) {
		berr_usage(&err, "`berth sign` needs --key FILE and exactly one image (see "
			   "`berth sign --help`)");
		return berr_report(err);
	}
	if (ref_parse(argv[a.i], ctx->cfg.daemon.default_registry, 0, &image, &err) < 0)
		return berr_report(err);
	if (key_load_private_file(key_path, &k, &err) < 0)
		return berr_report(err);
	ret = reg_sign(&ctx->cfg, &image, k, &res, &err);
	key_free(k);
	if (ret < 0)
		return berr_report(err);
	ref_format(&image, REF_FAMILIAR_NAME, name, sizeof(name));
	printf("Signed %s\n", digest_format(&res.manifest, ds));
	if (res.already)
		printf("The same signature is already in %s\n", name);
	else
		printf("Pushed signature %zu of %zu to %s\n", res.n_signatures, res.n_signatures,
		       name);
	printf("Tag: %s\n", res.tag);
	return EXIT_OK;
}
