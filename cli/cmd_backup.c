/*
 * shipctl backup: back up a stack's services (every stack's, when none is
 * named: what cron and the systemd timer run), or re-hash one stored
 * backup with --verify.  Quiet on success with --quiet, loud on failure.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

void	cli_fmt_size(char *, size_t, uint64_t);		/* cmd_backups.c */
int	cli_backup_event(json_t *, void *);
void	cli_backup_quiet(bool);

/* --quiet: progress is not shown; failures still are. */
static bool	quiet;

void
cli_backup_quiet(bool on)
{
	quiet = on;
}

static const char *
s(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* Progress of backup and restore, one line per step (arg: the cli).
 * Failures are left to the final reply, which names them all. */
int
cli_backup_event(json_t *ev, void *arg)
{
	struct cli	*cli = arg;
	const char	*kind = s(ev, "event");
	char		 size[32];

	if (cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (quiet)
		return 0;
	cli_fmt_size(size, sizeof size, (uint64_t)json_integer_value(
	    json_object_get(ev, strcmp(kind, "archive") == 0 ||
	    strcmp(kind, "safety") == 0 || strcmp(kind, "restored") == 0 ?
	    "bytes" : "size")));
	if (strcmp(kind, "backup") == 0 && strcmp(s(ev, "status"),
	    "started") == 0)
		printf("backup %s of %s\n", s(ev, "backup"), s(ev, "stack"));
	else if (strcmp(kind, "hook") == 0)
		printf("  %-16s %s hook %s\n", s(ev, "service"), s(ev, "hook"),
		    s(ev, "status"));
	else if (strcmp(kind, "service") == 0)
		printf("  %-16s %s\n", s(ev, "service"), s(ev, "status"));
	else if (strcmp(kind, "archive") == 0)
		printf("  %-16s %s: %s, sha256 %.16s\n", s(ev, "service"),
		    s(ev, "path"), size, s(ev, "sha256"));
	else if (strcmp(kind, "pruned") == 0)
		printf("  pruned backup %s (beyond keep)\n", s(ev, "backup"));
	else if (strcmp(kind, "verified") == 0)
		printf("backup %s of %s verified\n", s(ev, "backup"),
		    s(ev, "stack"));
	else if (strcmp(kind, "safety") == 0 && *s(ev, "backup"))
		printf("  safety backup %s taken\n", s(ev, "backup"));
	else if (strcmp(kind, "safety") == 0)
		printf("  %-16s %s: %s saved\n", s(ev, "service"),
		    s(ev, "path"), size);
	else if (strcmp(kind, "restored") == 0)
		printf("  %-16s %s: %s put back\n", s(ev, "service"),
		    s(ev, "path"), size);
	fflush(stdout);
	return 0;
}

static int
verify(struct cli *cli, const char *stack, const char *id)
{
	json_t	*args = json_pack("{s:s}", "id", id), *res;
	char	 size[32];
	int	 rc;

	if (stack != NULL)
		json_object_set_new(args, "stack", json_string(stack));
	if ((rc = cli_call(cli, "verify", args, NULL, NULL, &res)) != EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(res);
	else if (!quiet) {
		cli_fmt_size(size, sizeof size, (uint64_t)json_integer_value(
		    json_object_get(res, "bytes")));
		printf("backup %s of %s is intact: %lld files, %s, every "
		    "sha256 matches\n", id, s(res, "stack"),
		    (long long)json_integer_value(json_object_get(res,
		    "files")), size);
	}
	json_decref(res);
	return EXIT_OK;
}

int
cmd_backup(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verify", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*stack_opt = NULL, *vid = NULL, *env;
	json_t		*args, *svcs, *res, *b;
	char		*stack = NULL, size[32];
	size_t		 i;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		if (ch == 'S')
			stack_opt = optarg;
		else if (ch == 'q')
			quiet = true;
		else if (ch == 'V')
			vid = optarg;
		else
			return cli_usage_error("backup", "unknown option");
	}
	env = getenv("SHIPD_STACK");
	if (stack_opt == NULL && env != NULL && *env != '\0')
		stack_opt = env;
	if (vid != NULL) {
		if (optind < argc)
			return cli_usage_error("backup", "--verify takes a "
			    "backup ID and no services");
		return verify(cli, stack_opt, vid);
	}
	/* Services belong to one stack: the named one, or this directory's. */
	if (optind < argc && (stack = cli_stack_name(stack_opt,
	    NULL)) == NULL)
		return EXIT_USAGE;
	if (stack == NULL && stack_opt != NULL)
		stack = xstrdup(stack_opt);
	args = json_object();
	if (stack != NULL)
		json_object_set_new(args, "stack", json_string(stack));
	if (optind < argc) {
		svcs = json_array();
		for (i = (size_t)optind; i < (size_t)argc; i++)
			json_array_append_new(svcs, json_string(argv[i]));
		json_object_set_new(args, "services", svcs);
	}
	rc = cli_call(cli, "backup", args, cli_backup_event, cli, &res);
	if (rc == EXIT_OK) {
		if (cli->json)
			cli_print_json(res);
		else if (!quiet && json_array_size(json_object_get(res,
		    "backups")) == 0)
			printf("nothing to back up: no deployed stack declares "
			    "backup:\n");
		else if (!quiet) {
			json_array_foreach(json_object_get(res, "backups"), i,
			    b) {
				cli_fmt_size(size, sizeof size, (uint64_t)
				    json_integer_value(json_object_get(b,
				    "size")));
				printf("backed up %s: %s, %s in %.2fs\n",
				    s(b, "stack"), s(b, "id"), size,
				    (double)json_integer_value(json_object_get(
				    b, "elapsed_ms")) / 1000);
			}
		}
		json_decref(res);
	}
	free(stack);
	return rc;
}
