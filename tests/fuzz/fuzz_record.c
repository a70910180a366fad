/* libFuzzer target for container records read back from flash (core/runtime/record_json.c):
 * config.json and state.json may be cut short by a power loss or rot; parsing must fail
 * cleanly, and whatever parses must dump and parse again to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "runtime/record.h"

static void check_config(const char *data, size_t size)
{
	struct rec_config c, d;
	struct berr *err = NULL;
	char *text;

	if (rec_config_parse(data, size, "config.json", &c, &err) < 0) {
		if (err == NULL)
			abort();
		berr_free(err);
		return;
	}
	if (!rec_id_valid(c.id) || !rec_name_valid(c.name))
		abort();
	text = rec_config_dump(&c);
	if (text == NULL || rec_config_parse(text, strlen(text), "again", &d, NULL) < 0)
		abort();
	if (strcmp(c.id, d.id) || strcmp(c.name, d.name) || c.created != d.created ||
	    c.n_mounts != d.n_mounts || c.argv.n != d.argv.n || c.n_labels != d.n_labels)
		abort();
	free(text);
	rec_config_free(&c);
	rec_config_free(&d);
}

static void check_state(const char *data, size_t size)
{
	struct rec_state s, t;
	struct berr *err = NULL;
	char *text;

	if (rec_state_parse(data, size, "state.json", &s, &err) < 0) {
		if (err == NULL)
			abort();
		berr_free(err);
		return;
	}
	text = rec_state_dump(&s);
	if (text == NULL || rec_state_parse(text, strlen(text), "again", &t, NULL) < 0)
		abort();
	if (s.status != t.status || s.pid != t.pid || s.exit_code != t.exit_code ||
	    s.started != t.started || s.finished != t.finished)
		abort();
	free(text);
	rec_state_free(&s);
	rec_state_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t ns;

	if (s == NULL)
		return 0;
	check_config((const char *) data, size);
	check_state((const char *) data, size);
	/* The time parser on a NUL-terminated copy. */
	memcpy(s, data, size);
	s[size] = '\0';
	if (rec_time_parse(s, &ns) == 0) {
		char buf[48];
		int64_t again;
		rec_time_format(ns, buf, sizeof(buf));
		if (rec_time_parse(buf, &again) < 0 || again != ns)
			abort();
	}
	rec_name_valid(s);
	free(s);
	return 0;
}
