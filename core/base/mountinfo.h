/* /proc/self/mountinfo parsing: the kernel's own record of what is mounted, used to find
 * mounts berth made (layers, overlays) instead of keeping a separate record that a crash
 * could leave wrong. */
#ifndef BERTH_MOUNTINFO_H
#define BERTH_MOUNTINFO_H

struct berr;

struct mountinfo_entry {
	int id, parent;
	unsigned major, minor;
	const char *root;        /* unescaped; valid only during the callback */
	const char *mount_point; /* unescaped */
	const char *mount_opts;
	const char *fstype;
	const char *source;      /* unescaped */
	const char *super_opts;
};

/* Call fn for each entry of `text` (mountinfo format). fn returns 0 to go on, 1 to stop, <0
 * to stop with that value. Malformed lines are skipped. */
int mountinfo_parse(const char *text, int (*fn)(const struct mountinfo_entry *e, void *data), void *data);

/* Read /proc/self/mountinfo (or `path`, if non-NULL) and call mountinfo_parse on it. */
int mountinfo_each(const char *path, int (*fn)(const struct mountinfo_entry *e, void *data), void *data,
		   struct berr **err);

/* Value of `key=` in a comma-separated option string, copied into buf; -1 if absent. */
int mountinfo_opt(const char *opts, const char *key, char *buf, unsigned size);

#endif
