/* `berth verify`: check an image signature offline, from files: the signature manifest (as
 * stored under the `sha256-<hex>.sig` tag), its payload blob(s) and a public key. For tests
 * and for technicians; pulls verify through trust_check with the same code. */
#include "cli.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"
#include "config.h"
#include "image/digest.h"
#include "image/ref.h"
#include "trust/keys.h"
#include "trust/policy.h"
#include "trust/sig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_KEY = 1, O_SIGNATURE, O_PAYLOAD, O_DIGEST };

#define VERIFY_FILES_MAX 16

const struct cli_opt cmd_verify_opts[] = {
	{ O_KEY, 'k', "key", "FILE", "Public key PEM (repeatable; any key may verify)" },
	{ O_SIGNATURE, 's', "signature", "FILE", "Signature manifest (JSON)" },
	{ O_PAYLOAD, 'p', "payload", "FILE", "Payload blob the manifest names (repeatable)" },
	{ O_DIGEST, 'd', "digest", "DIGEST",
	  "Manifest digest of the image (default: IMAGE's @digest)" },
	{ 0, 0, NULL, NULL, NULL },
};

struct payload_file {
	const char *path;
	char *data;
	size_t len;
	struct digest digest;
};

struct payloads {
	struct payload_file files[VERIFY_FILES_MAX];
	size_t n;
};

static int fetch_payload(void *opaque, const struct digest *digest, uint64_t size, char **data,
			 size_t *len, struct berr **err)
{
	struct payloads *p = opaque;
	char ds[DIGEST_STR_SIZE];

	(void) size;
	for (size_t i = 0; i < p->n; i++) {
		if (!digest_equal(&p->files[i].digest, digest))
			continue;
		*data = xmalloc(p->files[i].len + 1);
		memcpy(*data, p->files[i].data, p->files[i].len);
		*len = p->files[i].len;
		return 0;
	}
	return berr_make(err, ENOENT, "no --payload file has digest `%s`",
			 digest_format(digest, ds));
}

static int run_verify(const char **key_paths, size_t n_keys, const char *sig_path,
		      struct payloads *pl, const char *digest_arg, const char *image_arg,
		      struct berr **err)
{
	_cleanup_free_ char *sig = NULL;
	struct key_list keys = { 0 };
	struct trust_result res;
	struct digest d;
	struct ref r;
	size_t sig_len;
	int ret = -1;

	if (ref_parse(image_arg, NULL, 0, &r, err) < 0)
		return -1;
	if (digest_arg) {
		if (digest_parse(digest_arg, "--digest", &d, err) < 0)
			return berr_usage(err, "bad --digest `%s`", digest_arg);
		if (digest_is_set(&r.digest) && !digest_equal(&r.digest, &d))
			return berr_usage(err, "--digest `%s` differs from the digest in `%s`",
					  digest_arg, image_arg);
	} else if (digest_is_set(&r.digest)) {
		d = r.digest;
	} else {
		return berr_usage(err, "give the manifest digest: --digest sha256:... or IMAGE@sha256:...");
	}
	for (size_t i = 0; i < n_keys; i++)
		if (key_load_public_file(key_paths[i], &keys, err) < 0)
			goto out;
	if (fs_read_file(sig_path, SIG_MANIFEST_MAX, &sig, &sig_len, err) < 0) {
		berr_wrap(err, "signature manifest");
		goto out;
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct payload_file *f = &pl->files[i];
		if (fs_read_file(f->path, SIG_PAYLOAD_MAX, &f->data, &f->len, err) < 0 ||
		    digest_buffer(f->data, f->len, &f->digest, err) < 0) {
			berr_wrap(err, "payload");
			goto out;
		}
	}
	if (trust_verify(&r, &d, sig, sig_len, fetch_payload, pl, keys.keys, keys.n, &res, err) < 0)
		goto out;
	printf("Verified OK: signature %zu by `%s` (%s)\n", res.layer + 1, key_name(res.key),
	       key_fingerprint(res.key));
	ret = 0;
out:
	key_list_free(&keys);
	return ret;
}

int cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *keys[VERIFY_FILES_MAX], *sig = NULL, *digest = NULL, *value;
	struct payloads pl = { .n = 0 };
	struct berr *err = NULL;
	size_t n_keys = 0;
	struct args a;
	int id, ret;

	(void) ctx;
	args_init(&a, cmd_verify_opts, argc, argv, "berth verify");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("verify"), stdout);
			return EXIT_OK;
		}
		if (id == O_KEY || id == O_PAYLOAD) {
			size_t *n = id == O_KEY ? &n_keys : &pl.n;
			if (*n >= VERIFY_FILES_MAX) {
				berr_usage(&err, "at most %d --%s options", VERIFY_FILES_MAX,
					   id == O_KEY ? "key" : "payload");
				return berr_report(err);
			}
			if (id == O_KEY)
				keys[n_keys++] = value;
			else
				pl.files[pl.n++].path = value;
		} else if (id == O_SIGNATURE) {
			sig = value;
		} else if (id == O_DIGEST) {
			digest = value;
		}
	}
	if (argc - a.i != 1) {
		berr_usage(&err, "`berth verify` requires exactly 1 argument: IMAGE");
		return berr_report(err);
	}
	if (n_keys == 0 || sig == NULL) {
		berr_usage(&err, "`berth verify` needs --key and --signature");
		return berr_report(err);
	}
	if (!ENABLE_SIGNATURES) {
		berr_usage(&err, "this berth was built without signature support "
			   "(CONFIG_SIGNATURES is off): verify is not available");
		return berr_report(err);
	}
	ret = run_verify(keys, n_keys, sig, &pl, digest, argv[a.i], &err);
	for (size_t i = 0; i < pl.n; i++)
		free(pl.files[i].data);
	return ret < 0 ? berr_report(err) : EXIT_OK;
}
