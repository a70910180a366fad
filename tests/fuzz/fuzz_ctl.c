/* libFuzzer target for the control socket's messages (core/supervisor/ctl.c): any bytes give
 * a checked request or an error that says what is wrong, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "supervisor/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berr *err = NULL;
	struct ctl_req rq;
	json_t *msg = NULL;

	if (size > CTL_REQ_MAX)
		return 0;
	if (ctl_parse((const char *) data, size, &msg, &err) < 0) {
		if (err == NULL || msg != NULL || strncmp(err->msg, "control message", 15) != 0)
			__builtin_trap();
		berr_free(err);
		return 0;
	}
	if (ctl_request(msg, &rq, &err) < 0) {
		if (err == NULL || strncmp(err->msg, "control message", 15) != 0)
			__builtin_trap();
		berr_free(err);
	} else if (rq.cmd != CTL_STATUS && (rq.name == NULL || rq.name[0] == '\0' || rq.signal <= 0)) {
		__builtin_trap();
	}
	json_decref(msg);
	return 0;
}
