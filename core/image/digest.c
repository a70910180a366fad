/* SHA-256 over mbedtls (2.28 and 3.x), or the CPU's SHA instructions where it has them;
 * digest strings and OCI chain ids. */
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

/* ---- SHA-256 with the CPU's SHA instructions (x86-64 SHA extensions, ARMv8 SHA2) ----
 * Layer conversion hashes every byte of the uncompressed stream for its diff_id, and a pull
 * every byte of every blob: in software that is a few percent of a conversion's CPU time,
 * with the SHA instructions a fifth of it. mbedtls hashes wherever they are missing. */

#if (defined(__x86_64__) || defined(__aarch64__)) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SHA_ACCEL 1

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};
#else
#define HAVE_SHA_ACCEL 0
#endif

#if HAVE_SHA_ACCEL && defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* Hash `n` 64-byte blocks into `st` (a..h). The instructions keep the state as two vectors,
 * ABEF and CDGH (highest lane first); each sha256rnds2 does two rounds and returns the new
 * ABEF, the old ABEF becoming CDGH. The schedule keeps the last four groups of four words. */
__attribute__((target("sha,sse4.1,ssse3"))) static void sha_blocks(uint32_t st[8],
								    const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
	__m128i abef, cdgh, t;

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *) &st[0]), 0xb1); /* b a d c */
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *) &st[4]), 0x1b); /* h g f e */
	abef = _mm_alignr_epi8(t, cdgh, 8);
	cdgh = _mm_blend_epi16(cdgh, t, 0xf0);
	for (; n > 0; n--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh, w[4];

#pragma GCC unroll 16
		for (int i = 0; i < 16; i++) {
			__m128i m;

			if (i < 4) {
				m = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (p + 16 * i)),
						     bswap);
			} else {
				/* words t..t+3 from t-16.., t-15.., t-7.. and t-4..: the groups
				 * i-4, i-3, i-2/i-1 and i-1 */
				m = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
				m = _mm_add_epi32(m, _mm_alignr_epi8(w[(i + 3) & 3],
								     w[(i + 2) & 3], 4));
				m = _mm_sha256msg2_epu32(m, w[(i + 3) & 3]);
			}
			w[i & 3] = m;
			m = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *) &sha256_k[4 * i]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0e));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	t = _mm_shuffle_epi32(abef, 0x1b);  /* a b e f, lowest lane first */
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1); /* g h c d */
	_mm_storeu_si128((__m128i *) &st[0], _mm_blend_epi16(t, cdgh, 0xf0));
	_mm_storeu_si128((__m128i *) &st[4], _mm_alignr_epi8(cdgh, t, 8));
}

static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)) != 0;
}
#elif HAVE_SHA_ACCEL && defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>

/* Hash `n` 64-byte blocks into `st` (a..h), kept as ABCD and EFGH; sha256h and sha256h2 do
 * four rounds on each half, sha256su0/su1 extend the schedule four words at a time. */
__attribute__((target("+crypto"))) static void sha_blocks(uint32_t st[8], const uint8_t *p,
							 size_t n)
{
	uint32x4_t abcd = vld1q_u32(&st[0]), efgh = vld1q_u32(&st[4]);

	for (; n > 0; n--, p += 64) {
		uint32x4_t abcd0 = abcd, efgh0 = efgh, w[4];

#pragma GCC unroll 16
		for (int i = 0; i < 16; i++) {
			uint32x4_t m, t;

			if (i < 4)
				m = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16 * i)));
			else
				m = vsha256su1q_u32(vsha256su0q_u32(w[i & 3], w[(i + 1) & 3]),
						    w[(i + 2) & 3], w[(i + 3) & 3]);
			w[i & 3] = m;
			m = vaddq_u32(m, vld1q_u32(&sha256_k[4 * i]));
			t = abcd;
			abcd = vsha256hq_u32(abcd, efgh, m);
			efgh = vsha256h2q_u32(efgh, t, m);
		}
		abcd = vaddq_u32(abcd, abcd0);
		efgh = vaddq_u32(efgh, efgh0);
	}
	vst1q_u32(&st[0], abcd);
	vst1q_u32(&st[4], efgh);
}

static bool cpu_has_sha(void)
{
	return (getauxval(AT_HWCAP) & (1ul << 6)) != 0; /* HWCAP_SHA2 */
}
#else
static void sha_blocks(uint32_t st[8], const uint8_t *p, size_t n)
{
	(void) st, (void) p, (void) n;
}

static bool cpu_has_sha(void)
{
	return false;
}
#endif

/* -1 not probed yet, 0 off, 1 on; threads may probe at once and store the same answer. */
static int accel_state = -1;

static bool use_accel(void)
{
	int s = __atomic_load_n(&accel_state, __ATOMIC_RELAXED);

	if (s < 0) {
		s = cpu_has_sha() ? 1 : 0;
		__atomic_store_n(&accel_state, s, __ATOMIC_RELAXED);
	}
	return s == 1;
}

bool digest_set_accel(bool on)
{
	bool was = use_accel();

	__atomic_store_n(&accel_state, on && HAVE_SHA_ACCEL ? -1 : 0, __ATOMIC_RELAXED);
	return was;
}

void digest_init(struct digest_ctx *ctx)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	mbedtls_sha256_init(&ctx->sha);
	ctx->size = 0;
	ctx->accel = use_accel();
	if (ctx->accel) {
		memcpy(ctx->h, iv, sizeof(iv));
		ctx->failed = false;
		return;
	}
	ctx->failed = sha256_starts(&ctx->sha) != 0;
}

static void accel_update(struct digest_ctx *ctx, const uint8_t *p, size_t len)
{
	size_t have = (size_t) (ctx->size % 64); /* ctx->size still counts up to here */

	if (have > 0) {
		size_t take = len < 64 - have ? len : 64 - have;

		memcpy(ctx->buf + have, p, take);
		p += take;
		len -= take;
		if (have + take < 64)
			return;
		sha_blocks(ctx->h, ctx->buf, 1);
	}
	if (len >= 64) {
		sha_blocks(ctx->h, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	memcpy(ctx->buf, p, len);
}

static void accel_final(struct digest_ctx *ctx, unsigned char raw[32])
{
	size_t have = (size_t) (ctx->size % 64);
	uint64_t bits = ctx->size * 8;

	ctx->buf[have++] = 0x80;
	if (have > 56) {
		memset(ctx->buf + have, 0, 64 - have);
		sha_blocks(ctx->h, ctx->buf, 1);
		have = 0;
	}
	memset(ctx->buf + have, 0, 56 - have);
	for (int i = 0; i < 8; i++)
		ctx->buf[56 + i] = (uint8_t) (bits >> (56 - 8 * i));
	sha_blocks(ctx->h, ctx->buf, 1);
	for (int i = 0; i < 8; i++) {
		raw[4 * i] = (unsigned char) (ctx->h[i] >> 24);
		raw[4 * i + 1] = (unsigned char) (ctx->h[i] >> 16);
		raw[4 * i + 2] = (unsigned char) (ctx->h[i] >> 8);
		raw[4 * i + 3] = (unsigned char) ctx->h[i];
	}
}

void digest_update(struct digest_ctx *ctx, const void *data, size_t len)
{
	if (ctx->failed || len == 0) {
		ctx->size += len;
		return;
	}
	if (ctx->accel)
		accel_update(ctx, data, len);
	else if (sha256_update(&ctx->sha, data, len) != 0)
		ctx->failed = true;
	ctx->size += len;
}

int digest_final(struct digest_ctx *ctx, struct digest *out, struct berr **err)
{
	unsigned char raw[32];

	if (ctx->accel && !ctx->failed)
		accel_final(ctx, raw);
	else if (!ctx->failed && sha256_finish(&ctx->sha, raw) != 0)
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
