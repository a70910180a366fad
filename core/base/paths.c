/* On-disk paths under the data root and the run dir. Nothing else in berth builds them. */
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char root_dir[PATH_MAX] = PATHS_DEFAULT_ROOT;
static char run_dir[PATH_MAX] = PATHS_DEFAULT_RUN_DIR;

static int set_dir(char *dst, const char *src)
{
	char tmp[PATH_MAX];
	size_t n;

	if (src == NULL || src[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	if (str_copy(tmp, sizeof(tmp), src) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Trailing slashes would double up in every joined path. */
	for (n = strlen(tmp); n > 1 && tmp[n - 1] == '/'; n--)
		tmp[n - 1] = '\0';
	memcpy(dst, tmp, strlen(tmp) + 1);
	return 0;
}

int paths_init(const char *root, const char *run)
{
	char r[PATH_MAX], d[PATH_MAX];

	if (set_dir(r, root ? root : PATHS_DEFAULT_ROOT) < 0 ||
	    set_dir(d, run ? run : PATHS_DEFAULT_RUN_DIR) < 0)
		return -1;
	memcpy(root_dir, r, sizeof(r));
	memcpy(run_dir, d, sizeof(d));
	return 0;
}

const char *paths_root(void)
{
	return root_dir;
}

const char *paths_run_dir(void)
{
	return run_dir;
}

static int fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= size) {
		if (size)
			buf[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int paths_component_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255 || strchr(name, '/') != NULL)
		return 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	return 1;
}

static int component(const char *name)
{
	if (!paths_component_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int paths_blobs_dir(char *buf, size_t size)
{
	return fmt(buf, size, "%s/blobs/sha256", root_dir);
}

int paths_blob(char *buf, size_t size, const char *hex)
{
	if (component(hex) < 0)
		return -1;
	return fmt(buf, size, "%s/blobs/sha256/%s", root_dir, hex);
}

int paths_layers_dir(char *buf, size_t size)
{
	return fmt(buf, size, "%s/layers", root_dir);
}

int paths_layer(char *buf, size_t size, const char *chainid)
{
	if (component(chainid) < 0)
		return -1;
	return fmt(buf, size, "%s/layers/%s.sqfs", root_dir, chainid);
}

int paths_layer_dir(char *buf, size_t size, const char *chainid)
{
	if (component(chainid) < 0)
		return -1;
	return fmt(buf, size, "%s/layers/%s", root_dir, chainid);
}

int paths_refs(char *buf, size_t size)
{
	return fmt(buf, size, "%s/refs.json", root_dir);
}

int paths_containers_dir(char *buf, size_t size)
{
	return fmt(buf, size, "%s/containers", root_dir);
}

int paths_container(char *buf, size_t size, const char *id)
{
	if (component(id) < 0)
		return -1;
	return fmt(buf, size, "%s/containers/%s", root_dir, id);
}

int paths_volume(char *buf, size_t size, const char *name)
{
	if (component(name) < 0)
		return -1;
	return fmt(buf, size, "%s/volumes/%s/_data", root_dir, name);
}

int paths_volumes_dir(char *buf, size_t size)
{
	return fmt(buf, size, "%s/volumes", root_dir);
}

int paths_volume_dir(char *buf, size_t size, const char *name)
{
	if (component(name) < 0)
		return -1;
	return fmt(buf, size, "%s/volumes/%s", root_dir, name);
}

int paths_volume_file(char *buf, size_t size, const char *name, const char *file)
{
	if (component(name) < 0 || component(file) < 0)
		return -1;
	return fmt(buf, size, "%s/volumes/%s/%s", root_dir, name, file);
}

int paths_container_file(char *buf, size_t size, const char *id, const char *file)
{
	if (component(id) < 0 || component(file) < 0)
		return -1;
	return fmt(buf, size, "%s/containers/%s/%s", root_dir, id, file);
}

int paths_container_run(char *buf, size_t size, const char *id, const char *file)
{
	if (component(id) < 0 || (file && component(file) < 0))
		return -1;
	if (file == NULL)
		return fmt(buf, size, "%s/containers/%s", run_dir, id);
	return fmt(buf, size, "%s/containers/%s/%s", run_dir, id, file);
}

int paths_containers_lock(char *buf, size_t size)
{
	return fmt(buf, size, "%s/containers/.lock", root_dir);
}

int paths_state(char *buf, size_t size)
{
	return fmt(buf, size, "%s/state.json", root_dir);
}

int paths_last_shutdown(char *buf, size_t size)
{
	return fmt(buf, size, "%s/last-shutdown", root_dir);
}

int paths_tmp_dir(char *buf, size_t size)
{
	return fmt(buf, size, "%s/tmp", root_dir);
}

int paths_partial(char *buf, size_t size, const char *hex)
{
	if (component(hex) < 0)
		return -1;
	return fmt(buf, size, "%s/tmp/%s.partial", root_dir, hex);
}

int paths_tmp_file(char *buf, size_t size, const char *name)
{
	if (component(name) < 0)
		return -1;
	return fmt(buf, size, "%s/tmp/%s", root_dir, name);
}

int paths_refs_lock(char *buf, size_t size)
{
	return fmt(buf, size, "%s/refs.lock", root_dir);
}

int paths_gc_lock(char *buf, size_t size)
{
	return fmt(buf, size, "%s/gc.lock", root_dir);
}

int paths_auth_file(char *buf, size_t size)
{
	return fmt(buf, size, "%s/auth.json", root_dir);
}

int paths_socket(char *buf, size_t size)
{
	return fmt(buf, size, "%s/berth.sock", run_dir);
}

int paths_logs_dir(char *buf, size_t size, int persist)
{
	return fmt(buf, size, "%s/logs", persist ? root_dir : run_dir);
}

int paths_layer_mount(char *buf, size_t size, const char *chainid)
{
	if (component(chainid) < 0)
		return -1;
	return fmt(buf, size, "%s/layers/%s", run_dir, chainid);
}
