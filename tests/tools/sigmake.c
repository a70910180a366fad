/* Test driver: signs an image offline through the public API (trust/sig.h), so the system
 * tests can check signatures berth made before `berth sign` pushes them to a registry.
 * Usage: sigmake KEY REFERENCE DIGEST OUTDIR
 * Writes OUTDIR/payload.json, sig.b64 (the annotation value), sig.der, config.json and
 * manifest.json (the signature manifest). Exit 0, or 125 with the message on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"
#include "image/digest.h"
#include "trust/keys.h"
#include "trust/sig.h"

static int put(const char *dir, const char *name, const void *data, size_t len,
	       struct berr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);

	return fs_write_atomic(path, data, len, 0644, err);
}

int main(int argc, char **argv)
{
	unsigned char der[SIG_DER_MAX];
	struct sig_documents docs = { 0 };
	struct sig_layer layer = { 0 };
	struct berr *err = NULL;
	struct key *k = NULL;
	char *payload = NULL;
	size_t len, der_len;
	struct digest d;
	int ret = 125;

	if (argc != 5) {
		fprintf(stderr, "usage: sigmake KEY REFERENCE DIGEST OUTDIR\n");
		return 2;
	}
	if (key_load_private_file(argv[1], &k, &err) < 0 ||
	    digest_parse(argv[3], NULL, &d, &err) < 0 ||
	    sig_payload_build(argv[2], &d, &payload, &len, &err) < 0 ||
	    sig_sign(k, payload, len, &layer.signature, &err) < 0 ||
	    sig_decode(layer.signature, der, &der_len, &err) < 0 ||
	    digest_buffer(payload, len, &layer.payload, &err) < 0)
		goto out;
	layer.payload_size = len;
	if (sig_manifest_build(&layer, 1, &docs, &err) < 0 ||
	    put(argv[4], "payload.json", payload, len, &err) < 0 ||
	    put(argv[4], "sig.b64", layer.signature, strlen(layer.signature), &err) < 0 ||
	    put(argv[4], "sig.der", der, der_len, &err) < 0 ||
	    put(argv[4], "config.json", docs.config, docs.config_len, &err) < 0 ||
	    put(argv[4], "manifest.json", docs.manifest, docs.manifest_len, &err) < 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "sigmake: %s\n", err ? err->msg : "failed");
	berr_free(err);
	sig_documents_free(&docs);
	free(layer.signature);
	free(payload);
	key_free(k);
	return ret;
}
