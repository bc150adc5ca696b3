/*
 * shipctl backup: back up a stack's services (every stack's, when none is
 * named: what cron and the systemd timer run), or re-hash one stored
 * backup with --verify.  Quiet on success with --quiet, loud on failure.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static int	cmd_backup_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "quiet", no_argument, NULL, 'q' },
	{ "verify", required_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_backup = {
	.name = "backup",
	.usage = "[--stack NAME] [--quiet] [SERVICE...] | --verify ID",
	.summary = "back up the services that declare backup: (every "
	    "stack's if none is named)",
	.help =
	    "  Streams each backup: path of replica 1 to the state dir with\n"
	    "  its sha256; services with stop: true (and their dependents)\n"
	    "  are stopped for the copy and started again, gated on health.\n"
	    "  A hook running longer than its unit's backup.timeout (10m by\n"
	    "  default) fails the backup.  If shipd dies meanwhile, its next\n"
	    "  start brings back what was stopped and records the backup\n"
	    "  failed.  --quiet prints nothing on success; a failure always\n"
	    "  prints and exits non-zero, so cron can run it.  --verify ID\n"
	    "  re-reads a stored backup and checks every sha256.\n",
	.shortopts = "q",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_ENV,
	.exec = cmd_backup_exec,
};

static int
verify(struct cli_ctx *c, const char *id, bool quiet)
{
	json_t	*res;
	char	 size[32];
	int	 rc;

	if ((rc = cli_request(c, PROTO_CMD_VERIFY, json_pack("{s:s}", "id",
	    id), NULL, NULL, &res)) != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else if (!quiet) {
		cli_fmt_size(size, sizeof size, (uint64_t)cli_int(res,
		    "bytes"));
		printf("backup %s of %s is intact: %lld files, %s, every "
		    "sha256 matches\n", id, cli_str(res, "stack"),
		    cli_int(res, "files"), size);
	}
	json_decref(res);
	return EXIT_OK;
}

static void
show_backups(json_t *res)
{
	json_t	*b;
	size_t	 i;
	char	 size[32];

	if (json_array_size(json_object_get(res, "backups")) == 0) {
		printf("nothing to back up: no deployed stack declares "
		    "backup:\n");
		return;
	}
	json_array_foreach(json_object_get(res, "backups"), i, b) {
		cli_fmt_size(size, sizeof size, (uint64_t)cli_int(b, "size"));
		printf("backed up %s: %s, %s in %.2fs\n", cli_str(b, "stack"),
		    cli_str(b, "id"), size, cli_secs(b, "elapsed_ms"));
	}
}

static int
cmd_backup_exec(struct cli_ctx *c)
{
	struct cli_progress	 p = { .cli = c->cli };
	const char		*vid = cli_opt_get(c, 'V');
	json_t			*args, *svcs, *res;
	int			 i, rc;

	p.quiet = cli_opt_has(c, 'q');
	if (vid != NULL) {
		if (c->argc > 0)
			return cli_usage_error(c, "--verify takes a backup ID "
			    "and no services");
		return verify(c, vid, p.quiet);
	}
	/* Services belong to one stack: the named one, or this directory's. */
	if (c->argc > 0 && (rc = cli_stack(c, true)) != EXIT_OK)
		return rc;
	args = json_object();
	if (c->argc > 0) {
		svcs = json_array();
		for (i = 0; i < c->argc; i++)
			json_array_append_new(svcs, json_string(c->argv[i]));
		json_object_set_new(args, "services", svcs);
	}
	if ((rc = cli_request(c, PROTO_CMD_BACKUP, args, cli_progress_backup,
	    &p, &res)) != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else if (!p.quiet)
		show_backups(res);
	json_decref(res);
	return EXIT_OK;
}
