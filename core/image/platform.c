/* This board's platform from uname(2) and /proc/cpuinfo, --platform strings, and choosing an
 * index entry (OCI image-spec image-index.md: architecture and variant values follow Go's
 * GOARCH and GOARM; an ARM CPU runs images built for older variants of its architecture). */
#include "platform.h"
#include "manifest.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#define CPUINFO_MAX (1u << 20)

static bool field_ok(const char *s, bool may_be_empty)
{
	size_t n = 0;

	for (; s[n]; n++) {
		if (n >= PLATFORM_FIELD_MAX - 1)
			return false;
		if (!isalnum((unsigned char) s[n]) && s[n] != '.' && s[n] != '_' && s[n] != '-')
			return false;
	}
	return n > 0 || may_be_empty;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char) tolower((unsigned char) *s);
}

void platform_normalize(struct platform *p)
{
	static const struct {
		const char *from, *arch, *variant; /* variant NULL: keep */
	} synonyms[] = {
		{ "x86_64", "amd64", NULL },   { "x86-64", "amd64", NULL },
		{ "i386", "386", NULL },       { "i486", "386", NULL },
		{ "i586", "386", NULL },       { "i686", "386", NULL },
		{ "aarch64", "arm64", NULL },  { "armhf", "arm", "v7" },
		{ "armel", "arm", "v6" },      { "mipsel", "mipsle", NULL },
		{ "mips64el", "mips64le", NULL }, { "loongarch64", "loong64", NULL },
	};

	lower(p->os);
	lower(p->arch);
	lower(p->variant);
	for (size_t i = 0; i < ARRAY_SIZE(synonyms); i++)
		if (strcmp(p->arch, synonyms[i].from) == 0) {
			strcpy(p->arch, synonyms[i].arch);
			if (synonyms[i].variant)
				strcpy(p->variant, synonyms[i].variant);
			break;
		}
	/* GOARM-style "7" is "v7". */
	if (isdigit((unsigned char) p->variant[0]) && strlen(p->variant) < PLATFORM_FIELD_MAX - 1) {
		memmove(p->variant + 1, p->variant, strlen(p->variant) + 1);
		p->variant[0] = 'v';
	}
	if (strcmp(p->arch, "arm64") == 0 &&
	    (p->variant[0] == '\0' || strcmp(p->variant, "v8.0") == 0))
		strcpy(p->variant, "v8");
	if (strcmp(p->arch, "arm") == 0 && p->variant[0] == '\0')
		strcpy(p->variant, "v7");
}

/* Quote at most 40 bytes of outside input, printable ASCII only, for error messages. */
static const char *quote(const char *s, char buf[48])
{
	size_t i, o = 0;

	for (i = 0; s[i] && o < 40; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int platform_set(struct platform *out, const char *os, const char *arch, const char *variant,
		 struct berr **err)
{
	char q[48];

	memset(out, 0, sizeof(*out));
	if (variant == NULL)
		variant = "";
	if (!field_ok(os, false))
		return berr_usage(err, "os `%s`: expected 1 to %d of [A-Za-z0-9._-]", quote(os, q),
				  PLATFORM_FIELD_MAX - 1);
	if (!field_ok(arch, false))
		return berr_usage(err, "architecture `%s`: expected 1 to %d of [A-Za-z0-9._-]",
				  quote(arch, q), PLATFORM_FIELD_MAX - 1);
	if (!field_ok(variant, true))
		return berr_usage(err, "variant `%s`: expected up to %d of [A-Za-z0-9._-]",
				  quote(variant, q), PLATFORM_FIELD_MAX - 1);
	strcpy(out->os, os);
	strcpy(out->arch, arch);
	strcpy(out->variant, variant);
	platform_normalize(out);
	return 0;
}

int platform_parse(const char *s, struct platform *out, struct berr **err)
{
	char buf[PLATFORM_STR_SIZE];
	char *os, *arch, *variant;

	memset(out, 0, sizeof(*out));
	if (str_copy(buf, sizeof(buf), s) < 0)
		return berr_usage(err, "platform `%s` is too long", quote(s, buf));
	os = buf;
	arch = strchr(os, '/');
	if (arch == NULL)
		goto usage;
	*arch++ = '\0';
	variant = strchr(arch, '/');
	if (variant != NULL) {
		*variant++ = '\0';
		if (*variant == '\0' || strchr(variant, '/'))
			goto usage;
	}
	if (platform_set(out, os, arch, variant, err) < 0)
		return berr_wrap(err, "platform `%s`", s);
	return 0;
usage:
	return berr_usage(err, "platform `%s`: expected os/arch[/variant], e.g. linux/arm/v7", s);
}

char *platform_format(const struct platform *p, char buf[PLATFORM_STR_SIZE])
{
	snprintf(buf, PLATFORM_STR_SIZE, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "",
		 p->variant);
	return buf;
}

/* "v7" -> 7; 0 if not of that form. */
static int arm_version(const char *variant)
{
	if (variant[0] != 'v' || !isdigit((unsigned char) variant[1]) || variant[2] != '\0')
		return 0;
	return variant[1] - '0';
}

int platform_rank(const struct platform *want_in, const struct platform *have_in)
{
	struct platform want = *want_in, have = *have_in;

	platform_normalize(&want);
	platform_normalize(&have);
	if (strcmp(want.os, have.os) != 0 || strcmp(want.arch, have.arch) != 0)
		return -1;
	if (strcmp(want.variant, have.variant) == 0)
		return 0;
	if (strcmp(want.arch, "arm") == 0) {
		/* A v7 CPU runs v6 and v5 code: prefer the newest the board can run. */
		int w = arm_version(want.variant), h = arm_version(have.variant);
		if (w == 0 || h == 0 || h > w)
			return -1;
		return w - h;
	}
	/* An image without a variant targets the baseline of its architecture. */
	if (have.variant[0] == '\0')
		return 1;
	return -1;
}

int platform_select(const struct platform *want, const struct manifest_descriptor *entries,
		    size_t n, size_t *chosen, struct berr **err)
{
	char offered[512], w[PLATFORM_STR_SIZE], one[PLATFORM_STR_SIZE];
	size_t used = 0;
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		const struct manifest_descriptor *e = &entries[i];
		enum manifest_kind kind = manifest_kind_of(e->media_type);
		int r;

		if (!e->has_platform || kind == MANIFEST_UNKNOWN || manifest_kind_is_index(kind))
			continue;
		r = platform_rank(want, &e->platform);
		if (r >= 0 && (best < 0 || r < best)) {
			best = r;
			*chosen = i;
		}
	}
	if (best >= 0)
		return 0;
	/* Name what is there, so the operator can pass --platform or pick another image. */
	offered[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!entries[i].has_platform || strcmp(entries[i].platform.os, "unknown") == 0)
			continue;
		platform_format(&entries[i].platform, one);
		if (used + strlen(one) + 2 + 5 >= sizeof(offered)) {
			strcpy(offered + used, ", ...");
			break;
		}
		used += (size_t) sprintf(offered + used, "%s%s", used ? ", " : "", one);
	}
	return berr_usage(err, "no image for platform %s; the image offers: %s",
			  platform_format(want, w), offered[0] ? offered : "no platforms");
}

/* ---- this board ---- */

/* The value of the first "key : value" line of cpuinfo with `key` (case-insensitive). */
static bool cpuinfo_value(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *line = text, *next; line != NULL && *line; line = next) {
		const char *p = line, *end;
		next = strchr(line, '\n');
		if (next != NULL)
			next++;
		if (strncasecmp(p, key, klen) != 0)
			continue;
		p += klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ':')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t) (end - p) >= size)
			end = p + size - 1;
		memcpy(out, p, (size_t) (end - p));
		out[end - p] = '\0';
		return true;
	}
	return false;
}

/* ARM architecture version from cpuinfo: "CPU architecture: 7" (or "5TEJ"); 0 if unknown.
 * ARM1176 (Raspberry Pi 1 and Zero) reports 7 through its CPUID scheme but is ARMv6, which its
 * model name says. */
static int cpuinfo_arm_version(const char *path, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	char val[128];
	int v = 0;

	if (fs_read_file(path, CPUINFO_MAX, &text, NULL, err) < 0) {
		if (err && *err && (*err)->errcode == ENOENT) {
			berr_free(*err);
			*err = NULL;
			return 0;
		}
		return -1;
	}
	if (cpuinfo_value(text, "CPU architecture", val, sizeof(val)) &&
	    isdigit((unsigned char) val[0]))
		v = val[0] - '0';
	if ((cpuinfo_value(text, "model name", val, sizeof(val)) ||
	     cpuinfo_value(text, "Processor", val, sizeof(val))) &&
	    strncasecmp(val, "ARMv6-compatible", 16) == 0 && v > 6)
		v = 6;
	return v;
}

int platform_from_machine(const char *machine, const char *cpuinfo_path, struct platform *out,
			  struct berr **err)
{
	static const struct {
		const char *machine, *arch, *variant;
	} table[] = {
		{ "x86_64", "amd64", "" },     { "amd64", "amd64", "" },
		{ "i386", "386", "" },         { "i486", "386", "" },
		{ "i586", "386", "" },         { "i686", "386", "" },
		{ "aarch64", "arm64", "v8" },  { "arm64", "arm64", "v8" },
		{ "riscv64", "riscv64", "" },  { "ppc64le", "ppc64le", "" },
		{ "ppc64", "ppc64", "" },      { "s390x", "s390x", "" },
		{ "mips", "mips", "" },        { "mipsel", "mipsle", "" },
		{ "mips64", "mips64", "" },    { "mips64el", "mips64le", "" },
		{ "loongarch64", "loong64", "" },
	};
	size_t n = strlen(machine);
	int m = 0, c = 0, v;

	memset(out, 0, sizeof(*out));
	strcpy(out->os, "linux");
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strcmp(machine, table[i].machine) == 0) {
			strcpy(out->arch, table[i].arch);
			strcpy(out->variant, table[i].variant);
			return 0;
		}
	if (strncmp(machine, "arm", 3) != 0 || n > 16)
		return berr_make(err, 0, "machine `%.40s` is not an architecture berth knows", machine);
	/* 32-bit ARM: armv5tel, armv6l, armv7l, armv8l (AArch32 on a 64-bit kernel), arm. */
	if (machine[n - 1] == 'b' || strstr(machine, "eb") != NULL)
		return berr_make(err, 0, "machine `%s`: big-endian ARM has no OCI platform", machine);
	if (machine[3] == 'v' && isdigit((unsigned char) machine[4]))
		m = machine[4] - '0';
	if (cpuinfo_path != NULL) {
		c = cpuinfo_arm_version(cpuinfo_path, err);
		if (c < 0)
			return berr_wrap(err, "platform");
	}
	/* The kernel's name for the CPU and cpuinfo's number can each be vague; the lower one is
	 * what the CPU is certain to run. */
	v = m && c ? (m < c ? m : c) : (m ? m : c);
	if (v == 0)
		v = 7; /* an unnamed ARM: the image-spec's default arm variant */
	if (v > 8)
		v = 8;
	if (v < 5)
		return berr_make(err, 0, "machine `%s`: ARMv%d is older than any OCI arm variant (v5)",
				 machine, v);
	strcpy(out->arch, "arm");
	snprintf(out->variant, sizeof(out->variant), "v%d", v);
	return 0;
}

int platform_detect(const char *cpuinfo_path, struct platform *out, struct berr **err)
{
	struct utsname u;

	if (uname(&u) < 0)
		return berr_make(err, errno, "uname");
	return platform_from_machine(u.machine, cpuinfo_path ? cpuinfo_path : PLATFORM_CPUINFO,
				     out, err);
}
