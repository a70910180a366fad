/* Volumes on flash: volumes/<name>/_data holds the data, volumes/<name>/meta.json when it was
 * made, its labels, whether it is anonymous and whether the image's content was copied in.
 * Data in a volume outlives the containers that use it. */
#ifndef BERTH_RUNTIME_VOLUME_H
#define BERTH_RUNTIME_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berr;

#define VOL_NAME_MAX 128          /* bytes of a volume name */
#define VOL_ANON_LEN 64           /* hex digits of an anonymous volume's name */
#define VOL_META_MAX (256u << 10) /* bytes of meta.json */
#define VOL_LABELS_MAX 1024
#define VOL_MAX 4096              /* volumes listed */

struct vol_label {
	char *key, *value;
};

struct vol_info {
	char name[VOL_NAME_MAX + 1];
	int64_t created;         /* ns since the epoch */
	bool anonymous;
	bool populated;          /* the first mount's copy-up is done */
	struct vol_label *labels;
	size_t n_labels;
	char *problem;           /* meta.json unreadable (the volume is still listed), or NULL */
};

struct vol_list {
	struct vol_info *v;      /* sorted by name */
	size_t n;
};

/* Docker's rule for local volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, at most VOL_NAME_MAX. */
bool vol_name_valid(const char *name);

/* A `-v` value: NAME:/path, /host:/path (each with an optional :ro or :rw) or /path (an
 * anonymous volume). */
enum vol_spec_kind { VOL_SPEC_ANONYMOUS, VOL_SPEC_NAMED, VOL_SPEC_BIND };
struct vol_spec {
	enum vol_spec_kind kind;
	char *source;       /* the volume's name or the host path; NULL for an anonymous one */
	char *destination;  /* absolute */
	bool readonly;
};
/* Check the syntax and the names; usage errors read "--volume `SPEC`: ...". Allocates with
 * malloc (an ENOMEM error when that fails); nothing is left allocated on failure. */
int vol_spec_parse(const char *spec, struct vol_spec *out, struct berr **err);
void vol_spec_free(struct vol_spec *v);

/* Create volume `name`, or an anonymous one with a random 64-hex name when name is NULL or
 * "". An existing name is reused as it is (Docker's behaviour); *created (may be NULL) says
 * which. `out` (may be NULL) gets the volume. The volume is built in tmp/ and renamed into
 * volumes/, so a power cut leaves all of it or nothing. */
int vol_create(const char *name, const struct vol_label *labels, size_t n_labels,
	       struct vol_info *out, bool *created, struct berr **err);

/* Create volume `name` with the given anonymous flag if it does not exist (rec_create, so a
 * record never names a missing volume). */
int vol_ensure(const char *name, bool anonymous, struct berr **err);

/* The host path of a volume's data (volumes/<name>/_data); errors if there is no such volume. */
int vol_path(const char *name, char *buf, size_t size, struct berr **err);

/* Read one volume; "No such volume: x" (EXIT_FAILED) if missing. */
int vol_inspect(const char *name, struct vol_info *out, struct berr **err);
void vol_info_free(struct vol_info *v);

int vol_list_load(struct vol_list *out, struct berr **err);
void vol_list_free(struct vol_list *l);

/* Ids of the container records that mount volume `name`; *ids is malloc'd (vol_ids_free). */
int vol_users(const char *name, char ***ids, size_t *n, struct berr **err);
void vol_ids_free(char **ids, size_t n);

/* Remove a volume. One a container record uses is refused (EXIT_FAILED, naming the
 * containers) unless `force`; even with force, one a running container uses is refused.
 * A missing volume is an error unless `force`. The directory is renamed into tmp/ first.
 * Takes the container lock. *size (may be NULL) gets the bytes reclaimed. */
int vol_remove(const char *name, bool force, uint64_t *size, struct berr **err);

/* Remove volumes no container record uses: anonymous ones only, or all with `all`. fn (may
 * be NULL) is called for each one removed. *reclaimed gets the total bytes. */
int vol_prune(bool all, void (*fn)(void *data, const char *name, uint64_t size), void *data,
	      uint64_t *reclaimed, struct berr **err);

/* Docker's copy-up: the first time volume `name` is mounted over `path` (inside the image
 * root `image_root_fd`), if the volume is empty, copy what the image has there into it:
 * files, directories, symlinks, hard links, devices and fifos, with modes, owners, times and
 * xattrs; the volume's root takes the mode and owner of the image's directory. Done once (a
 * marker in meta.json), whether or not there was anything to copy. The copy is made in
 * volumes/<name>/_data.tmp and renamed over the empty _data, so a power cut leaves the volume
 * empty (the next mount tries again) or complete. */
int vol_populate(const char *name, int image_root_fd, const char *path, struct berr **err);

/* Startup repair: remove _data.tmp and meta.json.tmp.* leftovers of interrupted work. */
int vol_repair(struct berr **err);

#endif
