/* `berth store verify`: re-hash every blob, check every layer file's squashfs superblock,
 * follow refs -> manifests -> configs -> layers, and list tmp/ leftovers; with repair, remove
 * what is corrupt (never refs: a broken ref stays, reported, for a later pull to mend). */
#ifndef BERTH_IMAGE_VERIFY_H
#define BERTH_IMAGE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

struct berr;

enum verify_kind {
	VERIFY_BLOB,
	VERIFY_LAYER,
	VERIFY_IMAGE,
	VERIFY_TMP,
	VERIFY_NOTE,  /* not a problem: resumable downloads, unreferenced data */
};

struct verify_opts {
	bool repair;
	/* One call per finding: `subject` is what it is about (a digest, a refs key, a file),
	 * `problem` what is wrong, `repaired` whether --repair removed it. */
	void (*report)(void *data, enum verify_kind kind, const char *subject, const char *problem,
		       bool repaired);
	void *data;
};

struct verify_stats {
	size_t blobs, layers, images;  /* checked */
	size_t problems;               /* found (notes not counted) */
	size_t repaired;
};

int verify_store(const struct verify_opts *o, struct verify_stats *st, struct berr **err);

/* Check a squashfs layer file: magic 0x73717368, version 4.0, bytes_used within the file and
 * the file exactly bytes_used rounded up to 4 KiB. Returns 0 if sound, 1 with the reason in
 * `why` if not, -1 if it cannot be read. */
int verify_sqfs_file(const char *path, char *why, size_t size, struct berr **err);

#endif
