/*
 * shipctl __complete CWORD WORD...: the candidates for word CWORD of a
 * command line, one a line, for the shell's completion (share/bash-
 * completion/completions/shipctl).  Commands and options come from the
 * command table, so completion cannot drift from what shipctl accepts;
 * stack and service names are asked from shipd, briefly, and nothing is
 * printed when it does not answer.  Not listed by help: it is for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "cli.h"
#include "export.h"
#include "client.h"
#include "proto.h"
#include "unitenv.h"
#include "util.h"

/* How long a completion may wait for a shipd that answers: a shell must
 * stay snappy, but status inspects every running container, and on a
 * busy host that takes more than a second.  A shipd that is down refuses
 * the connect at once. */
#define COMPLETE_TIMEOUT_MS	3000

/* What the parse of the words before CWORD found. */
struct cword {
	const char		*socket;
	const struct cli_cmd	*cmd;
	const char		*stack;		/* --stack's value */
	const char		*dir;		/* the first operand (DIR) */
	const char		*want;		/* the option whose value CWORD
						   is, as "--name" or "-c" */
	bool			 unknown;	/* not a command: offer nothing */
	int			 noperands;	/* the command's, before CWORD */
	bool			 dashdash;	/* "--" came: the rest are not
						   options (exec's CMD) */
};

static const struct option global_opts[] = {
	{ "socket",	required_argument, NULL, 's' },
	{ "json",	no_argument,	   NULL, 'j' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const struct option stack_opt = {
	"stack", required_argument, NULL, 'S'
};

static void
put(const char *word, const char *cur)
{
	if (strncmp(word, cur, strlen(cur)) == 0)
		printf("%s\n", word);
}

/* The long option of cmd (or the globals, cmd NULL) called name. */
static const struct option *
find_long(const struct cli_cmd *cmd, const char *name, size_t len)
{
	const struct option	*lo;
	size_t			 i;

	if (cmd == NULL)
		lo = global_opts;
	else {
		if (cmd->flags & CLI_STACK && strlen(stack_opt.name) == len &&
		    strncmp(stack_opt.name, name, len) == 0)
			return &stack_opt;
		for (i = 0; cmd->flags & CLI_COMPOSE &&
		    cli_compose_options[i].name != NULL; i++) {
			if (strlen(cli_compose_options[i].name) == len &&
			    strncmp(cli_compose_options[i].name, name, len) == 0)
				return &cli_compose_options[i];
		}
		if ((lo = cmd->longopts) == NULL)
			return NULL;
	}
	for (i = 0; lo[i].name != NULL; i++)
		if (strlen(lo[i].name) == len &&
		    strncmp(lo[i].name, name, len) == 0)
			return &lo[i];
	return NULL;
}

/* Whether short option ch of cmd (or the globals) takes a value. */
static bool
short_takes_arg(const struct cli_cmd *cmd, int ch)
{
	const char *so = cmd == NULL ? "s:jh" : cmd->shortopts, *p;

	if (cmd != NULL && cmd->flags & CLI_COMPOSE && (ch == 'f' ||
	    ch == 'p' || ch == 'e'))
		return true;
	if (so == NULL || ch == ':' || (p = strchr(so, ch)) == NULL)
		return false;
	return p[1] == ':';
}

/* One option word w: its value, when it takes one, is the next word.
 * Returns whether it does. */
static bool
scan_option(struct cword *cw, const char *w, const char *next)
{
	const struct option	*o;
	const char		*eq, *val = NULL;
	bool			 takes = false;

	if (w[1] == '-') {
		eq = strchr(w + 2, '=');
		o = find_long(cw->cmd, w + 2, eq ? (size_t)(eq - w - 2) :
		    strlen(w + 2));
		if (o == NULL || o->has_arg != required_argument)
			return false;
		if (eq != NULL)
			val = eq + 1;
		else {
			takes = true;
			val = next;
		}
		if (o->val == 's' && cw->cmd == NULL)
			cw->socket = val;
		else if (o->val == 'S')
			cw->stack = val;
		if (takes && next == NULL)
			cw->want = w;
		return takes;
	}
	if (w[1] == '\0' || !short_takes_arg(cw->cmd, w[1]))
		return false;
	if (w[2] != '\0')
		val = w + 2;
	else {
		takes = true;
		val = next;
	}
	if (w[1] == 's' && cw->cmd == NULL)
		cw->socket = val;
	if (takes && next == NULL)
		cw->want = w;
	return takes;
}

/* The words before CWORD: globals, the command, its options. */
static void
scan(struct cword *cw, int cword, char **words)
{
	const char	*why;
	int		 i;

	for (i = 1; i < cword; i++) {
		const char *w = words[i];
		const char *next = i + 1 < cword ? words[i + 1] : NULL;

		cw->want = NULL;
		if (cw->cmd != NULL && strcmp(w, "--") == 0) {
			cw->dashdash = true;
			return;
		}
		if (w[0] == '-' && w[1] != '\0') {
			if (scan_option(cw, w, next))
				i++;
			continue;
		}
		if (cw->cmd != NULL && cw->noperands++ == 0)
			cw->dir = w;
		else if ((cw->cmd = cli_cmd_find(cli_cmds, w, &why)) == NULL) {
			cw->unknown = true;
			return;
		}
	}
}

/* shipd's status, or NULL: never an error on the terminal. */
static json_t *
ask_status(const char *socket, const char *stack)
{
	struct timeval	 tv = { COMPLETE_TIMEOUT_MS / 1000,
			    COMPLETE_TIMEOUT_MS % 1000 * 1000 };
	struct client	 cl;
	json_t		*args = json_object(), *res = NULL;
	char		*err = NULL;
	int		 rc;

	if (client_connect(&cl, socket, &err) < 0) {
		free(err);
		json_decref(args);
		return NULL;
	}
	(void)setsockopt(cl.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(cl.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (stack != NULL)
		json_object_set_new(args, "stack", json_string(stack));
	rc = client_call(&cl, PROTO_CMD_STATUS, args, NULL, NULL, &res);
	client_close(&cl);
	if (rc != 0) {
		json_decref(res);
		return NULL;
	}
	return res;
}

/* Each distinct value of key in the objects of array a (short lists). */
static void
put_distinct(json_t *a, const char *key, const char *suffix,
    const char *cur)
{
	json_t		*seen = json_object(), *o;
	const char	*v;
	char		*w;
	size_t		 i;

	json_array_foreach(a, i, o) {
		if ((v = json_string_value(json_object_get(o, key))) == NULL ||
		    json_object_get(seen, v) != NULL)
			continue;
		json_object_set_new(seen, v, json_true());
		if (asprintf(&w, "%s%s", v, suffix) >= 0) {
			put(w, cur);
			free(w);
		}
	}
	json_decref(seen);
}

static void
put_stacks(const char *socket, const char *cur)
{
	json_t *res = ask_status(socket, NULL);

	if (res == NULL)
		return;
	put_distinct(json_object_get(res, "containers"), "stack", "", cur);
	json_decref(res);
}

static void
put_services(const char *socket, const char *stack, const char *suffix,
    const char *cur)
{
	json_t *res;

	if (stack == NULL || *stack == '\0')
		stack = getenv("SHIPD_STACK");
	if (stack == NULL || *stack == '\0' ||
	    (res = ask_status(socket, stack)) == NULL)
		return;
	put_distinct(json_object_get(res, "services"), "service", suffix, cur);
	json_decref(res);
}

static void
put_options(const struct cli_cmd *cmd, const char *cur)
{
	const struct option	*lo = cmd == NULL ? global_opts :
				    cmd->longopts;
	char			 buf[64];
	size_t			 i;

	if (cmd != NULL && cmd->flags & CLI_STACK)
		put("--stack", cur);
	for (i = 0; cmd != NULL && cmd->flags & CLI_COMPOSE &&
	    cli_compose_options[i].name != NULL; i++) {
		snprintf(buf, sizeof buf, "--%s", cli_compose_options[i].name);
		put(buf, cur);
	}
	for (i = 0; lo != NULL && lo[i].name != NULL; i++) {
		snprintf(buf, sizeof buf, "--%s", lo[i].name);
		put(buf, cur);
	}
	if (cmd != NULL) {
		put("--help", cur);
		put("--json", cur);	/* every command takes it after */
	}
}

/* -e's values: the environments of DIR (before CWORD, else .). */
static void
put_envs(const char *dir, const char *cur)
{
	char	**v = unit_env_names(dir != NULL ? dir : ".");
	size_t	  i;

	for (i = 0; v[i] != NULL; i++)
		put(v[i], cur);
	strv_free(v);
}

/* Operands: what the entry's usage names.  "@dirs" asks the shell to
 * complete directories itself. */
static void
put_operands(struct cword *cw, const char *cur)
{
	const struct cli_cmd	*cmd = cw->cmd;
	size_t			 i;

	if (strcmp(cmd->name, "help") == 0) {
		for (i = 0; cli_cmds[i] != NULL; i++)
			put(cli_cmds[i]->name, cur);
		return;
	}
	/* export: TARGET, then DIR. */
	if (strcmp(cmd->name, "export") == 0) {
		for (i = 0; cw->noperands == 0 && export_target_name(i) != NULL;
		    i++)
			put(export_target_name(i), cur);
		if (cw->noperands == 1)
			printf("@dirs\n");
		return;
	}
	/* exec: SERVICE, then a command line that is the container's. */
	if (strstr(cmd->usage, "-- CMD") != NULL &&
	    (cw->noperands > 0 || cw->dashdash))
		return;
	/* import: what to import first, then the project's directory. */
	if (strcmp(cmd->name, "import") == 0 && cw->noperands == 0)
		put("compose", cur);
	else if (strcmp(cmd->name, "import") == 0)
		printf("@dirs\n");
	else if (strstr(cmd->usage, "SERVICE=") != NULL)
		put_services(cw->socket, cw->stack, "=", cur);
	else if (strstr(cmd->usage, "SERVICE") != NULL)
		put_services(cw->socket, cw->stack, "", cur);
	else if (cmd->flags & CLI_DIR)
		printf("@dirs\n");
}

int
cli_complete(struct cli *cli, int argc, char **argv)
{
	struct cword	 cw;
	const char	*cur;
	char		*end;
	long		 cword;
	size_t		 i;

	if (argc < 2)
		return EXIT_USAGE;
	cword = strtol(argv[0], &end, 10);
	if (*end != '\0' || cword < 1)
		return EXIT_USAGE;
	argc--;
	argv++;
	if (cword > argc)
		cword = argc;
	cur = cword < argc ? argv[cword] : "";
	memset(&cw, 0, sizeof cw);
	cw.socket = cli->socket;
	scan(&cw, (int)cword, argv);
	if (cw.unknown)
		return EXIT_OK;
	if (cw.want != NULL) {
		if (strcmp(cw.want, "--stack") == 0)
			put_stacks(cw.socket, cur);
		else if (strcmp(cw.want, "-e") == 0 ||
		    strcmp(cw.want, "--env") == 0)
			put_envs(cw.dir, cur);
		else if (cw.cmd == NULL)	/* -s, --socket */
			printf("@files\n");
		else if (strcmp(cw.want, "-o") == 0 ||
		    strcmp(cw.want, "--output") == 0)	/* import's OUTDIR */
			printf("@dirs\n");
		return EXIT_OK;
	}
	if (cw.dashdash)
		return EXIT_OK;
	if (cur[0] == '-') {
		put_options(cw.cmd, cur);
		return EXIT_OK;
	}
	if (cw.cmd == NULL) {
		for (i = 0; cli_cmds[i] != NULL; i++)
			put(cli_cmds[i]->name, cur);
		return EXIT_OK;
	}
	put_operands(&cw, cur);
	return EXIT_OK;
}
