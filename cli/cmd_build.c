/*
 * shipctl build: build the images of a unit directory's services that
 * have build:, through shipd (docs/protocol.md, "build").  Each service
 * is one request on a connection of its own: shipctl sends the context's
 * hash, and only when shipd asks for the context (the image at the tag
 * does not carry that hash) streams the tar as frames, at the pace shipd
 * reads them.  deploy runs the same before it sends the stack.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildctx.h"
#include "cli.h"
#include "client.h"
#include "proto.h"
#include "unit.h"
#include "util.h"

static int	cmd_build_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_build = {
	.name = "build",
	.usage = "[--force] [DIR] [SERVICE...]",
	.summary = "build the images of the services with build: in DIR",
	.help =
	    "  Reads each build context in DIR (default .) as you, leaving\n"
	    "  out what its .dockerignore names, and streams it through shipd\n"
	    "  to the engine, which tags the image (image:, or\n"
	    "  shipd/STACK-SERVICE:latest).  A context whose files and build\n"
	    "  settings hash as those of the image already at the tag is not\n"
	    "  sent again: that image is reused.  Nothing is deployed.\n"
	    "  A failed build names its step and shows the step's output\n"
	    "  (exit 1).\n"
	    "\n"
	    "  --force   build even when the image at the tag is up to date\n",
	.longopts = options,
	.flags = CLI_DIR | CLI_UNITS | CLI_DIR_EXTRA,
	.exec = cmd_build_exec,
};

struct bstate {
	struct cli		*cli;
	struct client		*cl;
	const struct unit	*u;
	int			 want_context;
	json_t			*final;
	int			 rc;		/* of the last pump */
};

static int
on_event(json_t *ev, void *arg)
{
	struct bstate	*b = arg;
	const char	*s;

	if (strcmp(cli_str(ev, "event"), PROTO_EV_BUILD) != 0)
		return 0;
	if (strcmp(cli_str(ev, "state"), "context") == 0)
		b->want_context = 1;
	if (b->cli->json)
		cli_print_json(ev);
	else if (*(s = cli_str(ev, "stream")) != '\0') {
		fputs(s, stdout);
		fflush(stdout);
	}
	return 0;
}

/* Read what has come, without waiting when wait is 0.  1 once the final
 * reply is in (b->final, b->rc), 0 otherwise, -errno on a lost link. */
static int
pump(struct bstate *b, int wait)
{
	struct pollfd	 p = { b->cl->fd, POLLIN, 0 };
	int		 rc;

	for (;;) {
		if ((rc = poll(&p, 1, wait ? -1 : 0)) < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc < 0 ? -errno : 0;
		rc = client_pump(b->cl, &b->final);
		if (rc == CLIENT_MORE) {
			if (wait && b->want_context)
				return 0;
			if (!wait)
				return 0;
			continue;
		}
		b->rc = rc;
		return rc < 0 ? rc : 1;
	}
}

static int
send_piece(const void *p, size_t n, void *arg)
{
	struct bstate	*b = arg;
	const char	*c = p;
	size_t		 k;

	/* A reply may end the request while we send: look first. */
	if (pump(b, 0) != 0)
		return -1;
	while (n > 0) {
		k = n > PROTO_FRAME_MAX ? PROTO_FRAME_MAX : n;
		if (client_send_frame(b->cl, PROTO_FRAME_DATA, PROTO_CHAN_IN,
		    c, k) != 0)
			return -1;
		c += k;
		n -= k;
	}
	return 0;
}

static int
build_one(struct cli *cli, const struct stack *st, const struct unit *u,
    bool force)
{
	const struct unit_build	*bd = &u->build;
	struct client		 cl;
	struct bstate		 b;
	char			 hash[65], *err = NULL;
	json_t			*args, *cf, *e;
	size_t			 i;
	int			 rc, out;

	if (buildctx_hash(bd, hash, &err) != 0) {
		cli_err("%s: build context: %s", u->name, err);
		free(err);
		return EXIT_USAGE;
	}
	if ((rc = client_connect(&cl, cli->socket, &err)) < 0) {
		cli_err("%s", err);
		free(err);
		return rc == -EACCES || rc == -EPERM ? EXIT_DENIED :
		    EXIT_NODAEMON;
	}
	cf = json_array();
	for (i = 0; bd->cache_from && bd->cache_from[i]; i++)
		json_array_append_new(cf, json_string(bd->cache_from[i]));
	args = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b}",
	    "stack", st->name, "service", u->name, "tag", u->image,
	    "hash", hash, "dockerfile", bd->dockerfile,
	    "args", unit_kv_json(bd->args, bd->nargs),
	    "labels", unit_kv_json(bd->labels, bd->nlabels), "cache_from", cf,
	    "force", force);
	if (bd->target != NULL)
		json_object_set_new(args, "target", json_string(bd->target));
	memset(&b, 0, sizeof b);
	b.cli = cli;
	b.cl = &cl;
	b.u = u;
	if ((rc = client_start(&cl, PROTO_CMD_BUILD, args, on_event, NULL,
	    &b)) < 0)
		goto lost;
	/* The reply (reused), or the ask for the context. */
	if ((rc = pump(&b, 1)) < 0)
		goto lost;
	if (rc == 0 && b.want_context) {
		if (!cli->json)
			printf("%s: sending the context of %s\n", u->name,
			    bd->context);
		if (buildctx_tar(bd, send_piece, &b, &err) != 0) {
			if (b.final == NULL && b.rc == 0) {
				cli_err("%s: build context: %s", u->name,
				    err ? err : "not sent");
				client_send_frame(&cl, PROTO_FRAME_ABORT,
				    PROTO_CHAN_IN, NULL, 0);
			}
		} else if (b.final == NULL && b.rc == 0)
			client_send_frame(&cl, PROTO_FRAME_END,
			    PROTO_CHAN_IN, NULL, 0);
		free(err);
		err = NULL;
		while (b.final == NULL && b.rc == 0)
			if ((rc = pump(&b, 1)) < 0)
				goto lost;
	}
	client_close(&cl);
	if (b.rc < 0 || b.final == NULL) {
		cli_err("connection to shipd at %s lost", cli->socket);
		json_decref(b.final);
		return EXIT_NODAEMON;
	}
	if (b.rc == 1) {
		e = b.final;
		if (cli->json)
			cli_print_json(e);
		else
			cli_err("%s", cli_str(e, "message"));
		out = strcmp(cli_str(e, "code"), PROTO_E_BAD_ARGS) == 0 ?
		    EXIT_USAGE : strcmp(cli_str(e, "code"), PROTO_E_DENIED)
		    == 0 ? EXIT_DENIED : EXIT_FAILED;
		json_decref(e);
		return out;
	}
	if (cli->json)
		cli_print_json(b.final);
	else
		printf("%s: %s %s (%.19s)\n", u->name,
		    json_is_true(json_object_get(b.final, "built")) ?
		    "built" : "up to date,", u->image,
		    cli_str(b.final, "image_id"));
	json_decref(b.final);
	return EXIT_OK;
lost:
	client_close(&cl);
	cli_err("connection to shipd at %s lost: %s", cli->socket,
	    strerror(-rc));
	return EXIT_NODAEMON;
}

int
cli_build_stack(struct cli *cli, struct stack *st, char **names, int n,
    bool force)
{
	const struct unit	*u;
	size_t			 i;
	int			 k, rc;

	for (k = 0; k < n; k++) {
		if ((u = stack_unit(st, names[k])) == NULL) {
			cli_err("no service %s in stack %s", names[k],
			    st->name);
			return EXIT_USAGE;
		}
		if (!u->build.present) {
			cli_err("%s has no build:", names[k]);
			return EXIT_USAGE;
		}
	}
	for (i = 0; i < st->nunits; i++) {
		u = st->units[i];
		if (!u->build.present)
			continue;
		for (k = 0; k < n && strcmp(names[k], u->name) != 0; k++)
			;
		if (n > 0 && k == n)
			continue;
		if ((rc = build_one(cli, st, u, force)) != EXIT_OK)
			return rc;
	}
	return EXIT_OK;
}

static int
cmd_build_exec(struct cli_ctx *c)
{
	int n = c->argc > 1 ? c->argc - 1 : 0;

	return cli_build_stack(c->cli, c->st, c->argc > 1 ? c->argv + 1 :
	    NULL, n, cli_opt_has(c, 'f'));
}
