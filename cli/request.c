/*
 * One request to shipd for a command: the stack its entry takes, the
 * connection, and the one place that turns a daemon reply into an exit
 * code.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "diag.h"
#include "proto.h"
#include "unit.h"
#include "util.h"

/* What a request holds besides the stack (command, id, options) fits in
 * this with room to spare; client_call() checks the exact line anyway. */
#define REQ_SLACK	4096

struct usize {
	const struct unit	*u;
	size_t			 len;
};

static int
usize_cmp(const void *a, const void *b)
{
	const struct usize *x = a, *y = b;

	return x->len < y->len ? 1 : x->len > y->len ? -1 :
	    strcmp(x->u->name, y->u->name);
}

/*
 * shipd reads lines of at most PROTO_MAX_LINE bytes and drops a longer
 * one whole, so a stack that cannot fit is refused before it is sent:
 * with its size, the limit, and the biggest units, largest first, until
 * what is left would fit.
 */
int
cli_stack_fits(const struct stack *st, const char *dir,
    struct diag_list *errs)
{
	json_t		*j = stack_to_json(st), *units;
	struct usize	*v;
	size_t		 len = proto_encoded_len(j), max, i;
	char		 a[32], b[32];

	max = PROTO_MAX_LINE - REQ_SLACK;
	if (len <= max) {
		json_decref(j);
		return 0;
	}
	units = json_object_get(j, "units");
	v = xcalloc(st->nunits, sizeof *v);
	for (i = 0; i < st->nunits; i++) {
		v[i].u = st->units[i];
		v[i].len = proto_encoded_len(json_array_get(units, i));
	}
	qsort(v, st->nunits, sizeof *v, usize_cmp);
	cli_fmt_size(a, sizeof a, len);
	cli_fmt_size(b, sizeof b, max);
	diag_add(errs, dir, 0, 0, "the stack is %s (%zu bytes) as a request, "
	    "over the %s (%zu bytes) a request to shipd may hold (its "
	    "control socket reads lines of at most %d bytes)", a, len, b, max,
	    PROTO_MAX_LINE);
	for (i = 0; i < st->nunits && len > max; i++) {
		cli_fmt_size(a, sizeof a, v[i].len);
		diag_add(errs, v[i].u->file ? v[i].u->file : dir, 0, 0,
		    "service '%s' is %s (%zu bytes) of it", v[i].u->name, a,
		    v[i].len);
		len -= v[i].len;
	}
	if (i < st->nunits) {
		cli_fmt_size(a, sizeof a, len);
		diag_add(errs, dir, 0, 0, "the other %zu service%s and the "
		    "stack's own fields are %s", st->nunits - i,
		    st->nunits - i == 1 ? "" : "s", a);
	}
	free(v);
	json_decref(j);
	return -E2BIG;
}

static int
exit_for_code(const char *code)
{
	if (code == NULL)
		return EXIT_FAILED;
	if (strcmp(code, PROTO_E_DENIED) == 0)
		return EXIT_DENIED;
	if (strcmp(code, PROTO_E_UNAVAILABLE) == 0)
		return EXIT_ENGINE;
	if (strcmp(code, PROTO_E_BAD_ARGS) == 0 ||
	    strcmp(code, PROTO_E_INVALID_STACK) == 0)
		return EXIT_USAGE;
	return EXIT_FAILED;
}

/* An error reply: shown, then mapped. */
static int
reply_error(struct cli *cli, json_t *err)
{
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *msg = json_string_value(json_object_get(err, "message"));

	if (cli->json)
		cli_print_json(err);
	else
		cli_err("%s", msg ? msg : code ? code : "error");
	return exit_for_code(code);
}

/* ---- Ctrl-C: detach ------------------------------------------------------ */

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * Without SA_RESTART, so that the wait for shipd's next line returns.
 * Only while the request is under way: before it is sent, Ctrl-C stops
 * shipctl as it always did, with nothing started.  A SIGINT ignored
 * when shipctl started (a background job of a script) stays ignored.
 */
static void
detach_arm(struct client *cl, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, old);
	if (old->sa_handler == SIG_IGN)
		sigaction(SIGINT, old, NULL);
	else
		cl->stop = &interrupted;
}

/*
 * The connection is closed, which shipd takes as the client gone: an
 * operation under way goes on to its end (docs/architecture.md,
 * Hang-ups); one still queued for the lock is dropped.
 */
static int
detached(const struct cli_ctx *c, const char *cmd)
{
	const char *stack = c->stack ? c->stack : c->st ? c->st->name : "?";

	/* attach follows whatever kind is under way. */
	if (strcmp(cmd, PROTO_CMD_ATTACH) == 0)
		cmd = "operation";

	if (c->cli->json) {
		json_t *o = json_pack("{s:b, s:s, s:s, s:b}", "ok", 0,
		    "detached", cmd, "stack", stack, "dropped", c->cli->queued);

		cli_print_json(o);
		json_decref(o);
	} else if (c->cli->queued)
		fprintf(stderr, "\nshipctl: detached; the %s of %s was still "
		    "queued for the lock and is dropped: nothing was "
		    "changed\n", cmd, stack);
	else
		fprintf(stderr, "\nshipctl: detached; the %s of %s goes on in "
		    "shipd\n  follow it:  shipctl attach --stack %s\n"
		    "  stop it:    shipctl cancel --stack %s\n", cmd, stack,
		    stack, stack);
	fflush(stdout);
	return EXIT_DETACHED;
}

static int
call(struct cli_ctx *c, const char *cmd, json_t *args, cli_event_cb *cb,
    void *arg, json_t **result)
{
	struct cli		*cli = c->cli;
	struct client		 cl;
	struct sigaction	 old;
	char			*err = NULL;
	int			 rc;

	if ((rc = client_connect(&cl, cli->socket, &err)) < 0) {
		json_decref(args);
		cli_err("%s", err);
		free(err);
		return rc == -EACCES || rc == -EPERM ? EXIT_DENIED :
		    EXIT_NODAEMON;
	}
	if (c->cmd->flags & CLI_DETACH)
		detach_arm(&cl, &old);
	rc = client_call(&cl, cmd, args, cb, arg, result);
	client_close(&cl);
	if (c->cmd->flags & CLI_DETACH)
		sigaction(SIGINT, &old, NULL);
	if (rc < 0) {
		if (rc == -EINTR)
			return detached(c, cmd);
		if (rc == -ECANCELED)
			return EXIT_OK;
		if (rc == -EMSGSIZE) {
			cli_err("the %s request is over the %d bytes shipd "
			    "reads in one line", cmd, PROTO_MAX_LINE);
			return EXIT_USAGE;
		}
		cli_err("connection to shipd at %s lost: %s", cli->socket,
		    strerror(-rc));
		return EXIT_NODAEMON;
	}
	if (rc == 1) {
		rc = reply_error(cli, *result);
		json_decref(*result);
		*result = NULL;
		return rc;
	}
	return EXIT_OK;
}

int
cli_request(struct cli_ctx *c, const char *cmd, json_t *args,
    cli_event_cb *cb, void *arg, json_t **result)
{
	int rc;

	*result = NULL;
	if (args == NULL)
		args = json_object();
	if (c->cmd->flags & CLI_STACK) {
		if ((rc = cli_stack(c, c->cmd->flags & CLI_STACK_NEED)) !=
		    EXIT_OK) {
			json_decref(args);
			return rc;
		}
		if (c->stack != NULL)
			json_object_set_new(args, "stack",
			    json_string(c->stack));
	}
	return call(c, cmd, args, cb, arg, result);
}
