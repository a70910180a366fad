/* berth's one error type: a message with context, built up as it travels to the caller. */
#ifndef BERTH_ERR_H
#define BERTH_ERR_H

#include <stdarg.h>

/* Exit statuses shared by every command (see README, "Exit codes"). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,    /* the container/app failed, or a check found something missing */
	EXIT_USAGE = 2,     /* bad command line or bad config: the user must fix something */
	EXIT_BERTH = 125,   /* berth itself failed */
	EXIT_CANNOT_INVOKE = 126,
	EXIT_NOT_FOUND = 127,
};

struct berr {
	int errcode;   /* errno at the origin, 0 if none */
	int status;    /* exit status this error should cause: EXIT_BERTH unless set */
	char *msg;     /* "context: context: origin: strerror" */
};

/* Create *err (if err is non-NULL and *err is NULL) and return -1. Appends strerror(errcode)
 * when errcode != 0. Never fails: on out-of-memory a static fallback error is used. */
int berr_make(struct berr **err, int errcode, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like berr_make, but the error is the user's to fix: the exit status becomes EXIT_USAGE. */
int berr_usage(struct berr **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix context to an existing error ("pull `x`: ..."); returns -1. */
int berr_wrap(struct berr **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void berr_free(struct berr *err);
/* Print "berth: <msg>" to stderr (or the log in PID 1), free the error, return its exit status. */
int berr_report(struct berr *err);

#define berr_make_errno(err, ...) berr_make((err), errno, __VA_ARGS__)

#endif
