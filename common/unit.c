/*
 * The unit model: a service's enums and their names, defaults, canonical
 * order and freeing, the stack that holds services, and the predicates
 * every form's decoder and the rules (unitcheck.c) are built on.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util.h"

static const char *const restart_names[] = {
	"no", "always", "unless-stopped", "on-failure",
};

const char *
unit_dep_cond_name(enum dep_cond c)
{
	switch (c) {
	case DEP_STARTED:
		return "started";
	case DEP_HEALTHY:
		return "healthy";
	case DEP_COMPLETED:
		return "completed";
	}
	return NULL;
}

const char *
unit_heal_name(enum unit_heal h)
{
	switch (h) {
	case HEAL_RESTART:
		return "restart";
	case HEAL_NONE:
		return "none";
	case HEAL_DEFAULT:
		break;
	}
	return NULL;
}

int
unit_heal_parse(const char *s, enum unit_heal *out)
{
	if (strcmp(s, "restart") == 0)
		*out = HEAL_RESTART;
	else if (strcmp(s, "none") == 0)
		*out = HEAL_NONE;
	else
		return -1;
	return 0;
}

int
unit_dep_cond_parse(const char *s, enum dep_cond *out)
{
	static const enum dep_cond all[] = {
		DEP_STARTED, DEP_HEALTHY, DEP_COMPLETED
	};
	size_t i;

	for (i = 0; i < nitems(all); i++) {
		if (strcmp(s, unit_dep_cond_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* Enums numbered from 0 map onto a name table. */
static const char *
table_name(const char *const *t, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? t[v] : NULL;
}

static int
table_parse(const char *const *t, size_t n, const char *s, int *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(s, t[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const health_names[] = {
	[HEALTH_IMAGE] = "image", [HEALTH_DISABLED] = "disabled",
	[HEALTH_CMD] = "cmd", [HEALTH_HTTP] = "http", [HEALTH_TCP] = "tcp",
};
static const char *const mount_names[] = {
	[MOUNT_VOLUME] = "volume", [MOUNT_BIND] = "bind",
};
static const char *const order_names[] = {
	[UPDATE_STOP_FIRST] = "stop-first",
	[UPDATE_START_FIRST] = "start-first",
};
static const char *const failure_names[] = {
	[UPDATE_ROLLBACK] = "rollback", [UPDATE_PAUSE] = "pause",
};

const char *
unit_health_kind_name(enum unit_health_kind k)
{
	return table_name(health_names, nitems(health_names), (int)k);
}

const char *
unit_mount_kind_name(int k)
{
	return table_name(mount_names, nitems(mount_names), k);
}

const char *
unit_update_order_name(enum unit_update_order o)
{
	return table_name(order_names, nitems(order_names), (int)o);
}

const char *
unit_update_failure_name(enum unit_update_failure f)
{
	return table_name(failure_names, nitems(failure_names), (int)f);
}

int
unit_health_kind_parse(const char *s, enum unit_health_kind *out)
{
	int v;

	if (table_parse(health_names, nitems(health_names), s, &v) != 0)
		return -EINVAL;
	*out = (enum unit_health_kind)v;
	return 0;
}

int
unit_mount_kind_parse(const char *s, int *out)
{
	return table_parse(mount_names, nitems(mount_names), s, out);
}

int
unit_update_order_parse(const char *s, enum unit_update_order *out)
{
	int v;

	if (table_parse(order_names, nitems(order_names), s, &v) != 0)
		return -EINVAL;
	*out = (enum unit_update_order)v;
	return 0;
}

int
unit_update_failure_parse(const char *s, enum unit_update_failure *out)
{
	int v;

	if (table_parse(failure_names, nitems(failure_names), s, &v) != 0)
		return -EINVAL;
	*out = (enum unit_update_failure)v;
	return 0;
}

bool
unit_restart_valid(const char *name, int max)
{
	int i;

	if (name == NULL || max < 0)
		return false;
	if (table_parse(restart_names, nitems(restart_names), name, &i) != 0)
		return false;
	return max == 0 || strcmp(name, "on-failure") == 0;
}

int
unit_restart_parse(const char *s, char **name, int *max)
{
	const char	*colon = strchr(s, ':');
	char		*end;
	long		 n = 0;
	int		 i;

	if (colon != NULL) {
		if (strncmp(s, "on-failure:", 11) != 0 || !isdigit(
		    (unsigned char)colon[1]))
			return -EINVAL;
		errno = 0;
		n = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || n > INT_MAX)
			return -EINVAL;
		*name = xstrdup("on-failure");
		*max = (int)n;
		return 0;
	}
	if (table_parse(restart_names, nitems(restart_names), s, &i) != 0)
		return -EINVAL;
	*name = xstrdup(s);
	*max = 0;
	return 0;
}

static bool
name_valid(const char *s, const char *first, const char *rest)
{
	size_t n = strlen(s);

	if (n == 0 || n > UNIT_NAME_MAX || strchr(first, s[0]) == NULL)
		return false;
	return strspn(s, rest) == n;
}

#define LOWER	"abcdefghijklmnopqrstuvwxyz"
#define UPPER	"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT	"0123456789"

bool
unit_name_valid(const char *s)
{
	return s != NULL && name_valid(s, LOWER DIGIT, LOWER DIGIT "_.-");
}

bool
stack_name_valid(const char *s)
{
	return s != NULL && name_valid(s, LOWER DIGIT, LOWER DIGIT "_-");
}

bool
unit_volume_name_valid(const char *s)
{
	return s != NULL && name_valid(s, LOWER UPPER DIGIT,
	    LOWER UPPER DIGIT "_.-");
}

bool
unit_env_key_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL || *s == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p == '=' || *p <= ' ' || *p == 0x7f)
			return false;
	}
	return true;
}

bool
unit_signal_valid(const char *s)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 32)
		return false;
	if (strspn(s, DIGIT) == n)
		return s[0] != '0' && n <= 2;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	return strchr(UPPER, s[0]) != NULL && s[0] != '\0' &&
	    strspn(s, UPPER DIGIT "+-") == strlen(s);
}

bool
unit_hostname_valid(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > UNIT_NAME_MAX)
		return false;
	if (s[0] == '-' || s[n - 1] == '-')
		return false;
	return strspn(s, LOWER UPPER DIGIT "-") == n;
}

/* HOST is a host name (labels joined by dots), IP an address. */
bool
unit_extra_host_valid(const char *s)
{
	const char	*colon = s != NULL ? strchr(s, ':') : NULL;
	size_t		 n;

	if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n > 253)
		return false;
	if (strspn(s, LOWER UPPER DIGIT "-.") < n || s[0] == '.' ||
	    s[0] == '-')
		return false;
	return unit_ip_valid(colon + 1);
}

bool
unit_sysctl_key_valid(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 255 || s[0] == '.' ||
	    s[n - 1] == '.')
		return false;
	return strspn(s, LOWER UPPER DIGIT "._-/") == n;
}

bool
unit_tmpfs_valid(const char *s)
{
	const char	*colon = s != NULL ? strchr(s, ':') : NULL;
	size_t		 n = colon != NULL ? (size_t)(colon - s) : strlen(s);

	if (s == NULL || s[0] != '/' || n >= PATH_MAX)
		return false;
	return colon == NULL || (colon[1] != '\0' && strspn(colon + 1,
	    LOWER UPPER DIGIT "=,.-_") == strlen(colon + 1));
}

bool
unit_ulimit_name_valid(const char *s)
{
	static const char *const names[] = { "core", "cpu", "data", "fsize",
	    "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
	    "rtprio", "rttime", "sigpending", "stack" };
	size_t i;

	for (i = 0; s != NULL && i < nitems(names); i++) {
		if (strcmp(s, names[i]) == 0)
			return true;
	}
	return false;
}

static int
ulimit_number(const char *s, const char *end, long long *out)
{
	char		*e;
	long long	 v;

	if (s == end || (!isdigit((unsigned char)*s) && *s != '-'))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno != 0 || e != end || v < -1)
		return -EINVAL;
	*out = v;
	return 0;
}

int
unit_ulimit_parse(const char *s, long long *soft, long long *hard)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL) {
		if (ulimit_number(s, s + strlen(s), soft) != 0)
			return -EINVAL;
		*hard = *soft;
		return 0;
	}
	if (ulimit_number(s, colon, soft) != 0 ||
	    ulimit_number(colon + 1, colon + strlen(colon), hard) != 0)
		return -EINVAL;
	if (*hard != -1 && (*soft == -1 || *soft > *hard))
		return -EINVAL;
	return 0;
}

bool
unit_abs_path_valid(const char *s)
{
	return s != NULL && s[0] == '/' && strlen(s) < PATH_MAX;
}

bool
unit_ip_valid(const char *s)
{
	unsigned char addr[16];

	return s != NULL && (inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1);
}

bool
unit_proto_valid(const char *s)
{
	return s != NULL && (strcmp(s, "tcp") == 0 || strcmp(s, "udp") == 0);
}

bool
unit_health_test_valid(char *const *v)
{
	size_t n;

	if (v == NULL)
		return false;
	for (n = 0; v[n] != NULL; n++)
		;
	return (n >= 2 && strcmp(v[0], "CMD") == 0) ||
	    (n == 2 && strcmp(v[0], "CMD-SHELL") == 0);
}

void
unit_defaults(struct unit *u)
{
	u->replicas = 1;
	u->health.kind = HEALTH_IMAGE;
	u->health.start_interval_ms = UNIT_DEF_START_INTERVAL_MS;
	u->update.order = UPDATE_STOP_FIRST;
	u->update.parallelism = 1;
	u->update.healthy_deadline_ms = UNIT_DEF_DEADLINE_MS;
	u->update.on_failure = UPDATE_ROLLBACK;
	u->restart = xstrdup("unless-stopped");
	u->stop_grace_ms = UNIT_DEF_STOP_GRACE_MS;
}

int
unit_kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct unit_kv *)a)->key,
	    ((const struct unit_kv *)b)->key);
}

void
unit_kv_push(struct unit_kv **v, size_t *n, char *key, char *value)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n].key = key;
	(*v)[*n].value = value;
	(*n)++;
}

bool
unit_kv_has(const struct unit_kv *v, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			return true;
	return false;
}

static int
port_cmp(const void *a, const void *b)
{
	const struct unit_port	*p = a, *q = b;
	int			 c;

	if (p->container_port != q->container_port)
		return p->container_port < q->container_port ? -1 : 1;
	if ((c = strcmp(p->proto, q->proto)) != 0)
		return c;
	if (p->host_port != q->host_port)
		return p->host_port < q->host_port ? -1 : 1;
	return strcmp(p->host_ip ? p->host_ip : "",
	    q->host_ip ? q->host_ip : "");
}

static int
mount_cmp(const void *a, const void *b)
{
	return strcmp(((const struct unit_mount *)a)->target,
	    ((const struct unit_mount *)b)->target);
}

static int
dep_cmp(const void *a, const void *b)
{
	return strcmp(((const struct unit_dep *)a)->name,
	    ((const struct unit_dep *)b)->name);
}

static int
net_cmp(const void *a, const void *b)
{
	return strcmp(((const struct unit_net *)a)->name,
	    ((const struct unit_net *)b)->name);
}

static int
dev_cmp(const void *a, const void *b)
{
	const struct unit_device *p = a, *q = b;

	if (p->container == NULL || q->container == NULL)
		return (p->container == NULL) - (q->container == NULL);
	return strcmp(p->container, q->container);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
strv_sort(char **v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	if (n > 1)
		qsort(v, n, sizeof *v, str_cmp);
}

void
unit_sort(struct unit *u)
{
	if (u->nenv > 1)
		qsort(u->env, u->nenv, sizeof *u->env, unit_kv_cmp);
	if (u->nlabels > 1)
		qsort(u->labels, u->nlabels, sizeof *u->labels, unit_kv_cmp);
	if (u->nports > 1)
		qsort(u->ports, u->nports, sizeof *u->ports, port_cmp);
	if (u->nmounts > 1)
		qsort(u->mounts, u->nmounts, sizeof *u->mounts, mount_cmp);
	if (u->ndeps > 1)
		qsort(u->deps, u->ndeps, sizeof *u->deps, dep_cmp);
	if (u->nnetworks > 1)
		qsort(u->networks, u->nnetworks, sizeof *u->networks,
		    net_cmp);
	if (u->ndevices > 1)
		qsort(u->devices, u->ndevices, sizeof *u->devices, dev_cmp);
	strv_sort(u->cap_add);
	strv_sort(u->cap_drop);
	if (u->nsysctls > 1)
		qsort(u->sysctls, u->nsysctls, sizeof *u->sysctls, unit_kv_cmp);
	if (u->nulimits > 1)
		qsort(u->ulimits, u->nulimits, sizeof *u->ulimits, unit_kv_cmp);
}

static void
kv_free(struct unit_kv *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

void
unit_build_free(struct unit_build *b)
{
	free(b->context);
	free(b->dockerfile);
	kv_free(b->args, b->nargs);
	free(b->target);
	kv_free(b->labels, b->nlabels);
	strv_free(b->cache_from);
	memset(b, 0, sizeof *b);
}

void
unit_free(struct unit *u)
{
	size_t i;

	if (u == NULL)
		return;
	free(u->name);
	free(u->file);
	free(u->image);
	strv_free(u->command);
	strv_free(u->entrypoint);
	kv_free(u->env, u->nenv);
	for (i = 0; i < u->nports; i++)
		free(u->ports[i].host_ip);
	free(u->ports);
	for (i = 0; i < u->nmounts; i++) {
		free(u->mounts[i].source);
		free(u->mounts[i].target);
	}
	free(u->mounts);
	for (i = 0; i < u->ndeps; i++)
		free(u->deps[i].name);
	free(u->deps);
	for (i = 0; i < u->nnetworks; i++)
		free(u->networks[i].name);
	free(u->networks);
	strv_free(u->health.test);
	free(u->health.http_path);
	free(u->restart);
	free(u->stop_signal);
	kv_free(u->labels, u->nlabels);
	free(u->user);
	free(u->working_dir);
	free(u->hostname);
	strv_free(u->extra_hosts);
	kv_free(u->sysctls, u->nsysctls);
	kv_free(u->ulimits, u->nulimits);
	strv_free(u->tmpfs);
	strv_free(u->backup.paths);
	strv_free(u->backup.pre);
	strv_free(u->backup.post);
	for (i = 0; i < u->ndevices; i++) {
		free(u->devices[i].host);
		free(u->devices[i].container);
	}
	free(u->devices);
	strv_free(u->cap_add);
	strv_free(u->cap_drop);
	unit_build_free(&u->build);
	free(u);
}

int
unit_port_number(const char *s, int *out)
{
	size_t	n = strlen(s);
	int	v;

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return -EINVAL;
	v = atoi(s);
	if (v < 1 || v > 65535)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- the stack ----------------------------------------------------------- */

struct stack *
stack_new(void)
{
	struct stack *s = xcalloc(1, sizeof *s);

	s->retain = UNIT_DEF_RETAIN;
	return s;
}

static void
names_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- notify: (the rest is unitnotify.c's) -------------------------------- */

static const char *const event_names[NOTIFY_NEVENTS] = {
	"deploy_start", "deploy_success", "deploy_failure", "rollback",
	"backup_failure", "crash_loop", "autoscale",
};

const char *
notify_event_name(enum notify_event e)
{
	if ((int)e < 0 || e >= NOTIFY_NEVENTS)
		return NULL;
	return event_names[e];
}

int
notify_event_parse(const char *s)
{
	int i;

	for (i = 0; i < NOTIFY_NEVENTS; i++) {
		if (strcmp(event_names[i], s) == 0)
			return i;
	}
	return -1;
}

static void
value_free(struct notify_value *v)
{
	free(v->value);
	free(v->env);
}

void
notify_hooks_free(struct notify_hook *h, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		value_free(&h[i].url);
		for (j = 0; j < h[i].nheaders; j++) {
			free(h[i].headers[j].name);
			value_free(&h[i].headers[j].v);
		}
		free(h[i].headers);
	}
	free(h);
}

void
stack_free(struct stack *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->name);
	free(s->dir);
	for (i = 0; i < s->nunits; i++)
		unit_free(s->units[i]);
	free(s->units);
	names_free(s->networks, s->nnetworks);
	names_free(s->volumes, s->nvolumes);
	notify_hooks_free(s->hooks, s->nhooks);
	free(s);
}

const struct unit *
stack_unit(const struct stack *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nunits; i++) {
		if (strcmp(s->units[i]->name, name) == 0)
			return s->units[i];
	}
	return NULL;
}
