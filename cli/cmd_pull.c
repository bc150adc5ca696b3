/*
 * shipctl pull: pull the images of a unit directory's services from their
 * registries through shipd, with the engine's progress.  A service with
 * build:, or with pull_policy never or build, has nothing to pull.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "unit.h"

static int	cmd_pull_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_pull = {
	.name = "pull",
	.usage = "[DIR] [SERVICE...]",
	.summary = "pull the images of DIR's services (default all) through shipd",
	.help =
	    "  Pulls each image that DIR's services (or those named) run,\n"
	    "  showing the engine's progress, whether or not it is already\n"
	    "  on the engine.  Services with build:, or with pull_policy\n"
	    "  never or build, are left out (naming one is an error).\n"
	    "  Exits 1 when any pull failed, naming each image and why.\n",
	.flags = CLI_DIR | CLI_UNITS | CLI_DIR_EXTRA,
	.exec = cmd_pull_exec,
};

static int
on_event(json_t *ev, void *arg)
{
	struct cli *cli = arg;

	if (strcmp(cli_str(ev, "event"), PROTO_EV_PULL) != 0)
		return 0;
	if (cli->json)
		cli_print_json(ev);
	else if (*cli_str(ev, "status") != '\0')
		printf("%s: %s%s%s %s\n", cli_str(ev, "image"),
		    cli_str(ev, "layer"), *cli_str(ev, "layer") ? " " : "",
		    cli_str(ev, "status"), cli_str(ev, "progress"));
	return 0;
}

static bool
pullable(const struct unit *u)
{
	return !u->build.present && u->pull_policy != PULL_NEVER &&
	    u->pull_policy != PULL_BUILD;
}

static void
add_image(json_t *a, const char *ref)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), ref) == 0)
			return;
	json_array_append_new(a, json_string(ref));
}

static int
cmd_pull_exec(struct cli_ctx *c)
{
	const struct unit	*u;
	json_t			*images = json_array(), *res;
	size_t			 i;
	int			 k, rc;

	for (k = 1; k < c->argc; k++) {
		if ((u = stack_unit(c->st, c->argv[k])) == NULL) {
			json_decref(images);
			return cli_usage_error(c, "no service %s in stack %s",
			    c->argv[k], c->st->name);
		}
		if (!pullable(u)) {
			json_decref(images);
			cli_err("%s: nothing to pull (%s)", u->name,
			    u->build.present ? "it has build:" :
			    u->pull_policy == PULL_NEVER ?
			    "pull_policy: never" : "pull_policy: build");
			return EXIT_USAGE;
		}
		add_image(images, u->image);
	}
	for (i = 0; c->argc <= 1 && i < c->st->nunits; i++)
		if (pullable(c->st->units[i]))
			add_image(images, c->st->units[i]->image);
	if (json_array_size(images) == 0) {
		json_decref(images);
		if (!c->cli->json)
			printf("nothing to pull\n");
		return EXIT_OK;
	}
	rc = cli_request(c, PROTO_CMD_PULL, json_pack("{s:o}", "images",
	    images), on_event, c->cli, &res);
	if (rc != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else
		printf("pulled %zu image%s\n", json_array_size(
		    json_object_get(res, "pulled")), json_array_size(
		    json_object_get(res, "pulled")) == 1 ? "" : "s");
	json_decref(res);
	return EXIT_OK;
}
