/* `berth keygen`: a new ECDSA P-256 key pair for signing images, as PEM files that berth,
 * openssl and cosign's verifier read (`P.key`, unencrypted SEC1; `P.pub`, SPKI). */
#include "cli.h"
#include "base/err.h"
#include "config.h"
#include "trust/keys.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { O_PREFIX = 1, O_FORCE };

const struct cli_opt cmd_keygen_opts[] = {
	{ O_PREFIX, 0, "output-key-prefix", "PREFIX",
	  "Write PREFIX.key and PREFIX.pub (default: cosign)" },
	{ O_FORCE, 'f', "force", NULL, "Overwrite existing key files" },
	{ 0, 0, NULL, NULL, NULL },
};

int cmd_keygen(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *prefix = "cosign", *value;
	struct berr *err = NULL;
	struct key *k = NULL;
	bool force = false;
	struct args a;
	int id;

	(void) ctx;
	args_init(&a, cmd_keygen_opts, argc, argv, "berth keygen");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("keygen"), stdout);
			return EXIT_OK;
		}
		if (id == O_PREFIX)
			prefix = value;
		else if (id == O_FORCE)
			force = true;
	}
	if (a.i != argc) {
		berr_usage(&err, "`berth keygen` takes no arguments");
		return berr_report(err);
	}
	if (!ENABLE_SIGNATURES) {
		berr_usage(&err, "this berth was built without signature support "
			   "(CONFIG_SIGNATURES is off): keygen is not available");
		return berr_report(err);
	}
	if (prefix[0] == '\0') {
		berr_usage(&err, "--output-key-prefix must not be empty");
		return berr_report(err);
	}
	if (key_generate(&k, &err) < 0 || key_write_pair(k, prefix, force, &err) < 0) {
		key_free(k);
		return berr_report(err);
	}
	printf("Private key written to %s.key\nPublic key written to %s.pub\nFingerprint: %s\n",
	       prefix, prefix, key_fingerprint(k));
	key_free(k);
	return EXIT_OK;
}
