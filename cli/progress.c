/*
 * Streamed progress, one line per step: deploy's and rollback's (plan,
 * pre-flight, services as they start), backup's and restore's (hooks,
 * archives, what was put back).  --json passes the events through as they
 * are.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "proto.h"

/* ---- the numbered phases ------------------------------------------------- */

/* What an operator reads for shipd's phases (ops/op.h, enum op_phase). */
static const struct {
	const char	*title;
	const char	*phases[2];
} steps[] = {
	{ "plan", { "images", "plan" } },
	{ "pre-flight", { "checks", NULL } },
	{ "backup", { "backup", NULL } },
	{ "apply", { "begin", "apply" } },
	{ "verify", { "verify", NULL } },
	{ "commit", { "commit", NULL } },
};
#define NSTEPS	((int)(sizeof steps / sizeof steps[0]))

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 1..NSTEPS, or 0 for a phase that is not numbered (queued, rollback). */
static int
step_of(const char *phase)
{
	int i, j;

	for (i = 0; i < NSTEPS; i++)
		for (j = 0; j < 2; j++)
			if (steps[i].phases[j] != NULL &&
			    strcmp(steps[i].phases[j], phase) == 0)
				return i + 1;
	return 0;
}

static void
step_line(struct cli_progress *p, int step, const char *result,
    double secs)
{
	char	title[32], dots[24];
	int	n;

	snprintf(title, sizeof title, "%s%s", p->rollback ? "rollback " : "",
	    steps[step - 1].title);
	n = 20 - (int)strlen(title);
	if (n < 2)
		n = 2;
	memset(dots, '.', (size_t)n);
	dots[n] = '\0';
	if (secs >= 0)
		printf("[%d/%d] %s %s %s (%.2fs)\n", step, NSTEPS, title, dots,
		    result, secs);
	else
		printf("[%d/%d] %s %s %s\n", step, NSTEPS, title, dots, result);
}

/* The phase shown as under way has ended: how it went. */
static void
step_close(struct cli_progress *p, bool failed)
{
	const char *result = "ok";

	if (p->step == 0)
		return;
	if (failed && !p->failed)
		result = "FAILED";
	else if (p->failed)
		result = "done";
	step_line(p, p->step, result, (double)(mono_ms() - p->step_t) / 1000);
	if (failed)
		p->failed = true;
	p->step = 0;
}

/* A phase event: close the one before, name those jumped over. */
static void
show_phase(struct cli_progress *p, json_t *ev, uint64_t since_ms)
{
	const char	*name = cli_str(ev, "phase");
	int		 step = step_of(name), i;

	p->cli->queued = strcmp(name, "queued") == 0;
	if (step == 0 || step == p->step)
		return;
	if (p->step != 0) {
		i = p->step;
		step_close(p, json_is_true(json_object_get(ev, "failed")));
		/* After a failure, or in a rollback, what is left out is
		 * not worth a line. */
		while (++i < step && !p->failed && !p->rollback)
			step_line(p, i, "skipped", -1);
	}
	p->step = step;
	p->step_t = mono_ms() - since_ms;
}

void
cli_progress_end(struct cli_progress *p, bool ok)
{
	if (p->cli->json)
		return;
	/* A rollback that ran to its end answers with the deploy's
	 * failure: its own last phase went through. */
	if (p->rollback && !ok)
		p->failed = true;
	step_close(p, !ok);
	fflush(stdout);
}

/* shipctl attach: what it joined. */
static void
show_attached(struct cli_progress *p, json_t *ev)
{
	printf("attached to %s of %s", cli_str(ev, "kind"),
	    cli_str(ev, "stack"));
	if (json_object_get(ev, "revision") != NULL)
		printf(" (revision %lld)", cli_int(ev, "revision"));
	printf(", started %s by uid %lld, in phase %s for %.2fs\n",
	    cli_str(ev, "started"), cli_int(ev, "uid"), cli_str(ev, "phase"),
	    cli_secs(ev, "phase_ms"));
	if (json_is_true(json_object_get(ev, "queued")))
		p->cli->queued = true;
	show_phase(p, ev, (uint64_t)cli_int(ev, "phase_ms"));
}

void
cli_progress_free(struct cli_progress *p)
{
	json_decref(p->unchanged);
	p->unchanged = NULL;
}

/* Services the plan leaves unchanged are not shown step by step. */
static void
show_plan(struct cli_progress *p, json_t *ev)
{
	json_t	*row;
	size_t	 i;

	printf("plan (revision %lld):\n", cli_int(ev, "revision"));
	json_decref(p->unchanged);
	p->unchanged = json_object();
	json_array_foreach(json_object_get(ev, "services"), i, row) {
		printf("  %-16s %-10s %s\n", cli_str(row, "service"),
		    cli_str(row, "action"), cli_str(row, "reason"));
		if (strcmp(cli_str(row, "action"), "unchanged") == 0)
			json_object_set_new(p->unchanged, cli_str(row,
			    "service"), json_true());
	}
}

static bool
is_unchanged(struct cli_progress *p, json_t *ev)
{
	return json_object_get(p->unchanged, cli_str(ev, "service")) != NULL &&
	    strcmp(cli_str(ev, "status"), "failed") != 0;
}

static void
show_service(json_t *ev)
{
	const char *st = cli_str(ev, "status");

	printf("[%6.2fs] %-16s %s%s%s\n", cli_secs(ev, "elapsed_ms"),
	    cli_str(ev, "service"), strcmp(st, "begin") == 0 ?
	    cli_str(ev, "action") : st, *cli_str(ev, "message") ? ": " : "",
	    cli_str(ev, "message"));
}

static void
show_step(json_t *ev)
{
	const char *st = cli_str(ev, "step");

	if (strcmp(st, "kept") == 0 || strcmp(st, "failed") == 0)
		return;
	printf("[%6.2fs] %-16s   replica %lld %s\n", cli_secs(ev,
	    "elapsed_ms"), cli_str(ev, "service"), cli_int(ev, "replica"), st);
}

static void
show_rollback(json_t *ev)
{
	if (*cli_str(ev, "reason"))
		printf("revision %lld failed: %s\nrolling back to revision "
		    "%lld\n", cli_int(ev, "from"), cli_str(ev, "reason"),
		    cli_int(ev, "to"));
	else
		printf("rolling back from revision %lld to %lld\n",
		    cli_int(ev, "from"), cli_int(ev, "to"));
}

static void
show_summary(json_t *ev)
{
	json_t	*row;
	size_t	 i;

	printf("summary:\n");
	json_array_foreach(json_object_get(ev, "services"), i, row)
		printf("  %-16s %-10s %s\n", cli_str(row, "service"),
		    cli_str(row, "action"), cli_str(row, "status"));
}

int
cli_progress_deploy(json_t *ev, void *arg)
{
	struct cli_progress	*p = arg;
	const char		*kind = cli_str(ev, "event");

	if (p->cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (strcmp(kind, PROTO_EV_PLAN) == 0)
		show_plan(p, ev);
	else if ((strcmp(kind, PROTO_EV_SERVICE) == 0 ||
	    strcmp(kind, PROTO_EV_STEP) == 0) && is_unchanged(p, ev))
		return 0;
	else if (strcmp(kind, PROTO_EV_SERVICE) == 0)
		show_service(ev);
	else if (strcmp(kind, PROTO_EV_STEP) == 0)
		show_step(ev);
	else if (strcmp(kind, PROTO_EV_PREFLIGHT) == 0) {
		if (!json_is_true(json_object_get(ev, "passed")))
			printf("pre-flight %s: FAILED: %s\n", cli_str(ev,
			    "check"), cli_str(ev, "message"));
	} else if (strcmp(kind, PROTO_EV_PHASE) == 0 &&
	    *cli_str(ev, "backup"))
		printf("[%6.2fs] %s of backup %s\n", cli_secs(ev, "elapsed_ms"),
		    cli_str(ev, "phase"), cli_str(ev, "backup"));
	else if (strcmp(kind, PROTO_EV_PHASE) == 0)
		show_phase(p, ev, 0);
	else if (strcmp(kind, PROTO_EV_ATTACHED) == 0)
		show_attached(p, ev);
	else if (strcmp(kind, PROTO_EV_BACKUP) == 0)
		printf("[%6.2fs] backup %s taken\n", cli_secs(ev, "elapsed_ms"),
		    cli_str(ev, "backup"));
	else if (strcmp(kind, PROTO_EV_WAITING) == 0)
		printf("waiting: %s\n", cli_str(ev, "message"));
	else if (strcmp(kind, PROTO_EV_ROLLBACK) == 0) {
		/* The rest of the way is the rollback's, numbered anew. */
		step_close(p, true);
		show_rollback(ev);
		p->rollback = true;
		p->failed = false;
	}
	else if (strcmp(kind, PROTO_EV_SUMMARY) == 0)
		show_summary(ev);
	fflush(stdout);
	return 0;
}

/* The size an event reports: what was copied, or what the backup holds. */
static void
event_size(json_t *ev, char *buf, size_t len)
{
	const char	*kind = cli_str(ev, "event");
	bool		 copied = strcmp(kind, PROTO_EV_ARCHIVE) == 0 ||
	    strcmp(kind, PROTO_EV_SAFETY) == 0 ||
	    strcmp(kind, PROTO_EV_RESTORED) == 0;

	cli_fmt_size(buf, len, (uint64_t)cli_int(ev, copied ? "bytes" :
	    "size"));
}

/* Failures are left to the final reply, which names them all. */
int
cli_progress_backup(json_t *ev, void *arg)
{
	struct cli_progress	*p = arg;
	const char		*kind = cli_str(ev, "event");
	char			 size[32];

	if (p->cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (p->quiet)
		return 0;
	event_size(ev, size, sizeof size);
	if (strcmp(kind, PROTO_EV_BACKUP) == 0 &&
	    strcmp(cli_str(ev, "status"), "started") == 0)
		printf("backup %s of %s\n", cli_str(ev, "backup"),
		    cli_str(ev, "stack"));
	else if (strcmp(kind, PROTO_EV_HOOK) == 0)
		printf("  %-16s %s hook %s\n", cli_str(ev, "service"),
		    cli_str(ev, "hook"), cli_str(ev, "status"));
	else if (strcmp(kind, PROTO_EV_SERVICE) == 0)
		printf("  %-16s %s\n", cli_str(ev, "service"),
		    cli_str(ev, "status"));
	else if (strcmp(kind, PROTO_EV_ARCHIVE) == 0)
		printf("  %-16s %s: %s, sha256 %.16s\n", cli_str(ev, "service"),
		    cli_str(ev, "path"), size, cli_str(ev, "sha256"));
	else if (strcmp(kind, PROTO_EV_PRUNED) == 0)
		printf("  pruned backup %s (beyond keep)\n", cli_str(ev,
		    "backup"));
	else if (strcmp(kind, PROTO_EV_VERIFIED) == 0)
		printf("backup %s of %s verified\n", cli_str(ev, "backup"),
		    cli_str(ev, "stack"));
	else if (strcmp(kind, PROTO_EV_SAFETY) == 0 && *cli_str(ev, "backup"))
		printf("  safety backup %s taken\n", cli_str(ev, "backup"));
	else if (strcmp(kind, PROTO_EV_SAFETY) == 0)
		printf("  %-16s %s: %s saved\n", cli_str(ev, "service"),
		    cli_str(ev, "path"), size);
	else if (strcmp(kind, PROTO_EV_RESTORED) == 0)
		printf("  %-16s %s: %s put back\n", cli_str(ev, "service"),
		    cli_str(ev, "path"), size);
	fflush(stdout);
	return 0;
}
