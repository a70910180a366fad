/* Resource limits of a container's process: `--ulimit name=soft[:hard]` with Docker's names. */
#ifndef BERTH_RUNTIME_RLIMIT_H
#define BERTH_RUNTIME_RLIMIT_H

#include <stddef.h>
#include <sys/resource.h>

struct berr;

#define RLIMIT_ENTRIES_MAX 16 /* one per name Docker knows */

struct rlimit_entry {
	int resource;         /* RLIMIT_* */
	struct rlimit limit;  /* RLIM_INFINITY for -1 or "unlimited" */
};

/* Parse "nofile=1024:2048" or "nproc=512" (hard = soft). Names: core, cpu, data, fsize, locks,
 * memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack. Values are
 * decimal integers, -1 or "unlimited"; soft must not exceed hard. Usage errors name the
 * option. */
int rlimit_parse(const char *s, struct rlimit_entry *out, struct berr **err);
/* Add or replace (a later --ulimit for the same name wins) in a table of at most
 * RLIMIT_ENTRIES_MAX entries. */
void rlimit_set(struct rlimit_entry *tab, size_t *n, const struct rlimit_entry *e);
/* "nofile" for RLIMIT_NOFILE, NULL if not one of the names above. */
const char *rlimit_name(int resource);
/* setrlimit each entry; in the container's child before exec. */
int rlimit_apply(const struct rlimit_entry *tab, size_t n, struct berr **err);

#endif
