/*
 * The stages before apply, for every kind: gather the engine's view
 * (containers, images), plan (where a deploy with nothing to change
 * ends), the revision's number, pre-flight checks, the backup phase, the
 * journal's begin and the revision's first record, the stack's networks
 * and volumes; then hand over to the apply engine.  The kind's flags say
 * which stages it runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "ops/op.h"
#include "ops/policy.h"
#include "ops/preflight.h"
#include "proto.h"
#include "state/store.h"
#include "util.h"

/* ---- failures ------------------------------------------------------------ */

/*
 * Once a begin stands for the operation (its own, or the one it runs
 * inside: a failed deploy's rollback, a recovery), a failure is what a
 * failure of apply is: the kind's finish records the end, so the journal
 * gets its end and the revision its result.  Before that nothing was
 * begun, and the refusal is all there is to say.  At shutdown it stays
 * for recovery, as apply's operations do.
 */
static void __attribute__((format(printf, 3, 4)))
pipeline_fail(struct op *op, const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!op->in_record)
		op_abort(op, code, "%s", msg ? msg : "out of memory");
	else if (!op->sd->stopping) {
		if (!op->failed) {
			/* msg may have been made from the old op->error. */
			op->failed = true;
			free(op->error);
			op->error = msg;
			msg = NULL;
		}
		op->finishing = true;
		op_phase_enter(op, PH_COMMIT);
		op->kind->finish(op);
	}
	free(msg);
}

/*
 * Cancelled, or past the phase's deadline, while the stage before ran
 * (cancel.c): the pipeline stops here, on its failure path.
 */
static bool
stopped(struct op *op)
{
	if (op->stop_why == NULL)
		return false;
	pipeline_fail(op, PROTO_E_FAILED, "%s", op->stop_why);
	return true;
}

/* Enter the next stage's phase, with its deadline. */
static void
phase(struct op *op, enum op_phase ph)
{
	op_phase_enter(op, ph);
	op_phase_deadline(op);
}

static void
apply(struct op *op)
{
	if (stopped(op))
		return;
	phase(op, PH_APPLY);
	apply_run(op);
}

/* ---- networks and volumes ------------------------------------------------ */

/* One of the creates came back, or (once more) the list of what exists
 * has asked for every create it needed. */
static void
prepared(struct op *op)
{
	if (--op->preparing > 0)
		return;
	if (op->error != NULL) {
		pipeline_fail(op, PROTO_E_ENGINE, "%s", op->error);
		return;
	}
	apply(op);
}

static void
on_prepared(const struct docker_result *res, void *arg)
{
	struct op *op = arg;

	/* 409: the network exists already, which is what we want (one that
	 * is not the stack's is pre-flight's to refuse). */
	if (res->err != 0 && res->err != DOCKER_E_CONFLICT &&
	    op->error == NULL)
		xasprintf(&op->error, "creating the stack's networks and "
		    "volumes: %s", res->message);
	prepared(op);
}

/*
 * Testing: SHIPD_TEST_REFUSE_NETWORK=NAME asks the engine for a driver it
 * does not have for the network NAME, so that the engine refuses that
 * create: a failure after the begin, on demand, from the real engine.
 * Only the test suite sets it.
 */
static void
test_refuse(json_t *spec)
{
	const char *name = getenv("SHIPD_TEST_REFUSE_NETWORK");

	if (name != NULL && strcmp(name, json_string_value(json_object_get(
	    spec, "Name"))) == 0)
		json_object_set_new(spec, "Driver",
		    json_string("shipd-test-no-such-driver"));
}

static void
prepare(struct op *op, json_t *spec, bool volume)
{
	op->preparing++;
	if (volume)
		docker_volume_create(op->sd->docker, spec, on_prepared, op);
	else {
		test_refuse(spec);
		docker_network_create(op->sd->docker, spec, on_prepared, op);
	}
	json_decref(spec);
}

/* A network the stack has already, as it would be made: used as it is. */
static bool
network_exists(json_t *have, const json_t *spec)
{
	const json_t	*n;
	size_t		 i;

	json_array_foreach(have, i, n)
		if (spec_network_matches(spec, n))
			return true;
	return false;
}

static void
prepare_network(struct op *op, json_t *have, const char *name)
{
	json_t *spec = spec_network(op->stack->name, name);

	if (network_exists(have, spec))
		json_decref(spec);
	else
		prepare(op, spec, false);
}

/*
 * The networks the stack has, by its label: each one it needs that is
 * there with its label and options is used as it is, and only the others
 * are created.  A deploy or a rollback asks the engine for nothing it
 * has already (a create answered 409 is one more call that a loaded
 * engine may take past its deadline).
 */
static void
on_networks(const struct docker_result *res, void *arg)
{
	struct op		*op = arg;
	const struct stack	*st = op->stack;
	size_t			 i;

	if (res->err != 0) {
		pipeline_fail(op, PROTO_E_ENGINE, "creating the stack's "
		    "networks and volumes: listing its networks: %s",
		    res->message);
		return;
	}
	op->preparing++;	/* until every create below is asked for */
	prepare_network(op, res->body, "default");
	for (i = 0; i < st->nnetworks; i++)
		prepare_network(op, res->body, st->networks[i]);
	for (i = 0; i < st->nvolumes; i++)
		prepare(op, spec_volume(st->name, st->volumes[i]), true);
	prepared(op);
}

static void
prepare_objects(struct op *op)
{
	char *filter;

	xasprintf(&filter, LABEL_STACK "=%s", op->stack_name);
	docker_networks_list(op->sd->docker, filter, on_networks, op);
	free(filter);
}

/* ---- begin, backup, checks ----------------------------------------------- */

static void
on_begun(int err, void *arg)
{
	struct op *op = arg;

	if (err < 0) {
		pipeline_fail(op, PROTO_E_INTERNAL, "recording the start of "
		    "revision %d: %s", op->revision, strerror(-err));
		return;
	}
	if (stopped(op))
		return;
	if (op->kind->flags & OPK_OBJECTS)
		prepare_objects(op);
	else
		apply(op);
}

static void
begin(struct op *op)
{
	if (stopped(op))
		return;
	phase(op, PH_BEGIN);
	if (op->kind->flags & OPK_BEGIN)
		commit_begin(op, on_begun);
	else
		on_begun(0, op);
}

static void
on_backed_up(int err, const char *id, const char *msg, void *arg)
{
	struct op *op = arg;

	if (err < 0) {
		/* Before the begin: nothing to record. */
		pipeline_fail(op, PROTO_E_FAILED, "backup before the deploy "
		    "failed: %s (nothing was changed; --no-backup skips it)",
		    msg ? msg : strerror(-err));
		return;
	}
	if (id != NULL) {
		op->backup_id = xstrdup(id);
		op_emit(op, PROTO_EV_BACKUP, json_pack("{s:s}", "backup", id));
	}
	begin(op);
}

/*
 * The backup phase: services that declare backup: and are about to
 * change are backed up first, tagged with the new revision, so that
 * `rollback --with-data` of it can restore what they held before.
 */
static void
backup_phase(struct op *op)
{
	const char	**names;
	json_t		 *svcs;
	size_t		  i, n = 0;

	if (!(op->kind->flags & OPK_BACKUP) || op->no_backup) {
		begin(op);
		return;
	}
	names = xcalloc(op->stack->nunits + 1, sizeof *names);
	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		if (s->unit->backup.present && (s->action == ACT_RECREATE ||
		    s->action == ACT_SCALE))
			names[n++] = s->unit->name;
	}
	if (n == 0) {
		free(names);
		begin(op);
		return;
	}
	/* "services" is an array everywhere: the names, not their count. */
	svcs = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(svcs, json_string(names[i]));
	op_phase_enter_with(op, PH_BACKUP, json_pack("{s:o}", "services",
	    svcs));
	op_phase_deadline(op);
	/* The op cannot end while its backup runs; at shutdown the backup
	 * is dropped without a callback, before the op is freed. */
	backup_for_deploy(op->sd, op->stack, names, n, op->revision,
	    on_backed_up, op);
	free(names);
}

/* Every check ran; any failure stops the deploy with nothing changed. */
static void
on_checked(struct op *op)
{
	char *why;

	if (stopped(op))
		return;
	if ((why = preflight_failures(op)) != NULL) {
		pipeline_fail(op, PROTO_E_PREFLIGHT, "%s", why);
		free(why);
		return;
	}
	backup_phase(op);
}

/* ---- plan ---------------------------------------------------------------- */

/*
 * A unit file moved or renamed out of the directory (db.yaml.bak) would
 * take its service, a database say, with it: such a plan goes ahead only
 * when asked to, and is refused naming the services while nothing has
 * changed.  bad_args: the request lacks what would let it run.
 */
static bool
orphans_refused(struct op *op)
{
	const char	**v;
	struct buf	  b;
	size_t		  i, n;
	json_int_t	  k;

	if (!(op->kind->flags & OPK_ORPHANS) || op->remove_orphans ||
	    json_object_size(op->orphans) == 0)
		return false;
	v = plan_orphans(op, &n);
	buf_init(&b);
	for (i = 0; i < n; i++) {
		k = json_integer_value(json_object_get(op->orphans, v[i]));
		buf_printf(&b, "%s%s (%lld container%s)", i ? ", " : "", v[i],
		    (long long)k, k == 1 ? "" : "s");
	}
	op_abort(op, PROTO_E_BAD_ARGS, "deploy would remove %s no longer "
	    "in the stack: %s; nothing was changed (put the unit file%s "
	    "back, or deploy with --remove-orphans)", n == 1 ? "a service" :
	    "services", b.data, n == 1 ? "" : "s");
	buf_free(&b);
	free(v);
	return true;
}

/*
 * The policy of shipd's configuration, before anything changes and
 * before the checks that follow the plan: what it refuses no option lets
 * through (docs/operations.md).  Each refusal is a pre-flight event, so a
 * plan shows it as a deploy does; a refusal ends the operation here with
 * every failure so far (an image's too), and otherwise the others are
 * reported with the later checks as before.
 */
static bool
policy_refused(struct op *op)
{
	json_t	*out, *v;
	char	*why;
	size_t	 i;

	if (!(op->kind->flags & OPK_POLICY) || !op->sd->conf.policy.set)
		return false;
	out = json_array();
	policy_check_op(op, out);
	json_array_foreach(out, i, v)
		preflight_report(op, "policy", false, json_string_value(v));
	if ((i = json_array_size(out)) == 0)
		preflight_report(op, "policy", true, "what this changes is "
		    "within the policy");
	json_decref(out);
	if (i == 0 || (why = preflight_failures(op)) == NULL)
		return false;
	pipeline_fail(op, PROTO_E_PREFLIGHT, "%s", why);
	free(why);
	return true;
}

static void
planned(struct op *op)
{
	if (stopped(op))
		return;
	phase(op, PH_PLAN);
	if (plan_compute(op, op->sd->store ? store_scale_get(op->sd->store,
	    op->stack_name) : NULL) < 0) {
		pipeline_fail(op, PROTO_E_INTERNAL, "planning failed");
		return;
	}
	if (policy_refused(op))
		return;
	if (op->kind->flags & OPK_PLAN_ONLY) {
		op_reply_ok(op, json_pack("{s:i, s:o}", "current",
		    op->prev_revision, "services", plan_json(op)));
		op_end(op);
		return;
	}
	if ((op->kind->flags & OPK_NOOP) && commit_nothing(op)) {
		commit_none(op);
		return;
	}
	/* The number the revision will have, once there is something to
	 * record: it is taken by the begin's record (commit_begin), so a
	 * deploy with nothing to change, or one refused before its begin
	 * (orphans, pre-flight, backup), leaves no gap; the stack's lock
	 * keeps anyone else from recording it meanwhile. */
	if ((op->kind->flags & OPK_REVISION) &&
	    (op->revision = store_revision_next(op->sd->store,
	    op->stack_name)) < 0) {
		op_abort(op, PROTO_E_INTERNAL, "numbering the revision: %s",
		    strerror(-op->revision));
		return;
	}
	op_emit(op, PROTO_EV_PLAN, json_pack("{s:i, s:o}", "revision",
	    op->revision, "services", plan_json(op)));
	op_notify_start(op);
	if (orphans_refused(op))
		return;
	if (op->kind->flags & OPK_CHECKS) {
		phase(op, PH_CHECKS);
		preflight_checks(op, on_checked);
	} else
		backup_phase(op);
}

static void
on_images(struct op *op)
{
	char *why;

	/* A plan cannot be made without the images; a deploy reports them
	 * with the other checks. */
	if ((op->kind->flags & OPK_PLAN_ONLY) &&
	    (why = preflight_failures(op)) != NULL) {
		pipeline_fail(op, PROTO_E_PREFLIGHT, "%s", why);
		free(why);
		return;
	}
	planned(op);
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct op *op = arg;

	if (res->err != 0) {
		pipeline_fail(op, res->err == DOCKER_E_UNAVAILABLE ?
		    PROTO_E_UNAVAILABLE : PROTO_E_ENGINE,
		    "listing containers: %s", res->message);
		return;
	}
	op->containers = json_incref(res->body);
	if (op->kind->flags & OPK_PIN)
		planned(op);
	else
		preflight_images(op, on_images);
}

void
pipeline_run(struct op *op)
{
	char *filter;

	phase(op, PH_IMAGES);
	xasprintf(&filter, LABEL_STACK "=%s", op->stack_name);
	docker_containers_list(op->sd->docker, filter, 1, on_listed, op);
	free(filter);
}
