/* The error type: creation, wrapping with context, reporting. */
#include "err.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Used when malloc fails, so that PID 1 can still report something and never aborts. */
static struct berr oom_error = { ENOMEM, EXIT_BERTH, (char *) "out of memory" };

static int vmake(struct berr **err, int errcode, int status, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static int vmake(struct berr **err, int errcode, int status, const char *fmt, va_list ap)
{
	char *msg = NULL;
	struct berr *e;

	if (err == NULL)
		return -1;
	if (*err != NULL) /* keep the first error: it is the cause */
		return -1;
	if (vasprintf(&msg, fmt, ap) < 0) {
		*err = &oom_error;
		return -1;
	}
	if (errcode) {
		char *full = NULL;
		if (asprintf(&full, "%s: %s", msg, strerror(errcode)) < 0) {
			free(msg);
			*err = &oom_error;
			return -1;
		}
		free(msg);
		msg = full;
	}
	e = malloc(sizeof(*e));
	if (e == NULL) {
		free(msg);
		*err = &oom_error;
		return -1;
	}
	e->errcode = errcode;
	e->status = status;
	e->msg = msg;
	*err = e;
	return -1;
}

int berr_make(struct berr **err, int errcode, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vmake(err, errcode, EXIT_BERTH, fmt, ap);
	va_end(ap);
	return ret;
}

int berr_usage(struct berr **err, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vmake(err, 0, EXIT_USAGE, fmt, ap);
	va_end(ap);
	return ret;
}

int berr_wrap(struct berr **err, const char *fmt, ...)
{
	char *ctx = NULL, *full = NULL;
	va_list ap;

	if (err == NULL || *err == NULL || *err == &oom_error)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		ctx = NULL;
	va_end(ap);
	if (ctx == NULL)
		return -1;
	if (asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(ctx);
	return -1;
}

void berr_free(struct berr *err)
{
	if (err == NULL || err == &oom_error)
		return;
	free(err->msg);
	free(err);
}

int berr_report(struct berr *err)
{
	int status;

	if (err == NULL)
		return EXIT_OK;
	status = err->status;
	log_error("%s", err->msg);
	berr_free(err);
	return status;
}
