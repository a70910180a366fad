/* Squashfs writer: the hash table behind names, ids and xattr sets, and the interning of
 * uids/gids and of xattr sets (checked, sorted by name and serialized as the xattr table stores
 * them), so that identical sets are written once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "image/squashfs_int.h"

/* ---- hash table ---- */

uint64_t sqfs_hash(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ seed; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

int sqfs_htab_init(struct sqfs_htab *t)
{
	t->nb = 64;
	t->n = 0;
	t->b = xcalloc(t->nb, sizeof(*t->b));
	return 0;
}

void sqfs_htab_free(struct sqfs_htab *t)
{
	free(t->b);
	t->b = NULL;
}

void sqfs_htab_insert(struct sqfs_htab *t, struct sqfs_hnode *n)
{
	if (t->n >= t->nb) {
		size_t nb = t->nb * 2;
		struct sqfs_hnode **b = xcalloc(nb, sizeof(*b));

		for (size_t i = 0; i < t->nb; i++) {
			struct sqfs_hnode *e = t->b[i], *next;

			for (; e != NULL; e = next) {
				next = e->next;
				e->next = b[e->hash & (nb - 1)];
				b[e->hash & (nb - 1)] = e;
			}
		}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	n->next = t->b[n->hash & (t->nb - 1)];
	t->b[n->hash & (t->nb - 1)] = n;
	t->n++;
}

void sqfs_htab_remove(struct sqfs_htab *t, struct sqfs_hnode *n)
{
	struct sqfs_hnode **pp = &t->b[n->hash & (t->nb - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			t->n--;
			return;
		}
	}
}

struct sqfs_hnode *sqfs_htab_first(const struct sqfs_htab *t, uint64_t hash)
{
	return t->b[hash & (t->nb - 1)];
}

/* ---- interned ids and xattr sets ---- */

struct sqfs_id *sqfs_id_intern(struct sqfs_writer *w, uint32_t id)
{
	uint64_t h = sqfs_hash(&id, sizeof(id), 0);
	struct sqfs_id *e;

	for (struct sqfs_hnode *n = sqfs_htab_first(&w->ids, h); n != NULL; n = n->next) {
		e = (struct sqfs_id *) n;
		if (n->hash == h && e->id == id)
			return e;
	}
	e = xcalloc(1, sizeof(*e));
	e->h.hash = h;
	e->id = id;
	e->index = -1;
	sqfs_htab_insert(&w->ids, &e->h);
	return e;
}

static const char *const xattr_prefixes[] = { "user.", "trusted.", "security." };

static int xattr_prefix(const char *name, size_t *plen)
{
	for (size_t i = 0; i < ARRAY_SIZE(xattr_prefixes); i++) {
		size_t l = strlen(xattr_prefixes[i]);

		if (strncmp(name, xattr_prefixes[i], l) == 0) {
			*plen = l;
			return (int) i;
		}
	}
	return -1;
}

static int xattr_cmp(const void *a, const void *b)
{
	const struct sqfs_xattr *x = *(const struct sqfs_xattr *const *) a;
	const struct sqfs_xattr *y = *(const struct sqfs_xattr *const *) b;

	return strcmp(x->name, y->name);
}

/* Check a set of xattrs, serialize it sorted by name as the xattr table stores it
 * (type, name size, name without prefix, value size, value) and intern it. */
int sqfs_xset_intern(struct sqfs_writer *w, const char *path, const struct sqfs_xattr *xs,
		     size_t n, struct sqfs_xset **out, struct berr **err)
{
	_cleanup_free_ const struct sqfs_xattr **v = NULL;
	struct sqfs_xset *s;
	uint64_t total = 0, h;
	uint8_t *p;

	*out = NULL;
	if (n == 0)
		return 0;
	if (xs == NULL || n > 65535)
		return berr_usage(err, "squashfs: `%s`: bad xattr list (%zu entries)", path, n);
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		size_t plen, nlen;

		if (xs[i].name == NULL)
			return berr_usage(err, "squashfs: `%s`: xattr without a name", path);
		nlen = strlen(xs[i].name);
		if (xattr_prefix(xs[i].name, &plen) < 0)
			return berr_usage(err, "squashfs: `%s`: xattr `%s`: only user., trusted. and "
					  "security. names can be stored", path, xs[i].name);
		if (nlen == plen || nlen > SQFS_NAME_MAX)
			return berr_usage(err, "squashfs: `%s`: xattr name `%s` is empty or longer "
					  "than %u bytes", path, xs[i].name, SQFS_NAME_MAX);
		if (xs[i].size > SQFS_XATTR_VALUE_MAX || (xs[i].size > 0 && xs[i].value == NULL))
			return berr_usage(err, "squashfs: `%s`: xattr `%s`: bad value of %zu bytes "
					  "(at most %u)", path, xs[i].name, xs[i].size,
					  SQFS_XATTR_VALUE_MAX);
		total += 8 + (nlen - plen) + xs[i].size;
		v[i] = &xs[i];
	}
	if (total > SQFS_XSET_MAX)
		return berr_usage(err, "squashfs: `%s`: %llu bytes of xattrs, at most %u", path,
				  (unsigned long long) total, SQFS_XSET_MAX);
	qsort(v, n, sizeof(*v), xattr_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1]->name, v[i]->name) == 0)
			return berr_usage(err, "squashfs: `%s`: xattr `%s` given twice", path,
					  v[i]->name);

	s = xmalloc(sizeof(*s) + total);
	s->index = -1;
	s->count = (uint32_t) n;
	s->len = (uint32_t) total;
	p = s->data;
	for (size_t i = 0; i < n; i++) {
		size_t plen;
		int type = xattr_prefix(v[i]->name, &plen);
		size_t nlen = strlen(v[i]->name) - plen;

		put16(p, (uint16_t) type);
		put16(p + 2, (uint16_t) nlen);
		memcpy(p + 4, v[i]->name + plen, nlen);
		p += 4 + nlen;
		put32(p, (uint32_t) v[i]->size);
		if (v[i]->size > 0)
			memcpy(p + 4, v[i]->value, v[i]->size);
		p += 4 + v[i]->size;
	}
	h = sqfs_hash(s->data, s->len, s->count);
	s->h.hash = h;
	for (struct sqfs_hnode *e = sqfs_htab_first(&w->xsets, h); e != NULL; e = e->next) {
		struct sqfs_xset *o = (struct sqfs_xset *) e;

		if (e->hash == h && o->count == s->count && o->len == s->len &&
		    memcmp(o->data, s->data, s->len) == 0) {
			free(s);
			*out = o;
			return 0;
		}
	}
	sqfs_htab_insert(&w->xsets, &s->h);
	*out = s;
	return 0;
}

/* Decode an interned set back into xattrs; names are rebuilt with their prefix in `names`. */
static size_t xset_decode(const struct sqfs_xset *s, struct sqfs_xattr *out, char *names)
{
	const uint8_t *p = s->data;

	for (uint32_t i = 0; i < s->count; i++) {
		uint16_t type = (uint16_t) (p[0] | p[1] << 8), nlen = (uint16_t) (p[2] | p[3] << 8);
		uint32_t vlen;
		int k = sprintf(names, "%s%.*s", xattr_prefixes[type], (int) nlen,
				(const char *) p + 4);

		p += 4 + nlen;
		vlen = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
		       (uint32_t) p[3] << 24;
		out[i] = (struct sqfs_xattr){ names, p + 4, vlen };
		names += k + 1;
		p += 4 + vlen;
	}
	return s->count;
}

/* Intern the union of two sets, `over` winning where both name the same xattr. */
int sqfs_xset_merge(struct sqfs_writer *w, const char *path, const struct sqfs_xset *under,
		    const struct sqfs_xset *over, struct sqfs_xset **out, struct berr **err)
{
	_cleanup_free_ struct sqfs_xattr *v = NULL;
	_cleanup_free_ char *names = NULL;
	size_t n, k, m;

	if (under == NULL || over == NULL) {
		*out = (struct sqfs_xset *) (over != NULL ? over : under);
		return 0;
	}
	v = xcalloc(under->count + over->count, sizeof(*v));
	/* Each name is at most 10 bytes of prefix + 255, plus its NUL. */
	names = xmalloc((size_t) (under->count + over->count) * (SQFS_NAME_MAX + 12));
	n = xset_decode(over, v, names);
	m = xset_decode(under, v + n, names + n * (SQFS_NAME_MAX + 12));
	k = n;
	for (size_t i = n; i < n + m; i++) {
		bool shadowed = false;

		for (size_t j = 0; j < n && !shadowed; j++)
			shadowed = strcmp(v[i].name, v[j].name) == 0;
		if (!shadowed)
			v[k++] = v[i];
	}
	return sqfs_xset_intern(w, path, v, k, out, err);
}
