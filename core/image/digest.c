/* SHA-256 over mbedtls (2.28 and 3.x), digest strings and OCI chain ids. */
#include "digest.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/version.h>

/* mbedtls 3.x dropped the `_ret` suffix once the void variants were removed. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define sha256_starts(c) mbedtls_sha256_starts((c), 0)
#define sha256_update(c, p, n) mbedtls_sha256_update((c), (p), (n))
#define sha256_finish(c, o) mbedtls_sha256_finish((c), (o))
#else
#define sha256_starts(c) mbedtls_sha256_starts_ret((c), 0)
#define sha256_update(c, p, n) mbedtls_sha256_update_ret((c), (p), (n))
#define sha256_finish(c, o) mbedtls_sha256_finish_ret((c), (o))
#endif

static const char hexdigits[] = "0123456789abcdef";

void digest_init(struct digest_ctx *ctx)
{
	mbedtls_sha256_init(&ctx->sha);
	ctx->size = 0;
	ctx->failed = sha256_starts(&ctx->sha) != 0;
}

void digest_update(struct digest_ctx *ctx, const void *data, size_t len)
{
	ctx->size += len;
	if (ctx->failed || len == 0)
		return;
	if (sha256_update(&ctx->sha, data, len) != 0)
		ctx->failed = true;
}

int digest_final(struct digest_ctx *ctx, struct digest *out, struct berr **err)
{
	unsigned char raw[32];

	if (!ctx->failed && sha256_finish(&ctx->sha, raw) != 0)
		ctx->failed = true;
	mbedtls_sha256_free(&ctx->sha);
	mbedtls_sha256_init(&ctx->sha); /* a later digest_ctx_free stays harmless */
	if (ctx->failed) {
		digest_clear(out);
		return berr_make(err, 0, "sha256: the crypto backend failed");
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out->hex[2 * i] = hexdigits[raw[i] >> 4];
		out->hex[2 * i + 1] = hexdigits[raw[i] & 0xf];
	}
	out->hex[DIGEST_HEX_LEN] = '\0';
	return 0;
}

void digest_ctx_free(struct digest_ctx *ctx)
{
	mbedtls_sha256_free(&ctx->sha);
}

int digest_buffer(const void *data, size_t len, struct digest *out, struct berr **err)
{
	struct digest_ctx ctx;

	digest_init(&ctx);
	digest_update(&ctx, data, len);
	return digest_final(&ctx, out, err);
}

int digest_fd(int fd, struct digest *out, uint64_t *size, struct berr **err)
{
	struct digest_ctx ctx;
	char buf[16384];

	digest_init(&ctx);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			digest_ctx_free(&ctx);
			return berr_make(err, e, "read");
		}
		if (n == 0)
			break;
		digest_update(&ctx, buf, (size_t) n);
	}
	if (size)
		*size = ctx.size;
	return digest_final(&ctx, out, err);
}

int digest_file(const char *path, struct digest *out, uint64_t *size, struct berr **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	if (digest_fd(fd, out, size, err) < 0)
		return berr_wrap(err, "hash `%s`", path);
	return 0;
}

bool digest_hex_valid(const char *hex)
{
	size_t i;

	for (i = 0; i < DIGEST_HEX_LEN; i++) {
		char c = hex[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return hex[i] == '\0';
}

/* Quote at most 80 bytes of outside input, printable ASCII only, for error messages. */
static const char *quote(const char *s, char buf[96])
{
	size_t i, o = 0;

	for (i = 0; s[i] && o < 80; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int digest_parse(const char *s, const char *what, struct digest *out, struct berr **err)
{
	const char *colon = strchr(s, ':');
	const char *hex;
	char q[96];
	size_t n;

	digest_clear(out);
	if (what == NULL)
		what = "digest";
	if (colon == NULL)
		return berr_usage(err, "%s `%s`: invalid checksum digest format: want `sha256:<64 hex>`",
				  what, quote(s, q));
	/* OCI algorithm grammar: [a-z0-9]+ joined by [+._-]; we only store sha256. */
	if ((size_t) (colon - s) != DIGEST_PREFIX_LEN - 1 ||
	    memcmp(s, DIGEST_ALGO, DIGEST_PREFIX_LEN - 1) != 0)
		return berr_usage(err, "%s `%s`: unsupported digest algorithm: only sha256 is supported",
				  what, quote(s, q));
	hex = colon + 1;
	n = strlen(hex);
	if (n != DIGEST_HEX_LEN)
		return berr_usage(err, "%s `%s`: invalid checksum digest length %zu: want 64 hex digits",
				  what, quote(s, q), n);
	if (!digest_hex_valid(hex))
		return berr_usage(err, "%s `%s`: invalid checksum digest: want lowercase hex digits",
				  what, quote(s, q));
	memcpy(out->hex, hex, DIGEST_HEX_LEN + 1);
	return 0;
}

int digest_parse_hex(const char *hex, struct digest *out, struct berr **err)
{
	char q[96];

	digest_clear(out);
	if (!digest_hex_valid(hex))
		return berr_usage(err, "`%s` is not a sha256 digest (64 lowercase hex digits)",
				  quote(hex, q));
	memcpy(out->hex, hex, DIGEST_HEX_LEN + 1);
	return 0;
}

bool digest_valid(const char *s)
{
	return strncmp(s, DIGEST_ALGO ":", DIGEST_PREFIX_LEN) == 0 &&
	       digest_hex_valid(s + DIGEST_PREFIX_LEN);
}

char *digest_format(const struct digest *d, char buf[DIGEST_STR_SIZE])
{
	memcpy(buf, DIGEST_ALGO ":", DIGEST_PREFIX_LEN);
	memcpy(buf + DIGEST_PREFIX_LEN, d->hex, DIGEST_HEX_LEN);
	buf[DIGEST_STR_LEN] = '\0';
	return buf;
}

bool digest_equal(const struct digest *a, const struct digest *b)
{
	return digest_is_set(a) && memcmp(a->hex, b->hex, DIGEST_HEX_LEN + 1) == 0;
}

bool digest_is_set(const struct digest *d)
{
	return d->hex[0] != '\0';
}

void digest_clear(struct digest *d)
{
	memset(d->hex, 0, sizeof(d->hex));
}

int digest_chain(const struct digest *parent, const struct digest *diff_id, struct digest *out,
		 struct berr **err)
{
	char buf[2 * DIGEST_STR_SIZE];

	if (!digest_is_set(diff_id))
		return berr_make(err, EINVAL, "chain id: empty diff id");
	if (parent == NULL) {
		*out = *diff_id;
		return 0;
	}
	digest_format(parent, buf);
	buf[DIGEST_STR_LEN] = ' ';
	digest_format(diff_id, buf + DIGEST_STR_LEN + 1);
	return digest_buffer(buf, 2 * DIGEST_STR_LEN + 1, out, err);
}

int digest_chain_ids(const struct digest *diff_ids, size_t n, struct digest *out,
		     struct berr **err)
{
	for (size_t i = 0; i < n; i++)
		if (digest_chain(i ? &out[i - 1] : NULL, &diff_ids[i], &out[i], err) < 0)
			return berr_wrap(err, "layer %zu", i);
	return 0;
}
