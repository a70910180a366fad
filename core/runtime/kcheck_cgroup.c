/* `berth check` cgroup probes: which hierarchy layout is mounted (v1, v2, hybrid) and where each
 * controller berth uses can be driven from, parsed from mountinfo, /proc/cgroups and the
 * cgroup2 root's cgroup.controllers. */
#include "runtime/kcheck.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/mountinfo.h"
#include "base/util.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Super options of a v1 mount that are not controllers (cgroup-v1.rst, "Mounting"). */
static const char *const v1_non_controllers[] = {
	"rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods",
	"none", "all",
};

static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');
	return nl ? nl + 1 : p + strlen(p);
}

static int collect_cgroup_mount(const struct mountinfo_entry *e, void *data)
{
	struct kcheck_cgroups *cg = data;
	struct kcheck_cg_mount *m;

	if (strcmp(e->fstype, "cgroup") != 0 && strcmp(e->fstype, "cgroup2") != 0)
		return 0;
	if (cg->n_mounts >= KCHECK_CG_MAX_MOUNTS)
		return 1;
	m = &cg->mounts[cg->n_mounts++];
	m->v2 = strcmp(e->fstype, "cgroup2") == 0;
	snprintf(m->path, sizeof(m->path), "%s", e->mount_point);
	snprintf(m->opts, sizeof(m->opts), "%s", e->super_opts);
	return 0;
}

void kcheck_cg_parse_mountinfo(struct kcheck_cgroups *cg, const char *text)
{
	mountinfo_parse(text, collect_cgroup_mount, cg);
}

void kcheck_cg_parse_proc_cgroups(struct kcheck_cgroups *cg, const char *text)
{
	cg->have_proc_cgroups = true;
	for (const char *line = text; *line; line = next_line(line)) {
		char name[32];
		unsigned hier, num, enabled;

		if (*line == '#' || cg->n_subsys >= KCHECK_CG_MAX_SUBSYS)
			continue;
		if (sscanf(line, "%31s %u %u %u", name, &hier, &num, &enabled) != 4)
			continue;
		struct kcheck_cg_subsys *s = &cg->subsys[cg->n_subsys++];
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->hierarchy = hier;
		s->enabled = enabled != 0;
	}
}

/* Is `name` one of the tokens of `list`, separated by any of `seps`? */
static bool tokens_has(const char *list, const char *seps, const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return false;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, seps);
		if (n == len && memcmp(p, name, len) == 0)
			return true;
		p += n;
		p += strspn(p, seps);
	}
	return false;
}

bool kcheck_words_has(const char *list, const char *name)
{
	return tokens_has(list, " \t\n", name);
}

const struct kcheck_cg_mount *kcheck_cg_unified(const struct kcheck_cgroups *cg)
{
	for (size_t i = 0; i < cg->n_mounts; i++)
		if (cg->mounts[i].v2)
			return &cg->mounts[i];
	return NULL;
}

const struct kcheck_cg_mount *kcheck_cg_v1_mount(const struct kcheck_cgroups *cg, const char *v1name)
{
	for (size_t i = 0; i < cg->n_mounts; i++)
		if (!cg->mounts[i].v2 && tokens_has(cg->mounts[i].opts, ",", v1name))
			return &cg->mounts[i];
	return NULL;
}

/* Does a v1 mount carry at least one controller (not just a named hierarchy like systemd's)? */
static bool v1_has_controller(const struct kcheck_cg_mount *m)
{
	const char *p = m->opts;

	while (*p) {
		size_t n = strcspn(p, ",");
		bool known = false;

		if (memchr(p, '=', n) != NULL)
			known = true;
		for (size_t i = 0; i < ARRAY_SIZE(v1_non_controllers) && !known; i++)
			if (strlen(v1_non_controllers[i]) == n && memcmp(p, v1_non_controllers[i], n) == 0)
				known = true;
		if (!known && n > 0)
			return true;
		p += n;
		p += strspn(p, ",");
	}
	return false;
}

static const struct kcheck_cg_mount *first_v1(const struct kcheck_cgroups *cg)
{
	for (size_t i = 0; i < cg->n_mounts; i++)
		if (!cg->mounts[i].v2 && v1_has_controller(&cg->mounts[i]))
			return &cg->mounts[i];
	return NULL;
}

enum kcheck_cg_mode kcheck_cg_mode(const struct kcheck_cgroups *cg)
{
	bool v1 = first_v1(cg) != NULL, v2 = kcheck_cg_unified(cg) != NULL;

	if (v1 && v2)
		return KCHECK_CG_HYBRID;
	if (v1)
		return KCHECK_CG_V1;
	if (v2)
		return KCHECK_CG_V2;
	return KCHECK_CG_NONE;
}

void kcheck_cg_check_mode(struct kcheck_list *l, const struct kcheck_cgroups *cg)
{
	const struct kcheck_cg_mount *u = kcheck_cg_unified(cg), *v1 = first_v1(cg);
	char parent[256];

	switch (kcheck_cg_mode(cg)) {
	case KCHECK_CG_HYBRID:
		kcheck_add(l, "cgroup.mode", true, KCHECK_OK, "hybrid (v1 + cgroup2 at %s)", u->path);
		break;
	case KCHECK_CG_V2:
		kcheck_add(l, "cgroup.mode", true, KCHECK_OK, "v2 (cgroup2 at %s%s)", u->path,
			   cg->controllers[0] ? "" : ", no controllers");
		break;
	case KCHECK_CG_V1: {
		char *slash;
		snprintf(parent, sizeof(parent), "%s", v1->path);
		slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		kcheck_add(l, "cgroup.mode", true, KCHECK_OK, "v1 (hierarchies under %s)", parent);
		break;
	}
	case KCHECK_CG_NONE:
		kcheck_add(l, "cgroup.mode", true, KCHECK_MISSING, "no cgroup file system mounted");
		break;
	}
}

static const struct {
	const char *name;       /* v2 name */
	const char *v1name;     /* v1 name, also the /proc/cgroups row */
	const char *kconfig;
	bool required;
} controllers[] = {
	{ "memory", "memory", "CONFIG_MEMCG", true },
	{ "cpu", "cpu", "CONFIG_CGROUP_SCHED", true },
	{ "cpuset", "cpuset", "CONFIG_CPUSETS", false },
	{ "pids", "pids", "CONFIG_CGROUP_PIDS", true },
	{ "io", "blkio", "CONFIG_BLK_CGROUP", false },
};

void kcheck_cg_check_controller(struct kcheck_list *l, const struct kcheck_cgroups *cg,
				const char *name, bool v1_ok)
{
	const struct kcheck_cg_mount *u = kcheck_cg_unified(cg), *v1;
	const struct kcheck_cg_subsys *s = NULL;
	const char *v1name = name, *kconfig = "CONFIG_CGROUPS";
	char item[KCHECK_NAME_MAX];
	bool required = true;

	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
		if (strcmp(controllers[i].name, name) == 0) {
			v1name = controllers[i].v1name;
			kconfig = controllers[i].kconfig;
			required = controllers[i].required;
		}
	for (size_t i = 0; i < cg->n_subsys; i++)
		if (strcmp(cg->subsys[i].name, v1name) == 0)
			s = &cg->subsys[i];
	v1 = kcheck_cg_v1_mount(cg, v1name);
	snprintf(item, sizeof(item), "cgroup.%s", name);

	/* A controller bound to a v1 hierarchy is never in cgroup.controllers; check anyway, since
	 * a stale listing must not win over the hierarchy that really has it. */
	if (u && !v1 && kcheck_words_has(cg->controllers, name)) {
		kcheck_add(l, item, required, KCHECK_OK, "v2 (%s)", u->path);
	} else if (v1 && v1_ok) {
		kcheck_add(l, item, required, KCHECK_OK, "v1 (%s)", v1->path);
	} else if (v1) {
		kcheck_add(l, item, required, KCHECK_MISSING, "on v1 only, and this berth build is v2-only");
	} else if (s && !s->enabled) {
		/* Many ARM board kernels build the memory controller but leave it off by default. */
		kcheck_add(l, item, required, KCHECK_MISSING, "disabled: boot with cgroup_enable=%s", v1name);
	} else if (s == NULL) {
		kcheck_add(l, item, required, KCHECK_MISSING, "not in this kernel: %s", kconfig);
	} else if (s->hierarchy != 0) {
		kcheck_add(l, item, required, KCHECK_MISSING, "bound to v1 hierarchy %u, not mounted here",
			   s->hierarchy);
	} else if (u) {
		kcheck_add(l, item, required, KCHECK_MISSING, "not in %s/cgroup.controllers", u->path);
	} else {
		kcheck_add(l, item, required, KCHECK_MISSING, "not mounted: mount cgroup2 on /sys/fs/cgroup");
	}
}

void kcheck_cgroups_run(struct kcheck_list *l, const char *proc)
{
	struct kcheck_cgroups *cg = xcalloc(1, sizeof(*cg));
	const struct kcheck_cg_mount *u;
	char path[512];
	char *text = NULL;
	struct berr *err = NULL;

	snprintf(path, sizeof(path), "%s/self/mountinfo", proc);
	if (fs_read_file(path, 4u << 20, &text, NULL, &err) == 0)
		kcheck_cg_parse_mountinfo(cg, text);
	else
		berr_free(steal_ptr(&err));
	free(steal_ptr(&text));

	snprintf(path, sizeof(path), "%s/cgroups", proc);
	if (fs_read_file(path, 64u << 10, &text, NULL, &err) == 0)
		kcheck_cg_parse_proc_cgroups(cg, text);
	else
		berr_free(steal_ptr(&err));
	free(steal_ptr(&text));

	u = kcheck_cg_unified(cg);
	if (u && snprintf(path, sizeof(path), "%s/cgroup.controllers", u->path) < (int) sizeof(path)) {
		if (fs_read_file(path, 4096, &text, NULL, &err) == 0)
			snprintf(cg->controllers, sizeof(cg->controllers), "%s", text);
		else
			berr_free(steal_ptr(&err));
		free(steal_ptr(&text));
	}

	kcheck_cg_check_mode(l, cg);
	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
		kcheck_cg_check_controller(l, cg, controllers[i].name, ENABLE_CGROUP_V1);
	free(cg);
}
