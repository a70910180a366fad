/* Platforms (os/arch/variant): this board's, `--platform` strings, and picking the best
 * manifest of an image index for a board (OCI image-spec image-index.md, "platform"). */
#ifndef BERTH_IMAGE_PLATFORM_H
#define BERTH_IMAGE_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

struct berr;
struct manifest_descriptor;

#define PLATFORM_FIELD_MAX 32 /* bytes per field, with the NUL; longer values are errors */
#define PLATFORM_STR_SIZE (3 * PLATFORM_FIELD_MAX)
#define PLATFORM_CPUINFO "/proc/cpuinfo"

/* Values as the image-spec writes them (GOOS/GOARCH names): os "linux", architecture
 * "amd64", "arm64", "arm", "386", ..., variant "" or "v5".."v8". Kept normalised (see
 * platform_normalize), so two platforms compare with strcmp. */
struct platform {
	char os[PLATFORM_FIELD_MAX];
	char arch[PLATFORM_FIELD_MAX];
	char variant[PLATFORM_FIELD_MAX];
};

/* This board: uname(2) machine, refined for 32-bit ARM from `cpuinfo_path` (NULL:
 * /proc/cpuinfo; a missing file is fine). */
int platform_detect(const char *cpuinfo_path, struct platform *out, struct berr **err);
/* The same from a given uname machine string (`x86_64`, `armv7l`, ...); `cpuinfo_path` NULL
 * skips the cpuinfo refinement. */
int platform_from_machine(const char *machine, const char *cpuinfo_path, struct platform *out,
			  struct berr **err);

/* Parse `os/arch[/variant]` (the --platform option); the synonyms `aarch64`, `x86_64`,
 * `armhf`, `armel`, `i386` and variants without `v` are accepted and normalised. */
int platform_parse(const char *s, struct platform *out, struct berr **err);

/* Fill *out from separate fields (a descriptor's `platform`, a config's `os`/`architecture`/
 * `variant`), checking each: 1 to 31 of [A-Za-z0-9._-]; `variant` may be NULL or empty. The
 * result is normalised. Errors name the field. */
int platform_set(struct platform *out, const char *os, const char *arch, const char *variant,
		 struct berr **err);

/* Bring the names to one spelling: arch synonyms, lower case, `7` -> `v7`; arm without variant
 * is v7 and arm64 without variant is v8, as the image-spec's variant table implies. */
void platform_normalize(struct platform *p);

/* "linux/arm/v7", "linux/amd64". Returns buf. */
char *platform_format(const struct platform *p, char buf[PLATFORM_STR_SIZE]);

/* How well an image for `have` runs on `want`: 0 for an exact match, 1, 2, ... for fallbacks
 * (an arm/v7 board runs v6 then v5 images; an image without a variant is the base of its
 * architecture), -1 if it cannot run. Both sides are normalised first. */
int platform_rank(const struct platform *want, const struct platform *have);

/* Choose among an index's entries the manifest for `want`: the best platform_rank, the first
 * in index order on a tie. Entries without a platform or that are not image manifests are
 * skipped. The error lists what the index offers. */
int platform_select(const struct platform *want, const struct manifest_descriptor *entries,
		    size_t n, size_t *chosen, struct berr **err);

#endif
