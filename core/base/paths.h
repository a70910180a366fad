/* The one place that builds on-disk paths (DESIGN.md, "On-flash layout"). Every builder writes
 * into a caller buffer and returns -1 with ENAMETOOLONG if the result does not fit. */
#ifndef BERTH_PATHS_H
#define BERTH_PATHS_H

#include <stddef.h>

#define PATHS_DEFAULT_ROOT "/var/lib/berth"
#define PATHS_DEFAULT_RUN_DIR "/run/berth"
#define PATHS_DEFAULT_CONFIG "/etc/berth/berth.conf"

/* Set the data root and the run dir (both absolute). Returns -1 (EINVAL/ENAMETOOLONG) if not. */
int paths_init(const char *root, const char *run_dir);
const char *paths_root(void);
const char *paths_run_dir(void);

int paths_blobs_dir(char *buf, size_t size);
int paths_blob(char *buf, size_t size, const char *hex);     /* blobs/sha256/<hex> */
int paths_layers_dir(char *buf, size_t size);
int paths_layer(char *buf, size_t size, const char *chainid); /* layers/<chainid>.sqfs */
int paths_layer_dir(char *buf, size_t size, const char *chainid); /* layers/<chainid>/ */
int paths_refs(char *buf, size_t size);                        /* refs.json */
int paths_containers_dir(char *buf, size_t size);
int paths_container(char *buf, size_t size, const char *id);  /* containers/<id> */
int paths_volume(char *buf, size_t size, const char *name);   /* volumes/<name>/_data */
int paths_volumes_dir(char *buf, size_t size);                 /* volumes */
int paths_volume_dir(char *buf, size_t size, const char *name); /* volumes/<name> */
/* volumes/<name>/<file>: meta.json, _data.tmp */
int paths_volume_file(char *buf, size_t size, const char *name, const char *file);
/* containers/<id>/<file>: config.json, state.json */
int paths_container_file(char *buf, size_t size, const char *id, const char *file);
/* <run-dir>/containers/<id>[/<file>]: what each start makes again (hosts, resolv.conf,
 * hostname), kept in RAM rather than written to flash at every start */
int paths_container_run(char *buf, size_t size, const char *id, const char *file);
int paths_containers_lock(char *buf, size_t size);             /* containers/.lock */
int paths_state(char *buf, size_t size);                       /* state.json */
int paths_last_shutdown(char *buf, size_t size);               /* last-shutdown */
int paths_tmp_dir(char *buf, size_t size);                     /* tmp */
int paths_partial(char *buf, size_t size, const char *hex);   /* tmp/<hex>.partial */
int paths_tmp_file(char *buf, size_t size, const char *name); /* tmp/<name> */
int paths_refs_lock(char *buf, size_t size);                   /* refs.lock */
int paths_gc_lock(char *buf, size_t size);                     /* gc.lock */
int paths_auth_file(char *buf, size_t size);                   /* auth.json (berth login) */
int paths_socket(char *buf, size_t size);                      /* <run>/berth.sock */
int paths_layer_mount(char *buf, size_t size, const char *chainid); /* <run>/layers/<chainid> */
/* Container logs: <run>/logs (RAM), or <root>/logs when `persist` ([logs] persist = yes). */
int paths_logs_dir(char *buf, size_t size, int persist);

/* A path component from outside (an id, a name, a digest hex) must be one component:
 * non-empty, no '/', not "." or "..", no NUL; at most 255 bytes. */
int paths_component_ok(const char *name);

#endif
