/* libFuzzer target for reading log files back (core/supervisor/logs.c: logs_scan,
 * logs_parse_line), which `berth logs` does on files anything may have written into: any bytes
 * give well-formed entries inside the input, or are skipped; never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supervisor/logs.h"

struct bounds {
	const char *start, *end;
	size_t n;
};

static int check(const struct log_entry *e, void *arg)
{
	struct bounds *b = arg;

	if (e->stream != LOG_STDOUT && e->stream != LOG_STDERR)
		__builtin_trap();
	if (e->ts < b->start || e->ts + e->ts_len > b->end || e->text < b->start ||
	    e->text + e->text_len > b->end || e->ts_len == 0 || e->ts_len >= LOG_TS_MAX)
		__builtin_trap();
	if (memchr(e->text, '\n', e->text_len) != NULL)
		__builtin_trap();
	b->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounds b = { (const char *) data, (const char *) data + size, 0 };
	size_t used = logs_scan((const char *) data, size, check, &b);

	if (used > size || (used && data[used - 1] != '\n'))
		__builtin_trap();
	if (memchr(data + used, '\n', size - used) != NULL)
		__builtin_trap();
	return 0;
}
