/* Docker's JSON seccomp profile format (defaultAction, architectures/archMap, syscalls with
 * names, action, errnoRet, args, includes/excludes) parsed into a struct secc_profile. The file
 * is outside input: sizes and counts bounded, every error names the field. */
#include "runtime/seccomp.h"
#include "runtime/caps.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC 1
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG 2
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW 4
#endif

static const struct {
	const char *name;
	uint32_t arch;
} arch_names[] = {
	{ "SCMP_ARCH_X86", SCMP_ARCH_X86 },
	{ "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
	{ "SCMP_ARCH_X32", SCMP_ARCH_X32 },
	{ "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
	{ "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
	{ "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
	{ "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
	{ "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
	{ "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
	{ "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
	{ "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
	{ "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
	{ "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
	{ "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
	{ "SCMP_ARCH_S390", SCMP_ARCH_S390 },
	{ "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
	{ "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
	{ "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
	{ "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
};

static const struct {
	const char *name;
	enum secc_action action;
} action_names[] = {
	{ "SCMP_ACT_KILL", SECC_ACT_KILL_THREAD },
	{ "SCMP_ACT_KILL_THREAD", SECC_ACT_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", SECC_ACT_KILL_PROCESS },
	{ "SCMP_ACT_TRAP", SECC_ACT_TRAP },
	{ "SCMP_ACT_ERRNO", SECC_ACT_ERRNO },
	{ "SCMP_ACT_TRACE", SECC_ACT_TRACE },
	{ "SCMP_ACT_ALLOW", SECC_ACT_ALLOW },
	{ "SCMP_ACT_LOG", SECC_ACT_LOG },
};

static const struct {
	const char *name;
	enum secc_op op;
} op_names[] = {
	{ "SCMP_CMP_NE", SECC_OP_NE },
	{ "SCMP_CMP_LT", SECC_OP_LT },
	{ "SCMP_CMP_LE", SECC_OP_LE },
	{ "SCMP_CMP_EQ", SECC_OP_EQ },
	{ "SCMP_CMP_GE", SECC_OP_GE },
	{ "SCMP_CMP_GT", SECC_OP_GT },
	{ "SCMP_CMP_MASKED_EQ", SECC_OP_MASKED_EQ },
};

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
};

struct jctx {
	const char *name;   /* file name for messages */
	struct berr **err;
};

static int jerr(struct jctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int jerr(struct jctx *c, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return berr_usage(c->err, "seccomp profile `%s`: %s: %s", c->name, field, msg);
}

/* Every key of `obj` must be one of `keys` (NULL-terminated) or "comment". */
static int check_keys(struct jctx *c, json_t *obj, const char *field, const char *const *keys)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		bool ok = strcmp(key, "comment") == 0;
		for (size_t i = 0; !ok && keys[i]; i++)
			ok = strcmp(key, keys[i]) == 0;
		if (!ok)
			return jerr(c, field, "unknown key `%.64s`", key);
	}
	return 0;
}

/* A bounded string, or an error naming the field. */
static int get_str(struct jctx *c, json_t *v, const char *field, const char **out)
{
	if (!json_is_string(v))
		return jerr(c, field, "expected a string");
	if (json_string_length(v) == 0 || json_string_length(v) > SECC_STR_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return jerr(c, field, "expected a name of 1 to %u characters", SECC_STR_MAX);
	*out = json_string_value(v);
	return 0;
}

static int get_strv(struct jctx *c, json_t *a, const char *field, size_t max, char ***out,
		    size_t *n)
{
	char item[192];
	size_t count;

	*out = NULL;
	*n = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return jerr(c, field, "expected an array of strings");
	count = json_array_size(a);
	if (count > max)
		return jerr(c, field, "more than %zu entries", max);
	*out = calloc(count ? count : 1, sizeof(char *));
	if (*out == NULL)
		return berr_make(c->err, ENOMEM, "seccomp profile");
	for (size_t i = 0; i < count; i++) {
		const char *s;
		snprintf(item, sizeof(item), "%s[%zu]", field, i);
		if (get_str(c, json_array_get(a, i), item, &s) < 0)
			return -1;
		(*out)[i] = strdup(s);
		if ((*out)[i] == NULL)
			return berr_make(c->err, ENOMEM, "seccomp profile");
		(*n)++;
	}
	return 0;
}

static int get_u64(struct jctx *c, json_t *v, const char *field, uint64_t max, uint64_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return jerr(c, field, "expected an integer");
	i = json_integer_value(v);
	if (i < 0 || (uint64_t) i > max)
		return jerr(c, field, "%lld is out of range 0-%llu", (long long) i,
			    (unsigned long long) max);
	*out = (uint64_t) i;
	return 0;
}

static int parse_action(struct jctx *c, json_t *v, const char *field, enum secc_action *out)
{
	const char *s;

	if (get_str(c, v, field, &s) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(action_names); i++) {
		if (strcmp(s, action_names[i].name) == 0) {
			*out = action_names[i].action;
			return 0;
		}
	}
	if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
		return jerr(c, field, "SCMP_ACT_NOTIFY is not supported by berth");
	return jerr(c, field, "unknown action `%s`", s);
}

static int parse_arch(struct jctx *c, json_t *v, const char *field, uint32_t *out)
{
	const char *s;

	if (get_str(c, v, field, &s) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++) {
		if (strcmp(s, arch_names[i].name) == 0) {
			*out = arch_names[i].arch;
			return 0;
		}
	}
	return jerr(c, field, "unknown architecture `%s`", s);
}

static int parse_caps(struct jctx *c, json_t *a, const char *field, uint64_t *out)
{
	char item[192];

	*out = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > CAPS_MAX)
		return jerr(c, field, "expected an array of at most %d capability names", CAPS_MAX);
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s;
		int cap;
		snprintf(item, sizeof(item), "%s[%zu]", field, i);
		if (get_str(c, json_array_get(a, i), item, &s) < 0)
			return -1;
		cap = caps_from_name(s);
		if (cap < 0)
			return jerr(c, item, "unknown capability `%s`", s);
		*out |= CAPS_BIT(cap);
	}
	return 0;
}

/* "includes" / "excludes" */
static int parse_filter(struct jctx *c, json_t *o, const char *field, uint64_t *caps,
			char ***arches, size_t *n_arches, unsigned *min_kernel)
{
	static const char *const keys[] = { "caps", "arches", "minKernel", NULL };
	char sub[160];
	json_t *v;

	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return jerr(c, field, "expected an object");
	if (check_keys(c, o, field, keys) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s.caps", field);
	if (parse_caps(c, json_object_get(o, "caps"), sub, caps) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s.arches", field);
	if (get_strv(c, json_object_get(o, "arches"), sub, SECC_ARCHES_MAX, arches, n_arches) < 0)
		return -1;
	v = json_object_get(o, "minKernel");
	if (v && !json_is_null(v)) {
		const char *s;
		snprintf(sub, sizeof(sub), "%s.minKernel", field);
		if (min_kernel == NULL)
			return jerr(c, sub, "only allowed in `includes`");
		if (get_str(c, v, sub, &s) < 0)
			return -1;
		*min_kernel = secc_kernel_version(s);
		if (*min_kernel == 0)
			return jerr(c, sub, "`%s` is not a kernel version like 4.8", s);
	}
	return 0;
}

static int parse_arg(struct jctx *c, json_t *o, const char *field, struct secc_arg *a)
{
	static const char *const keys[] = { "index", "value", "valueTwo", "op", NULL };
	char sub[160];
	const char *op;
	uint64_t index;
	json_t *v;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(o))
		return jerr(c, field, "expected an object");
	if (check_keys(c, o, field, keys) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s.index", field);
	if (get_u64(c, json_object_get(o, "index"), sub, SECC_ARGS_MAX - 1, &index) < 0)
		return -1;
	a->index = (unsigned) index;
	snprintf(sub, sizeof(sub), "%s.value", field);
	if ((v = json_object_get(o, "value")) && get_u64(c, v, sub, UINT64_MAX, &a->value) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s.valueTwo", field);
	if ((v = json_object_get(o, "valueTwo")) &&
	    get_u64(c, v, sub, UINT64_MAX, &a->value_two) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s.op", field);
	if (get_str(c, json_object_get(o, "op"), sub, &op) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(op_names); i++)
		if (strcmp(op, op_names[i].name) == 0)
			a->op = op_names[i].op;
	if (a->op == 0)
		return jerr(c, sub, "unknown operator `%s`", op);
	return 0;
}

static int parse_rule(struct jctx *c, json_t *o, size_t idx, struct secc_rule *r)
{
	static const char *const keys[] = { "name", "names", "action", "errnoRet", "args",
					    "includes", "excludes", NULL };
	char field[64], sub[128];
	json_t *v, *args;
	uint64_t e;

	snprintf(field, sizeof(field), "syscalls[%zu]", idx);
	r->errno_ret = -1;
	if (!json_is_object(o))
		return jerr(c, field, "expected an object");
	if (check_keys(c, o, field, keys) < 0)
		return -1;
	v = json_object_get(o, "names");
	snprintf(sub, sizeof(sub), "%s.names", field);
	if (get_strv(c, v, sub, SECC_NAMES_MAX, &r->names, &r->n_names) < 0)
		return -1;
	if ((v = json_object_get(o, "name")) != NULL) { /* the older one-name form */
		const char *s;
		char **nv;
		snprintf(sub, sizeof(sub), "%s.name", field);
		if (get_str(c, v, sub, &s) < 0)
			return -1;
		nv = realloc(r->names, (r->n_names + 1) * sizeof(char *));
		if (nv == NULL)
			return berr_make(c->err, ENOMEM, "seccomp profile");
		r->names = nv;
		if ((r->names[r->n_names] = strdup(s)) == NULL)
			return berr_make(c->err, ENOMEM, "seccomp profile");
		r->n_names++;
	}
	if (r->n_names == 0)
		return jerr(c, field, "no `names`");
	snprintf(sub, sizeof(sub), "%s.action", field);
	if (parse_action(c, json_object_get(o, "action"), sub, &r->action) < 0)
		return -1;
	if ((v = json_object_get(o, "errnoRet")) != NULL && !json_is_null(v)) {
		snprintf(sub, sizeof(sub), "%s.errnoRet", field);
		if (get_u64(c, v, sub, 0xffff, &e) < 0)
			return -1;
		if (r->action != SECC_ACT_ERRNO && r->action != SECC_ACT_TRACE)
			return jerr(c, sub, "only for SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
		r->errno_ret = (int) e;
	}
	args = json_object_get(o, "args");
	if (args && !json_is_null(args)) {
		snprintf(sub, sizeof(sub), "%s.args", field);
		if (!json_is_array(args))
			return jerr(c, sub, "expected an array");
		if (json_array_size(args) > SECC_ARGS_MAX)
			return jerr(c, sub, "more than %d conditions", SECC_ARGS_MAX);
		for (size_t i = 0; i < json_array_size(args); i++) {
			snprintf(sub, sizeof(sub), "%s.args[%zu]", field, i);
			if (parse_arg(c, json_array_get(args, i), sub, &r->args[i]) < 0)
				return -1;
			r->n_args++;
		}
	}
	snprintf(sub, sizeof(sub), "%s.includes", field);
	if (parse_filter(c, json_object_get(o, "includes"), sub, &r->includes_caps,
			 &r->includes_arches, &r->n_includes_arches, &r->min_kernel) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s.excludes", field);
	return parse_filter(c, json_object_get(o, "excludes"), sub, &r->excludes_caps,
			    &r->excludes_arches, &r->n_excludes_arches, NULL);
}

static int parse_arches(struct jctx *c, json_t *root, struct secc_profile *p)
{
	static const char *const map_keys[] = { "architecture", "subArchitectures", NULL };
	json_t *list = json_object_get(root, "architectures"), *map = json_object_get(root, "archMap");
	char field[64];

	if (list && json_is_null(list))
		list = NULL;
	if (map && json_is_null(map))
		map = NULL;
	if (list && map)
		return jerr(c, "architectures", "give either `architectures` or `archMap`");
	if (list == NULL && map == NULL)
		return 0;
	if (!json_is_array(list ? list : map))
		return jerr(c, list ? "architectures" : "archMap", "expected an array");
	p->n_arches = 0;
	p->arch_map = map != NULL;
	if (json_array_size(list ? list : map) > SECC_ARCHES_MAX)
		return jerr(c, list ? "architectures" : "archMap", "more than %u entries",
			    SECC_ARCHES_MAX);
	p->arches = calloc(SECC_ARCHES_MAX, sizeof(*p->arches));
	if (p->arches == NULL)
		return berr_make(c->err, ENOMEM, "seccomp profile");
	for (size_t i = 0; i < json_array_size(list ? list : map); i++) {
		struct secc_archmap *a = &p->arches[i];
		json_t *e = json_array_get(list ? list : map, i), *subs;

		snprintf(field, sizeof(field), "%s[%zu]", list ? "architectures" : "archMap", i);
		if (list) {
			if (parse_arch(c, e, field, &a->arch) < 0)
				return -1;
			p->n_arches++;
			continue;
		}
		if (!json_is_object(e))
			return jerr(c, field, "expected an object");
		if (check_keys(c, e, field, map_keys) < 0)
			return -1;
		{
			char sub[96];
			snprintf(sub, sizeof(sub), "%s.architecture", field);
			if (parse_arch(c, json_object_get(e, "architecture"), sub, &a->arch) < 0)
				return -1;
			subs = json_object_get(e, "subArchitectures");
			snprintf(sub, sizeof(sub), "%s.subArchitectures", field);
			if (subs && !json_is_null(subs)) {
				if (!json_is_array(subs) || json_array_size(subs) > SECC_ARCHES_MAX)
					return jerr(c, sub, "expected an array of at most %u "
						    "architectures", SECC_ARCHES_MAX);
				for (size_t j = 0; j < json_array_size(subs); j++) {
					char item[192];
					snprintf(item, sizeof(item), "%s[%zu]", sub, j);
					if (parse_arch(c, json_array_get(subs, j), item,
						       &a->subs[j]) < 0)
						return -1;
					a->n_subs++;
				}
			}
		}
		p->n_arches++;
	}
	return 0;
}

int secc_profile_parse(const char *name, const char *json, size_t len, struct secc_profile *out,
		       struct berr **err)
{
	static const char *const keys[] = { "defaultAction", "defaultErrnoRet", "architectures",
					    "archMap", "syscalls", "flags", "listenerPath",
					    "listenerMetadata", NULL };
	struct jctx c = { name, err };
	json_error_t jerror;
	json_t *root, *v;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->default_errno = -1;
	if (len > SECC_PROFILE_MAX)
		return berr_usage(err, "seccomp profile `%s`: larger than %u bytes", name,
				  SECC_PROFILE_MAX);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerror);
	if (root == NULL)
		return berr_usage(err, "seccomp profile `%s`: line %d: %s", name, jerror.line,
				  jerror.text);
	if (!json_is_object(root)) {
		jerr(&c, "(top)", "expected an object");
		goto out;
	}
	if (check_keys(&c, root, "(top)", keys) < 0)
		goto out;
	if (json_object_get(root, "listenerPath") || json_object_get(root, "listenerMetadata")) {
		jerr(&c, "listenerPath", "seccomp notify listeners are not supported by berth");
		goto out;
	}
	if (parse_action(&c, json_object_get(root, "defaultAction"), "defaultAction",
			 &out->default_action) < 0)
		goto out;
	if ((v = json_object_get(root, "defaultErrnoRet")) != NULL && !json_is_null(v)) {
		uint64_t e;
		if (get_u64(&c, v, "defaultErrnoRet", 0xffff, &e) < 0)
			goto out;
		out->default_errno = (int) e;
	}
	if (parse_arches(&c, root, out) < 0)
		goto out;
	if ((v = json_object_get(root, "flags")) != NULL && !json_is_null(v)) {
		if (!json_is_array(v) || json_array_size(v) > ARRAY_SIZE(flag_names)) {
			jerr(&c, "flags", "expected an array of SECCOMP_FILTER_FLAG_* names");
			goto out;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			char field[32];
			const char *s;
			unsigned f = 0;
			snprintf(field, sizeof(field), "flags[%zu]", i);
			if (get_str(&c, json_array_get(v, i), field, &s) < 0)
				goto out;
			for (size_t k = 0; k < ARRAY_SIZE(flag_names); k++)
				if (strcmp(s, flag_names[k].name) == 0)
					f = flag_names[k].flag;
			if (f == 0) {
				jerr(&c, field, "unknown flag `%s`", s);
				goto out;
			}
			out->flags |= f;
		}
	}
	if ((v = json_object_get(root, "syscalls")) != NULL && !json_is_null(v)) {
		if (!json_is_array(v)) {
			jerr(&c, "syscalls", "expected an array");
			goto out;
		}
		if (json_array_size(v) > SECC_RULES_MAX) {
			jerr(&c, "syscalls", "more than %u entries", SECC_RULES_MAX);
			goto out;
		}
		out->rules = calloc(json_array_size(v) ? json_array_size(v) : 1,
				    sizeof(*out->rules));
		if (out->rules == NULL) {
			berr_make(err, ENOMEM, "seccomp profile `%s`", name);
			goto out;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			out->n_rules = i + 1;
			if (parse_rule(&c, json_array_get(v, i), i, &out->rules[i]) < 0)
				goto out;
		}
	}
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		secc_profile_free(out);
	return ret;
}

int secc_profile_load(const char *path, struct secc_profile *out, struct berr **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return berr_usage(err, "seccomp profile `%s`: %s", path, strerror(errno));
	buf = malloc(SECC_PROFILE_MAX + 1);
	if (buf == NULL)
		return berr_make(err, ENOMEM, "seccomp profile `%s`", path);
	for (;;) {
		ssize_t r = read(fd, buf + len, SECC_PROFILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return berr_make(err, errno, "read seccomp profile `%s`", path);
		if (r == 0)
			break;
		len += (size_t) r;
		if (len > SECC_PROFILE_MAX)
			return berr_usage(err, "seccomp profile `%s`: larger than %u bytes", path,
					  SECC_PROFILE_MAX);
	}
	return secc_profile_parse(path, buf, len, out, err);
}

