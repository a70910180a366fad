/* libFuzzer target for signature manifests and their annotations (core/trust/sig.c,
 * sig_manifest_parse and sig_decode) and for trust_verify over them, with the input's tail
 * served as every payload blob. The key below signed the seed corpus's payload, but for
 * another manifest than the one verified here, so verification reaches the payload check and
 * must still always fail, with an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "image/ref.h"
#include "trust/keys.h"
#include "trust/policy.h"
#include "trust/sig.h"

static struct key_list keys;
static struct ref image;
static struct digest manifest;

/* A fixed public key (generated once by `berth keygen`). */
static const char pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEp96DWY6vBhaiVwACpavMJpeTCPSG\n"
	"sf4Oi88jFKQW2cb8Uo+lQyfsADMG2QBLDC3EI5VxFdUd+GhtktEUfGrQbg==\n"
	"-----END PUBLIC KEY-----\n";

struct blob {
	const uint8_t *data;
	size_t len;
};

static int fetch(void *opaque, const struct digest *d, uint64_t size, char **data, size_t *len,
		 struct berr **err)
{
	struct blob *b = opaque;

	(void) d;
	(void) size;
	*data = malloc(b->len + 1);
	if (*data == NULL)
		return berr_make(err, 0, "oom");
	memcpy(*data, b->data, b->len);
	*len = b->len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char der[SIG_DER_MAX];
	struct sig_manifest m;
	struct berr *err = NULL;
	struct blob tail = { data, 0 };
	size_t split, der_len;

	if (keys.n == 0) {
		if (key_parse_public(pub, strlen(pub), "fuzz.pub", &keys, NULL) < 0 ||
		    ref_parse("reg.example:5000/app:1", NULL, 0, &image, NULL) < 0 ||
		    digest_buffer("m", 1, &manifest, NULL) < 0)
			abort();
	}
	/* The input is "manifest \0 payload". */
	split = strnlen((const char *) data, size);
	if (split < size) {
		tail.data = data + split + 1;
		tail.len = size - split - 1;
	}
	if (sig_manifest_parse(data, split, &m, &err) == 0) {
		for (size_t i = 0; i < m.n_layers; i++) {
			if (m.layers[i].signature == NULL)
				continue;
			if (sig_decode(m.layers[i].signature, der, &der_len, &err) == 0) {
				if (der_len > SIG_DER_MAX || der[0] != 0x30)
					abort();
			} else if (err == NULL) {
				abort();
			}
			berr_free(err);
			err = NULL;
		}
		sig_manifest_free(&m);
	} else if (err == NULL) {
		abort();
	}
	berr_free(err);
	err = NULL;
	if (trust_verify(&image, &manifest, data, split, fetch, &tail, keys.keys, keys.n, NULL,
			 &err) == 0 || err == NULL)
		abort();
	berr_free(err);
	/* The annotation decoder alone, on the raw input as a string. */
	if (size < 1024) {
		char s[1024];
		memcpy(s, data, size);
		s[size] = '\0';
		err = NULL;
		if (sig_decode(s, der, &der_len, &err) < 0 && err == NULL)
			abort();
		berr_free(err);
	}
	return 0;
}
