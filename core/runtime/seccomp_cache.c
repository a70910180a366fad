/* Compiled seccomp filters cached in the run dir (RAM): compiling Docker's default profile
 * costs about 10 ms of CPU per container start, and the result only changes with the profile,
 * the capabilities, the kernel and berth itself. */
#include "runtime/seccomp.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/digest.h"
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define CACHE_MAGIC "BERTHSEC2"
#define CACHE_MAX_INSNS 65535

struct cache_head {
	char magic[12];
	uint32_t flags;
	uint32_t len;
};

static int cache_path(enum secc_mode mode, const char *path, uint64_t caps, char *out, size_t size,
		      struct berr **err)
{
	_cleanup_free_ char *profile = NULL, *key = NULL;
	struct utsname u;
	struct digest d;
	size_t plen = 0;

	if (mode == SECC_MODE_PROFILE && fs_read_file(path, SECC_PROFILE_MAX, &profile, &plen, err) < 0)
		return -1;
	uname(&u);
	key = xasprintf("%s %s %s %d %llx %s %s\n%s", CACHE_MAGIC, BERTH_VERSION, BERTH_GIT_REV, (int) mode,
			(unsigned long long) caps, u.release, u.machine, profile ? profile : "");
	if (digest_buffer(key, strlen(key), &d, err) < 0)
		return -1;
	if (snprintf(out, size, "%s/seccomp/%s.bpf", paths_run_dir(), d.hex) >= (int) size)
		return berr_make(err, ENAMETOOLONG, "seccomp cache path");
	return 0;
}

static int cache_load(const char *file, struct secc_filter *out)
{
	_cleanup_free_ char *buf = NULL;
	struct cache_head h;
	size_t len = 0;
	struct berr *e = NULL;

	if (fs_read_file(file, sizeof(h) + CACHE_MAX_INSNS * sizeof(struct sock_filter), &buf, &len, &e) < 0) {
		berr_free(e);
		return -1;
	}
	if (len < sizeof(h))
		return -1;
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(CACHE_MAGIC)) != 0 || h.len == 0 || h.len > CACHE_MAX_INSNS ||
	    len != sizeof(h) + h.len * sizeof(struct sock_filter))
		return -1;
	out->insns = xmalloc(h.len * sizeof(struct sock_filter));
	memcpy(out->insns, buf + sizeof(h), h.len * sizeof(struct sock_filter));
	out->len = (unsigned short) h.len;
	out->flags = h.flags;
	return 0;
}

static void cache_store(const char *file, const struct secc_filter *f)
{
	struct cache_head h = { .flags = f->flags, .len = f->len };
	size_t n = sizeof(h) + f->len * sizeof(struct sock_filter);
	char dir[PATH_MAX], *buf;
	struct berr *e = NULL;

	memcpy(h.magic, CACHE_MAGIC, sizeof(CACHE_MAGIC));
	if (snprintf(dir, sizeof(dir), "%s/seccomp", paths_run_dir()) >= (int) sizeof(dir))
		return;
	buf = xmalloc(n);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), f->insns, f->len * sizeof(struct sock_filter));
	/* A cache: failing to write it only costs the next start a compile. */
	if (fs_mkdir_p(dir, 0700, &e) < 0 || fs_write_atomic(file, buf, n, 0600, &e) < 0) {
		log_debug("seccomp cache: %s", e->msg);
		berr_free(e);
	}
	free(buf);
}

int secc_filter_cached(enum secc_mode mode, const char *path, uint64_t caps, struct secc_filter *out,
		       struct berr **err)
{
	char file[PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (!ENABLE_SECCOMP || mode == SECC_MODE_UNCONFINED)
		return secc_filter_for(mode, path, caps, out, err);
	if (cache_path(mode, path, caps, file, sizeof(file), err) < 0)
		return -1;
	if (cache_load(file, out) == 0)
		return 0;
	if (secc_filter_for(mode, path, caps, out, err) < 0)
		return -1;
	if (out->len > 0)
		cache_store(file, out);
	return 0;
}
