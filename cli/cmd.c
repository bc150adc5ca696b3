/*
 * What every shipctl command shares: finding an entry by a unique prefix,
 * its help text, and the prologue that parses its options and unit DIR
 * before the entry's exec runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "stackgraph.h"
#include "util.h"

extern char **environ;

const struct cli_cmd *
cli_cmd_find(const struct cli_cmd *const *cmds, const char *name,
    const char **why)
{
	const struct cli_cmd	*found = NULL;
	size_t			 i, len = strlen(name);

	*why = NULL;
	for (i = 0; cmds[i] != NULL; i++) {
		if (strcmp(cmds[i]->name, name) == 0)
			return cmds[i];
		if (len > 0 && strncmp(cmds[i]->name, name, len) == 0) {
			if (found != NULL) {
				*why = "ambiguous";
				return NULL;
			}
			found = cmds[i];
		}
	}
	if (found == NULL)
		*why = "unknown";
	return found;
}

void
cli_usage(const struct cli_cmd *const *cmds, FILE *f)
{
	size_t i;

	fprintf(f, "usage: shipctl [-s SOCKET] [--json] COMMAND [ARGS]\n\n"
	    "Commands (a unique prefix is enough):\n");
	for (i = 0; cmds[i] != NULL; i++)
		fprintf(f, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	fprintf(f, "\nOptions:\n"
	    "  -s, --socket SOCKET  shipd's control socket (default "
	    "$SHIPD_SOCKET,\n"
	    "                       else " SHIPD_DEFAULT_SOCKET "); when it "
	    "refuses\n"
	    "                       you, SOCKET.ro, where shipd --read-group "
	    "serves\n"
	    "                       only the commands that read\n"
	    "  -j, --json           machine-readable output (JSON lines), before "
	    "or after\n"
	    "                       the command; `shipctl help json` says what "
	    "it prints\n"
	    "  -h, --help           this help; `shipctl help COMMAND` for "
	    "one command\n"
	    "\nExit status: 0 ok, 1 failed (or not found: an unknown stack, "
	    "revision or\nbackup), 2 usage or invalid input, 3 shipd "
	    "unreachable, 4 permission denied\n(no access to the socket, or a "
	    "command that changes state on the read-only\none), 5 engine "
	    "unreachable (while shipd is still reaching the engine, a\n"
	    "command waits up to 10 s for it first), 6 busy (another "
	    "operation holds the\nstack's lock), 130 detached by Ctrl-C from "
	    "a deploy, rollback, scale or\nattach, which goes on in shipd.\n"
	    "\nMore in shipctl(1), shipd(8) and shipd-units(5).  Bash "
	    "completes commands,\noptions, stacks and services once "
	    "share/bash-completion/completions/shipctl\nis loaded "
	    "(make install puts it there).\n");
}

void
cli_cmd_print_help(const struct cli_cmd *cmd)
{
	printf("usage: shipctl %s %s\n\n%s.\n", cmd->name, cmd->usage,
	    cmd->summary);
	if (cmd->help != NULL)
		printf("\n%s", cmd->help);
}

int
cli_usage_error(const struct cli_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vfail(PROTO_E_USAGE, fmt, ap);
	va_end(ap);
	if (!c->cli->json)
		fprintf(stderr, "usage: shipctl %s %s\n", c->cmd->name,
		    c->cmd->usage);
	return EXIT_USAGE;
}

bool
cli_opt_has(const struct cli_ctx *c, int ch)
{
	size_t i;

	for (i = 0; i < c->nopts; i++)
		if (c->opts[i].ch == ch)
			return true;
	return false;
}

/* The last value given, as a getopt loop keeps it. */
const char *
cli_opt_get(const struct cli_ctx *c, int ch)
{
	const char	*arg = NULL;
	size_t		 i;

	for (i = 0; i < c->nopts; i++)
		if (c->opts[i].ch == ch)
			arg = c->opts[i].arg;
	return arg;
}

const struct option cli_compose_options[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "project-name", required_argument, NULL, 'p' },
	{ "profile", required_argument, NULL, CLI_OPT_PROFILE },
	{ "env-file", required_argument, NULL, CLI_OPT_ENV_FILE },
	{ "strict", no_argument, NULL, CLI_OPT_STRICT },
	{ "env", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 }
};

/* The entry's long options with --stack in front when it takes one, and
 * --json, which every command takes after its name too. */
static struct option *
long_options(const struct cli_cmd *cmd)
{
	static const struct option stack = {
		"stack", required_argument, NULL, 'S'
	};
	static const struct option json = {
		"json", no_argument, NULL, 'j'
	};
	const size_t	 nc = nitems(cli_compose_options) - 1;
	struct option	*lo;
	size_t		 n = 0, k = 0;

	while (cmd->longopts != NULL && cmd->longopts[n].name != NULL)
		n++;
	lo = xcalloc(n + 3 + nc, sizeof *lo);
	lo[k++] = json;
	if (cmd->flags & CLI_STACK)
		lo[k++] = stack;
	if (cmd->flags & CLI_COMPOSE) {
		memcpy(lo + k, cli_compose_options, nc * sizeof *lo);
		k += nc;
	}
	if (n > 0)
		memcpy(lo + k, cmd->longopts, n * sizeof *lo);
	return lo;
}

/* Options are kept in order, as given, for the command to read. */
static int
parse_options(struct cli_ctx *c, int argc, char **argv)
{
	struct option	*lo = long_options(c->cmd);
	char		*so;
	int		 ch, rc = EXIT_OK;

	xasprintf(&so, "j%s%s", c->cmd->shortopts ? c->cmd->shortopts : "",
	    c->cmd->flags & CLI_COMPOSE ? "f:p:e:" : "");
	optind = 0;	/* glibc: re-initialise getopt for the command */
	opterr = !c->cli->json;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (ch == '?' || ch == ':') {
			rc = cli_usage_error(c, "unknown option or missing "
			    "argument");
			break;
		}
		if (ch == 'j') {
			c->cli->json = true;	/* seen by main() already */
			continue;
		}
		if (ch == 'S' && c->cmd->flags & CLI_STACK) {
			c->stack_opt = optarg;
			continue;
		}
		c->opts = xrealloc(c->opts, (c->nopts + 1) *
		    sizeof *c->opts);
		c->opts[c->nopts].ch = ch;
		c->opts[c->nopts++].arg = optarg;
	}
	free(lo);
	free(so);
	c->argc = argc - optind;
	c->argv = argv + optind;
	return rc;
}

/* The prologue: the parts of a command its entry's flags ask for, then
 * its exec.  Stack names are resolved later, by cli_request, so that a
 * command checks its own arguments first. */
int
cli_cmd_run(struct cli *cli, const struct cli_cmd *cmd, int argc,
    char **argv)
{
	struct cli_ctx	c;
	int		rc;

	/* Every command takes --help after its name. */
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		cli_cmd_print_help(cmd);
		return EXIT_OK;
	}
	memset(&c, 0, sizeof c);
	c.cli = cli;
	c.cmd = cmd;
	c.dir = ".";
	if ((rc = parse_options(&c, argc, argv)) != EXIT_OK)
		goto out;
	if (cmd->flags & CLI_DIR) {
		if (c.argc > 1 && !(cmd->flags & CLI_DIR_EXTRA)) {
			rc = cli_usage_error(&c, "too many arguments");
			goto out;
		}
		if (c.argc >= 1)
			c.dir = c.argv[0];
	}
	if (cmd->flags & CLI_UNITS && (rc = cli_load(&c)) != EXIT_OK)
		goto out;
	rc = cmd->exec(&c);
out:
	if (c.g != NULL)
		graph_free(c.g);
	if (c.st != NULL)
		stack_free(c.st);
	free(c.stack);
	free(c.opts);
	return rc;
}
