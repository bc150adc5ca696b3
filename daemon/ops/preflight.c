/*
 * Pre-flight: everything that can be checked before anything is touched,
 * all of it checked and all failures reported together.  Images are
 * resolved first (and pulled now, if the engine can, before any container
 * is stopped); after the plan come host ports, free disk, the unchanged
 * services the changed ones wait on, and the names of networks and
 * volumes.  `deploy --skip-check NAME` skips one check (it is
 * recorded in the revision).
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "engine/docker.h"
#include "log.h"
#include "ops/op.h"
#include "ops/preflight.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "proto.h"
#include "util.h"

#define DISK_MIN_FREE	(256ULL * 1024 * 1024)	/* bytes, each filesystem */

struct pf {
	struct op	*op;
	preflight_cb	*done;
	int		 inflight;
};

bool
preflight_check_known(const char *name)
{
	static const char *const names[] = { "images", "pull", "ports",
	    "disk", "dependencies", "networks", "volumes" };
	size_t i;

	for (i = 0; name != NULL && i < nitems(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static bool
skipped(const struct op *op, const char *check)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(op->skip_checks, i, v)
		if (strcmp(json_string_value(v), check) == 0)
			return true;
	return false;
}

static void
report(struct op *op, const char *check, bool ok, const char *msg)
{
	preflight_report(op, check, ok, msg);
}

void
preflight_report(struct op *op, const char *check, bool ok, const char *msg)
{
	op_emit(op, PROTO_EV_PREFLIGHT, json_pack("{s:s, s:b, s:s}",
	    "check", check, "passed", ok, "message", msg));
	if (ok || skipped(op, check))
		return;
	if (op->preflight_errors == NULL)
		op->preflight_errors = json_array();
	json_array_append_new(op->preflight_errors, json_sprintf("%s: %s",
	    check, msg));
}

static void
pf_release(struct pf *pf)
{
	preflight_cb	*done = pf->done;
	struct op	*op = pf->op;

	if (--pf->inflight > 0)
		return;
	free(pf);
	done(op);
}

/* ---- images --------------------------------------------------------------- */

struct image {
	struct pf	*pf;
	char		*ref;
	bool		 pulled;
	/* Of the units that use it, the most careful: any build: or
	 * never/build forbids a pull, else any always pulls first. */
	enum unit_pull_policy policy;
};

static void	image_inspect(struct image *);

/* A missing image is fixed in a unit file: name each that uses it. */
static void
image_report(struct image *im, const char *what, const char *detail)
{
	const struct stack	*st = im->pf->op->stack;
	const struct unit	*u;
	struct buf		 b;
	size_t			 i, n = 0;

	buf_init(&b);
	buf_printf(&b, "%s: %s%s", im->ref, what, detail);
	for (i = 0; i < st->nunits; i++) {
		u = st->units[i];
		if (strcmp(u->image, im->ref) != 0)
			continue;
		buf_printf(&b, "%s %s", n++ ? "," : "; used by", u->name);
		if (u->file != NULL)
			buf_printf(&b, " (%s)", u->file);
	}
	report(im->pf->op, "images", false, b.data);
	buf_free(&b);
}

static void
on_pulled(const struct docker_result *res, void *arg)
{
	struct image	*im = arg;

	if (res->err != 0) {
		image_report(im, im->policy == PULL_ALWAYS ? "pull_policy: "
		    "always, and pulling it failed: " : "not on the engine, "
		    "and pulling it failed: ", res->message);
		pf_release(im->pf);
		free(im->ref);
		free(im);
		return;
	}
	im->pulled = true;
	image_inspect(im);
}

static void
on_inspected(const struct docker_result *res, void *arg)
{
	struct image	*im = arg;
	struct op	*op = im->pf->op;
	const char	*id;
	char		 msg[512];

	id = res->err == 0 ? json_string_value(json_object_get(res->body,
	    "Id")) : NULL;
	if (id != NULL) {
		json_object_set_new(op->images, im->ref, json_string(id));
		if (im->pulled) {
			snprintf(msg, sizeof msg, "pulled %s", im->ref);
			report(op, "images", true, msg);
		}
	} else if (res->err == DOCKER_E_NOT_FOUND && !im->pulled &&
	    (im->policy == PULL_NEVER || im->policy == PULL_BUILD)) {
		image_report(im, im->policy == PULL_NEVER ? "not present on "
		    "the engine, and pull_policy: never" : "not present on "
		    "the engine: it is built (shipctl build, or deploy without "
		    "--no-build)", "");
	} else if (res->err == DOCKER_E_NOT_FOUND && !im->pulled &&
	    !(op->kind->flags & OPK_PLAN_ONLY) && !skipped(op, "pull")) {
		/* Pull now, before anything is stopped. */
		docker_image_pull(op->sd->docker, im->ref, NULL, on_pulled, im);
		return;
	} else
		image_report(im, res->err == DOCKER_E_NOT_FOUND ? "not "
		    "present on the engine (build or load it first)" :
		    res->message, "");
	pf_release(im->pf);
	free(im->ref);
	free(im);
}

static void
image_inspect(struct image *im)
{
	struct op *op = im->pf->op;

	/* pull_policy: always pulls before it looks, except for a plan and
	 * a rollback (which runs the image IDs it recorded). */
	if (im->policy == PULL_ALWAYS && !im->pulled &&
	    !(op->kind->flags & (OPK_PLAN_ONLY | OPK_PIN)) &&
	    !skipped(op, "pull")) {
		docker_image_pull(op->sd->docker, im->ref, NULL, on_pulled, im);
		return;
	}
	docker_image_inspect(op->sd->docker, im->ref, on_inspected, im);
}

static enum unit_pull_policy
image_policy(const struct stack *st, const char *ref)
{
	const struct unit	*u;
	enum unit_pull_policy	 p = PULL_MISSING;
	size_t			 i;

	for (i = 0; i < st->nunits; i++) {
		u = st->units[i];
		if (strcmp(u->image, ref) != 0)
			continue;
		if (u->build.present && u->pull_policy != PULL_NEVER)
			return PULL_BUILD;
		if (u->pull_policy == PULL_NEVER ||
		    u->pull_policy == PULL_BUILD)
			return u->pull_policy;
		if (u->pull_policy == PULL_ALWAYS)
			p = PULL_ALWAYS;
	}
	return p;
}

void
preflight_images(struct op *op, preflight_cb *done)
{
	struct pf	*pf = xcalloc(1, sizeof *pf);
	size_t		 i, j;

	pf->op = op;
	pf->done = done;
	pf->inflight = 1;
	for (i = 0; i < op->stack->nunits; i++) {
		const char *ref = op->stack->units[i]->image;
		struct image *im;

		for (j = 0; j < i; j++)
			if (strcmp(op->stack->units[j]->image, ref) == 0)
				break;
		if (j < i)
			continue;
		im = xcalloc(1, sizeof *im);
		im->pf = pf;
		im->ref = xstrdup(ref);
		im->policy = image_policy(op->stack, ref);
		pf->inflight++;
		image_inspect(im);
	}
	pf_release(pf);
}

/* ---- after the plan ------------------------------------------------------- */

/* Host ports published by this stack's containers now: a port held by a
 * container this deploy replaces is not "in use" for it. */
static bool
held_by_stack(const struct op *op, int port, const char *proto)
{
	json_t	*c, *p;
	size_t	 i, k;

	json_array_foreach(op->containers, i, c)
		json_array_foreach(json_object_get(c, "Ports"), k, p)
			if (json_integer_value(json_object_get(p,
			    "PublicPort")) == port && strcmp(proto,
			    json_string_value(json_object_get(p, "Type")) ?
			    json_string_value(json_object_get(p, "Type")) :
			    "") == 0)
				return true;
	return false;
}

/* A bind() says whether anything on the host holds the port. */
static int
port_free(const char *ip, int port, bool udp)
{
	struct sockaddr_in	sin;
	int			fd, rc = 0, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (ip == NULL || inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
	fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static void
check_ports(struct op *op)
{
	char	msg[256];
	size_t	i, k;
	int	bad = 0, rc;

	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		if (s->action == ACT_NONE || s->action == ACT_UNCHANGED)
			continue;
		for (k = 0; k < s->unit->nports; k++) {
			const struct unit_port *p = &s->unit->ports[k];

			if (p->host_port == 0 ||
			    held_by_stack(op, p->host_port, p->proto))
				continue;
			rc = port_free(p->host_ip, p->host_port,
			    strcmp(p->proto, "udp") == 0);
			if (rc == 0)
				continue;
			snprintf(msg, sizeof msg, "%s publishes %d/%s, which %s",
			    s->unit->name, p->host_port, p->proto,
			    rc == -EADDRINUSE ? "another process on this host "
			    "holds (see ss -ltnp)" : strerror(-rc));
			report(op, "ports", false, msg);
			bad = 1;
		}
	}
	if (!bad)
		report(op, "ports", true, "published host ports are free");
}

static void
check_fs(struct op *op, const char *what, const char *path)
{
	struct statvfs	vfs;
	char		msg[256];
	uint64_t	avail;

	if (path == NULL || statvfs(path, &vfs) < 0)
		return;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	snprintf(msg, sizeof msg, "%s %s has %llu MiB free%s", what, path,
	    (unsigned long long)(avail >> 20), avail < DISK_MIN_FREE ?
	    ", below the 256 MiB floor" : "");
	report(op, "disk", avail >= DISK_MIN_FREE, msg);
}

static void
on_info(const struct docker_result *res, void *arg)
{
	struct pf	*pf = arg;
	struct op	*op = pf->op;

	check_fs(op, "state dir", op->sd->cfg.state_dir);
	if (res->err == 0)
		check_fs(op, "engine data root", json_string_value(
		    json_object_get(res->body, "DockerRootDir")));
	pf_release(pf);
}

/* A network or volume of ours may exist; one of the same name that is
 * not ours cannot be used. */
static void
on_objects(const struct docker_result *res, void *arg, const char *kind)
{
	struct pf	*pf = arg;
	struct op	*op = pf->op;
	json_t		*list, *o;
	char		 msg[256];
	size_t		 i;
	int		 bad = 0;

	list = strcmp(kind, "volumes") == 0 ?
	    json_object_get(res->body, "Volumes") : res->body;
	json_array_foreach(res->err == 0 ? list : NULL, i, o) {
		const char *name = json_string_value(json_object_get(o,
		    "Name"));
		const char *owner = json_string_value(json_object_get(
		    json_object_get(o, "Labels"), LABEL_STACK));
		size_t plen = strlen(op->stack_name);

		if (name == NULL || strncmp(name, op->stack_name, plen) != 0 ||
		    name[plen] != '_' || (owner != NULL &&
		    strcmp(owner, op->stack_name) == 0))
			continue;
		snprintf(msg, sizeof msg, "%s exists and does not belong to "
		    "stack %s", name, op->stack_name);
		report(op, kind, false, msg);
		bad = 1;
	}
	if (!bad) {
		snprintf(msg, sizeof msg, "%s can be created", kind);
		report(op, kind, true, msg);
	}
	pf_release(pf);
}

static void
on_networks(const struct docker_result *res, void *arg)
{
	on_objects(res, arg, "networks");
}

static void
on_volumes(const struct docker_result *res, void *arg)
{
	on_objects(res, arg, "volumes");
}

/* ---- what the changed services wait on ------------------------------------ */

/*
 * An unchanged service that a changed one waits on (healthy, completed)
 * and that cannot be that is reported now, by name, before anything is
 * stopped: its gate would only fail once the deploy had begun.
 */
struct deps {
	struct pf	*pf;
	int		 inflight;
	bool		 bad;
};

struct dep {
	struct deps	*ds;
	struct svc	*svc;
	int		 n;
};

/* The touched services that wait on s for cond, "api, web"; "" none. */
static char *
waiters(const struct op *op, const struct svc *s, enum dep_cond cond)
{
	struct buf	b;
	size_t		i, j;

	buf_init(&b);
	buf_append(&b, "", 0);
	for (i = 0; i < op->stack->nunits; i++) {
		const struct unit *u = op->svcs[i].unit;

		for (j = 0; op->svcs[i].touched && j < u->ndeps; j++)
			if (u->deps[j].cond == cond &&
			    strcmp(u->deps[j].name, s->unit->name) == 0) {
				buf_printf(&b, "%s%s", b.len ? ", " : "",
				    u->name);
				break;
			}
	}
	return buf_steal(&b);
}

/* The engine's last health check output, on one short line. */
static void
last_check(json_t *health, char *out, size_t len)
{
	json_t		*log = json_object_get(health, "Log");
	const char	*s = json_string_value(json_object_get(json_array_get(
	    log, json_array_size(log) - 1), "Output"));
	size_t		 n = 0;

	for (; s != NULL && *s != '\0' && n + 1 < len; s++)
		out[n++] = (unsigned char)*s < ' ' ? ' ' : *s;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static void
deps_release(struct deps *ds)
{
	if (--ds->inflight > 0)
		return;
	if (!ds->bad)
		report(ds->pf->op, "dependencies", true, "the unchanged "
		    "services the changed ones wait on are ready");
	pf_release(ds->pf);
	free(ds);
}

static void
on_dep_inspected(const struct docker_result *res, void *arg)
{
	struct dep	*dp = arg;
	struct op	*op = dp->ds->pf->op;
	json_t		*st = json_object_get(res->body, "State");
	json_t		*health = json_object_get(st, "Health");
	const char	*status = json_string_value(json_object_get(st,
	    "Status"));
	const char	*hs = json_string_value(json_object_get(health,
	    "Status"));
	json_int_t	 code = json_integer_value(json_object_get(st,
	    "ExitCode"));
	char		 msg[768], last[200], *name, *who = NULL;

	name = spec_container_name(op->stack_name, dp->svc->unit->name,
	    dp->n);
	/* An engine error is left to the gate, which says it better. */
	if (res->err == 0 && status != NULL && strcmp(status, "running") ==
	    0 && hs != NULL && strcmp(hs, "unhealthy") == 0) {
		who = waiters(op, dp->svc, DEP_HEALTHY);
		last_check(health, last, sizeof last);
		snprintf(msg, sizeof msg, "%s is unhealthy (%s%s%s), and %s, "
		    "which this deploy changes, waits for it to be healthy",
		    dp->svc->unit->name, name, *last ? ": last check: " : "",
		    last, who);
	} else if (res->err == 0 && status != NULL && strcmp(status,
	    "exited") == 0 && code != 0) {
		who = waiters(op, dp->svc, DEP_COMPLETED);
		snprintf(msg, sizeof msg, "%s exited with code %lld (%s), and "
		    "%s, which this deploy changes, waits for it to complete",
		    dp->svc->unit->name, (long long)code, name, who);
	}
	if (who != NULL && *who != '\0') {
		report(op, "dependencies", false, msg);
		dp->ds->bad = true;
	}
	free(who);
	free(name);
	deps_release(dp->ds);
	free(dp);
}

static void
check_dependencies(struct pf *pf)
{
	struct op	*op = pf->op;
	struct deps	*ds = xcalloc(1, sizeof *ds);
	size_t		 i, j;

	ds->pf = pf;
	ds->inflight = 1;
	pf->inflight++;
	for (i = 0; i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		/* A touched one is replaced or started and gated anyway. */
		if (!s->needed || s->touched)
			continue;
		for (j = 0; j < s->nreps; j++) {
			struct dep *dp;

			if (!s->reps[j].reuse || s->reps[j].id == NULL)
				continue;
			dp = xcalloc(1, sizeof *dp);
			dp->ds = ds;
			dp->svc = s;
			dp->n = s->reps[j].n;
			ds->inflight++;
			docker_container_inspect(op->sd->docker,
			    s->reps[j].id, on_dep_inspected, dp);
		}
	}
	deps_release(ds);
}

void
preflight_checks(struct op *op, preflight_cb *done)
{
	struct pf *pf = xcalloc(1, sizeof *pf);

	pf->op = op;
	pf->done = done;
	pf->inflight = 1;
	if (!skipped(op, "ports"))
		check_ports(op);
	if (!skipped(op, "disk")) {
		pf->inflight++;
		docker_info(op->sd->docker, on_info, pf);
	}
	if (!skipped(op, "dependencies"))
		check_dependencies(pf);
	if (!skipped(op, "networks")) {
		pf->inflight++;
		docker_networks_list(op->sd->docker, NULL, on_networks, pf);
	}
	if (!skipped(op, "volumes")) {
		pf->inflight++;
		docker_volumes_list(op->sd->docker, NULL, on_volumes, pf);
	}
	pf_release(pf);
}

/* "images: ...; ports: ..." or NULL when every check passed. */
char *
preflight_failures(const struct op *op)
{
	struct buf	 b;
	json_t		*v;
	size_t		 i;

	if (json_array_size(op->preflight_errors) == 0)
		return NULL;
	buf_init(&b);
	json_array_foreach(op->preflight_errors, i, v)
		buf_printf(&b, "%s%s", i ? "; " : "", json_string_value(v));
	return buf_steal(&b);
}
