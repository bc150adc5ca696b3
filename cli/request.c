/*
 * One request to shipd for a command: the stack its entry takes, the
 * connection, and the one place that turns a daemon reply into an exit
 * code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "proto.h"

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

static int
call(struct cli *cli, const char *cmd, json_t *args, cli_event_cb *cb,
    void *arg, json_t **result)
{
	struct client	 cl;
	char		*err = NULL;
	int		 rc;

	if (client_connect(&cl, cli->socket, &err) < 0) {
		json_decref(args);
		cli_err("%s", err);
		free(err);
		return EXIT_NODAEMON;
	}
	rc = client_call(&cl, cmd, args, cb, arg, result);
	client_close(&cl);
	if (rc < 0) {
		if (rc == -ECANCELED)
			return EXIT_OK;
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
	return call(c->cli, cmd, args, cb, arg, result);
}
