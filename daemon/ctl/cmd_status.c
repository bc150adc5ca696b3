/*
 * status: every container of a stack (or of every stack) as the engine
 * lists it, with per-service ready/desired counts, the current revision,
 * the lock holder and the operations under way or queued (phase, age).
 * Health is the engine's state of each running container (inspected), or
 * shipd's own verdict for http/tcp checks.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "ctl/known.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "ops/autoscale.h"
#include "ops/heal.h"
#include "ops/health.h"
#include "ops/ops.h"
#include "proto.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/store.h"
#include "util.h"

struct status_op;

/* One running container's inspect. */
struct status_insp {
	struct status_op	*op;
	json_t			*row;
	char			*id;		/* full */
	struct docker_req	*dreq;
};

struct status_op {
	struct shipd		*sd;
	struct ctl_req		*req;
	struct docker_req	*dreq;
	json_t			*rows;
	struct status_insp	*insp;
	size_t			 ninsp;
	size_t			 pending;
};

static void
status_free(struct status_op *op)
{
	size_t i;

	for (i = 0; i < op->ninsp; i++) {
		docker_cancel(op->insp[i].dreq);
		free(op->insp[i].id);
	}
	free(op->insp);
	json_decref(op->rows);
	free(op);
}

static void
status_cancel(struct ctl_req *r, void *arg)
{
	struct status_op *op = arg;

	(void)r;
	docker_cancel(op->dreq);
	status_free(op);
}

static int
cmp_rows(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c;

	c = strcmp(json_string_value(json_object_get(x, "stack")),
	    json_string_value(json_object_get(y, "stack")));
	if (c == 0)
		c = strcmp(json_string_value(json_object_get(x, "service")),
		    json_string_value(json_object_get(y, "service")));
	if (c == 0)
		c = (int)json_integer_value(json_object_get(x, "replica")) -
		    (int)json_integer_value(json_object_get(y, "replica"));
	if (c == 0)
		c = strcmp(json_string_value(json_object_get(x, "name")),
		    json_string_value(json_object_get(y, "name")));
	return c;
}

/* Sort an array of status rows by stack, service, replica, name. */
static void
json_array_sort(json_t *rows)
{
	size_t	 n = json_array_size(rows), i;
	json_t	**v = xcalloc(n + 1, sizeof *v);

	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(rows, i));
	qsort(v, n, sizeof *v, cmp_rows);
	json_array_clear(rows);
	for (i = 0; i < n; i++)
		json_array_append_new(rows, v[i]);
	free(v);
}

static void
add_port(json_t *ports, const char *port)
{
	json_t	*v;
	size_t	 k;

	json_array_foreach(ports, k, v)
		if (strcmp(json_string_value(v), port) == 0)
			return;
	json_array_append_new(ports, json_string(port));
}

/* The engine's Ports as "8080->80/tcp", once for all the addresses it
 * binds each on; only those published on the host. */
static json_t *
ports_of(const json_t *list)
{
	json_t	*ports = json_array(), *p;
	size_t	 i;
	char	 buf[64];

	json_array_foreach(list, i, p) {
		if (json_integer_value(json_object_get(p, "PublicPort")) == 0)
			continue;
		snprintf(buf, sizeof buf, "%lld->%lld/%s",
		    (long long)json_integer_value(json_object_get(p,
		    "PublicPort")), (long long)json_integer_value(
		    json_object_get(p, "PrivatePort")), json_string_value(
		    json_object_get(p, "Type")) ?: "tcp");
		add_port(ports, buf);
	}
	return ports;
}

/*
 * What `shipctl ps` shows of a service, from its live replicas' rows:
 * the image, the host ports, whether stop left it stopped (and since
 * when), and the engine's status line of one replica that says the most
 * (a running one; else the one that exited last listed).
 */
static void
service_view(json_t *row, const json_t *rows, const json_t *mark)
{
	json_t		*ports = json_array(), *c, *p, *best = NULL;
	const char	*svc = json_string_value(json_object_get(row,
	    "service"));
	size_t		 i, k;

	json_array_foreach(rows, i, c) {
		const char *name = json_string_value(json_object_get(c,
		    "name"));
		const char *st = json_string_value(json_object_get(c, "state"));

		if (strcmp(json_string_value(json_object_get(c, "service")),
		    svc) != 0 || spec_kept_revision(name) > 0)
			continue;
		json_array_foreach(json_object_get(c, "ports"), k, p)
			add_port(ports, json_string_value(p));
		if (best == NULL || strcmp(st, "running") == 0)
			best = c;
	}
	json_object_set_new(row, "image", json_string(best ?
	    json_string_value(json_object_get(best, "image")) : ""));
	json_object_set_new(row, "ports", ports);
	json_object_set_new(row, "engine_status", json_string(best ?
	    json_string_value(json_object_get(best, "status")) : ""));
	json_object_set_new(row, "stopped", json_boolean(mark != NULL));
	json_object_set(row, "stopped_since", json_object_get(mark, "since") ?:
	    json_null());
}

/*
 * Per service of a stack: replicas wanted (the current revision's count,
 * or a later scale's), running and ready, from the container rows.
 * Kept containers of older revisions are listed but not counted.
 */
static json_t *
status_result(struct shipd *sd, const char *stack, json_t *rows)
{
	const json_t	*doc, *scale;
	json_t		*res, *svcs, *want, *c, *n, *lock, *row, *heal, *hs;
	json_t		*as, *asv;
	const json_t	*stopped;
	const char	*svc, *held;
	size_t		 i;
	int		 cur;

	res = json_pack("{s:o, s:o}", "containers", rows, "operations",
	    ops_status(sd, stack));
	if (stack == NULL)
		return res;
	cur = store_current(sd->store, stack);
	doc = cur > 0 ? store_revision_get(sd->store, stack, cur) : NULL;
	scale = store_scale_get(sd->store, stack);
	stopped = json_object_get(store_svcstate_get(sd->store, stack),
	    "stopped");
	json_object_set_new(res, "stack", json_string(stack));
	json_object_set_new(res, "current", json_integer(cur));
	if ((lock = lock_json(lock_holder(sd, stack))) == NULL)
		lock = json_null();
	json_object_set_new(res, "lock", lock);
	held = journal_held(sd, stack);
	json_object_set_new(res, "recovery_failed", held ? json_string(held) :
	    json_null());
	svcs = json_array();
	heal = heal_status(sd, stack);
	as = autoscale_status(sd, stack);
	want = json_object_get(doc, "replicas");
	json_object_foreach(want, svc, n) {
		json_t *o = json_object_get(json_object_get(scale, svc),
		    "replicas");
		int running = 0, ready = 0;

		json_array_foreach(rows, i, c) {
			const char *name = json_string_value(json_object_get(
			    c, "name"));
			const char *st = json_string_value(json_object_get(c,
			    "state"));
			const char *h = json_string_value(json_object_get(c,
			    "health"));

			if (strcmp(json_string_value(json_object_get(c,
			    "service")), svc) != 0 ||
			    spec_kept_revision(name) > 0)
				continue;
			if (strcmp(st, "running") == 0) {
				running++;
				if (*h == '\0' || strcmp(h, "healthy") == 0)
					ready++;
			} else if (strcmp(st, "exited") == 0 &&
			    json_object_get(stopped, svc) == NULL && strncmp(
			    json_string_value(json_object_get(c, "status")),
			    "Exited (0)", 10) == 0)
				ready++;	/* a one-shot that completed,
						   not one stop left so */
		}
		/* Autoscaled: the count within the bounds that stand. */
		asv = json_object_get(as, svc);
		row = json_pack("{s:s, s:I, s:i, s:i}",
		    "service", svc, "desired", asv != NULL ?
		    json_integer_value(json_object_get(asv, "replicas")) :
		    json_integer_value(o ? o : n),
		    "running", running, "ready", ready);
		json_object_set(row, "autoscale", asv ? asv : json_null());
		service_view(row, rows, json_object_get(stopped, svc));
		hs = json_object_get(heal, svc);
		json_object_set_new(row, "restarts", json_integer(
		    json_integer_value(json_object_get(hs, "restarts"))));
		json_object_set(row, "last_reason", json_object_get(hs,
		    "last_reason") ?: json_null());
		json_object_set_new(row, "crash_loop", json_boolean(
		    json_is_true(json_object_get(hs, "crash_loop"))));
		json_array_append_new(svcs, row);
	}
	json_decref(heal);
	json_decref(as);
	json_object_set_new(res, "services", svcs);
	return res;
}

/* The engine's State.Health.Status; "" when it runs no check. */
static const char *
engine_health(json_t *info)
{
	const char *h = json_string_value(json_object_get(json_object_get(
	    json_object_get(info, "State"), "Health"), "Status"));

	if (h == NULL || strcmp(h, "none") == 0)
		return "";
	return h;
}

static void
status_reply(struct status_op *op)
{
	struct ctl_req	*r = op->req;
	json_t		*row;
	size_t		 i;

	json_array_foreach(op->rows, i, row)
		json_object_del(row, "full_id");
	json_array_sort(op->rows);
	ctl_req_ok(r, status_result(op->sd, ctl_str(r, "stack"),
	    json_incref(op->rows)));
	status_free(op);
}

/* shipd's own check, when it runs one, says more than the engine's. */
static void
status_inspected(const struct docker_result *res, void *arg)
{
	struct status_insp	*in = arg;
	struct status_op	*op = in->op;
	const char		*h, *own;

	in->dreq = NULL;
	h = res->err == 0 ? engine_health(res->body) : "";
	if ((own = health_own(op->sd, in->id, NULL)) != NULL)
		h = own;
	json_object_set_new(in->row, "health", json_string(h));
	if (--op->pending == 0)
		status_reply(op);
}

static void
status_inspect(struct status_op *op)
{
	size_t	 i;
	json_t	*row;

	op->insp = xcalloc(json_array_size(op->rows) + 1, sizeof *op->insp);
	json_array_foreach(op->rows, i, row) {
		struct status_insp *in;

		if (strcmp(json_string_value(json_object_get(row, "state")),
		    "running") != 0)
			continue;
		in = &op->insp[op->ninsp++];
		in->op = op;
		in->row = row;
		in->id = xstrdup(json_string_value(json_object_get(row,
		    "full_id")));
	}
	op->pending = op->ninsp;
	if (op->pending == 0) {
		status_reply(op);
		return;
	}
	for (i = 0; i < op->ninsp; i++)
		op->insp[i].dreq = docker_container_inspect(op->sd->docker,
		    op->insp[i].id, status_inspected, &op->insp[i]);
}

static const char *
label(json_t *c, const char *key)
{
	const char *v = json_string_value(json_object_get(
	    json_object_get(c, "Labels"), key));

	return v ? v : "";
}

/*
 * The image as the stack names it.  A container a rollback recreated from
 * a snapshot is pinned to an image ID ("sha256:..."): its revision's
 * record has the reference that ID was resolved from.
 */
static const char *
image_ref(struct shipd *sd, json_t *c)
{
	const char	*img = json_string_value(json_object_get(c, "Image"));
	const char	*ref, *id;
	const json_t	*doc, *v;
	json_t		*rev;

	if (img == NULL)
		return "";
	if (strncmp(img, "sha256:", 7) != 0)
		return img;
	rev = ctl_json_num(label(c, LABEL_REVISION));
	doc = json_is_integer(rev) ? store_revision_get(sd->store,
	    label(c, LABEL_STACK), (int)json_integer_value(rev)) : NULL;
	json_decref(rev);
	if ((ref = json_string_value(json_object_get(json_object_get(
	    json_object_get(doc, "specs"), label(c, LABEL_SERVICE)),
	    "image"))) != NULL)
		return ref;
	json_object_foreach((json_t *)json_object_get(doc, "images"), id, v)
		if (json_is_string(v) && strcmp(json_string_value(v), img) == 0)
			return id;
	return img;
}

static void
status_listed(const struct docker_result *res, void *arg)
{
	struct status_op	*op = arg;
	struct ctl_req		*r = op->req;
	json_t			*rows, *c;
	size_t			 i;

	op->dreq = NULL;
	if (res->err != 0) {
		status_free(op);
		ctl_req_err(r, res->err == DOCKER_E_UNAVAILABLE ?
		    PROTO_E_UNAVAILABLE : PROTO_E_ENGINE,
		    "listing containers: %s", res->message);
		return;
	}
	if (ctl_str(r, "stack") != NULL && json_array_size(res->body) == 0 &&
	    !ctl_stack_known(op->sd, ctl_str(r, "stack"))) {
		status_free(op);
		ctl_req_err(r, PROTO_E_NOT_FOUND, "no stack '%s': it has no "
		    "revision, no container and no operation",
		    ctl_str(r, "stack"));
		return;
	}
	rows = json_array();
	json_array_foreach(res->body, i, c) {
		const char *name = json_string_value(
		    json_array_get(json_object_get(c, "Names"), 0));
		const char *st = json_string_value(json_object_get(c,
		    "Status"));

		name = name && name[0] == '/' ? name + 1 : name ? name : "";
		json_array_append_new(rows, json_pack(
		    "{s:s%, s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:s, s:s, s:o}",
		    "id", json_string_value(json_object_get(c, "Id")), 12,
		    "name", name,
		    "stack", label(c, LABEL_STACK),
		    "service", label(c, LABEL_SERVICE),
		    "replica", ctl_json_num(label(c, LABEL_REPLICA)),
		    "revision", ctl_json_num(label(c, LABEL_REVISION)),
		    "kept", spec_kept_revision(name) > 0,
		    "state", json_string_value(json_object_get(c, "State")) ?
			json_string_value(json_object_get(c, "State")) : "",
		    "health", "",
		    "image", image_ref(op->sd, c),
		    "created", ctl_json_time(json_object_get(c, "Created"))));
		json_object_set_new(json_array_get(rows, i), "status",
		    json_string(st ? st : ""));
		json_object_set(json_array_get(rows, i), "full_id",
		    json_object_get(c, "Id"));
		json_object_set_new(json_array_get(rows, i), "ports",
		    ports_of(json_object_get(c, "Ports")));
	}
	op->rows = rows;
	status_inspect(op);
}

static void
cmd_status(struct shipd *sd, struct ctl_req *r)
{
	struct status_op	*op;
	const char		*stack = ctl_str(r, "stack");
	char			*filter;

	if (stack != NULL)
		xasprintf(&filter, LABEL_STACK "=%s", stack);
	else
		filter = xstrdup(LABEL_STACK);
	op = xcalloc(1, sizeof *op);
	op->sd = sd;
	op->req = r;
	ctl_req_on_cancel(r, status_cancel, op);
	op->dreq = docker_containers_list(sd->docker, filter, 1,
	    status_listed, op);
	free(filter);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_status = {
	PROTO_CMD_STATUS, false, true, cmd_status, args
};
