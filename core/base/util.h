/* Scope-exit cleanup, ownership transfer and allocation helpers shared by every module. */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void cleanup_freep(void *p)
{
	free(*(void **) p);
}
static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))

static inline void *steal_ptr_impl(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_ptr(pp) steal_ptr_impl(pp)

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* For short-lived commands only: these print an error and exit(125) on out-of-memory.
 * PID 1 and the supervisor loop use plain malloc and check. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy with truncation check: returns -1 if src does not fit (dst is then an empty string). */
int str_copy(char *dst, size_t size, const char *src);
int str_has_prefix(const char *s, const char *prefix);
/* Levenshtein distance between two short words (99 past 38 bytes), to suggest the key a typo
 * meant: a word within STR_SUGGEST_MAX edits is worth naming in "did you mean". */
size_t str_edit_distance(const char *a, const char *b);
#define STR_SUGGEST_MAX 2

#endif
