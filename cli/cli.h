/*
 * shipctl internals: a command is one entry (struct cli_cmd) in its own
 * cmd_<name>.c, listed in commands.c; the prologue in cmd.c does what the
 * entries share and hands the command a struct cli_ctx.
 */
#ifndef SHIPCTL_CLI_H
#define SHIPCTL_CLI_H

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* Exit codes: stable, documented in docs/operations.md. */
#define EXIT_OK		0
#define EXIT_FAILED	1	/* the operation ran and failed */
#define EXIT_USAGE	2	/* bad command line or bad input files */
#define EXIT_NODAEMON	3	/* shipd could not be reached */
#define EXIT_DENIED	4	/* shipd refused: permission */
#define EXIT_ENGINE	5	/* the engine is unreachable */
#define EXIT_DETACHED	130	/* Ctrl-C: shipctl left, the operation
				   goes on in shipd (128 + SIGINT) */
#define EXIT_BUSY	6	/* the stack is locked by another operation */

struct cli_cmd;
struct cli_ctx;
struct graph;
struct stack;

/* The global options, before the command. */
struct cli {
	const char			 *socket;
	bool				  json;	/* --json: machine output */
	bool				  color; /* stdout is a terminal */
	const struct cli_cmd *const	 *cmds;	/* the table, for help */
	bool				  queued; /* the operation we follow
						   waits for the lock */
};

/* Which parts of the prologue a command wants. */
#define CLI_STACK	0x01	/* takes --stack NAME */
#define CLI_STACK_ENV	0x02	/* $SHIPD_STACK stands in for --stack */
#define CLI_STACK_NEED	0x04	/* a stack must be found: --stack, else
				   $SHIPD_STACK, else the unit DIR's */
#define CLI_DIR		0x08	/* one optional operand: a unit DIR (.) */
#define CLI_UNITS	0x10	/* load and check DIR before exec */
#define CLI_DIR_EXTRA	0x20	/* operands after DIR are ignored, as
				   events, history, rollback always did */
#define CLI_DETACH	0x40	/* Ctrl-C detaches from the operation,
				   which goes on (cli_request) */
#define CLI_COMPOSE	0x80	/* DIR may be a compose project: takes
				   -f, -p, --profile, --env-file, --strict;
				   and -e ENV for a unit directory */

/* Usage and help of the compose options, for the entries' texts. */
#define CLI_COMPOSE_USAGE \
	"[-e ENV] [-f FILE]... [-p NAME] [--profile P]... [--env-file F]... " \
	"[--strict]"
#define CLI_COMPOSE_HELP \
	"  -e, --env ENV            a unit directory's environment (else\n" \
	"                           $SHIPD_ENV): ENV.env read after .env,\n" \
	"                           env/ENV/*.yaml merged over the units\n" \
	"                           (docs/units.md, Environments)\n" \
	"\n" \
	"  DIR may be a compose project instead: a directory with\n" \
	"  compose.yaml (or compose.yml, docker-compose.yaml,\n" \
	"  docker-compose.yml) and no stack.yaml.  What shipd cannot honour\n" \
	"  is a warning naming FILE:LINE:COL, printed first\n" \
	"  (docs/compose.md).\n" \
	"  -f, --file FILE          a compose file; again for files merged\n" \
	"                           over it (the project directory is the\n" \
	"                           first file's, unless DIR is given)\n" \
	"  -p, --project-name NAME  the stack name (else name:, then\n" \
	"                           $COMPOSE_PROJECT_NAME, then the directory)\n" \
	"  --profile P              enable the services of profile P\n" \
	"  --env-file F             variables for interpolation instead of\n" \
	"                           DIR/.env\n" \
	"  --strict                 every warning is an error\n"

/* The compose options without a short form (CLI_COMPOSE). */
#define CLI_OPT_PROFILE		0x101
#define CLI_OPT_ENV_FILE	0x102
#define CLI_OPT_STRICT		0x103
/* cmd.c: what CLI_COMPOSE adds (-f, -p and -e have short forms too). */
extern const struct option cli_compose_options[];

struct cli_cmd {
	const char		*name;
	const char		*usage;		/* arguments, after the name */
	const char		*summary;
	const char		*help;		/* for `shipctl help CMD` */
	const char		*shortopts;	/* the command's own options, */
	const struct option	*longopts;	/* besides --stack */
	int			 flags;
	int			(*exec)(struct cli_ctx *);
};

/* One option as given, in order; arg is NULL when it takes none. */
struct cli_opt {
	int		 ch;
	const char	*arg;
};

/* What the prologue hands a command. */
struct cli_ctx {
	struct cli		*cli;
	const struct cli_cmd	*cmd;
	int			 argc;		/* operands, without options */
	char			**argv;
	struct cli_opt		*opts;		/* the command's own options */
	size_t			 nopts;
	const char		*stack_opt;	/* --stack */
	char			*stack;		/* once resolved: cli_stack() */
	const char		*dir;		/* CLI_DIR: the operand, or . */
	struct stack		*st;		/* CLI_UNITS: DIR, loaded */
	struct graph		*g;
};

/* commands.c: every entry, sorted, NULL-terminated. */
extern const struct cli_cmd *const cli_cmds[];

/* cmd.c: finding an entry, help, and the prologue. */
const struct cli_cmd *cli_cmd_find(const struct cli_cmd *const *,
	    const char *name, const char **why);
void	cli_usage(const struct cli_cmd *const *, FILE *);
void	cli_cmd_print_help(const struct cli_cmd *);
int	cli_cmd_run(struct cli *, const struct cli_cmd *, int, char **);
bool	cli_opt_has(const struct cli_ctx *, int ch);
const char *cli_opt_get(const struct cli_ctx *, int ch); /* the last */
int	cli_usage_error(const struct cli_ctx *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* load.c: what CLI_UNITS loads: the unit DIR, or the compose project
 * of DIR or of -f, as ctx->st and ctx->g.  Warnings and errors printed;
 * EXIT_OK or EXIT_USAGE. */
int	cli_load(struct cli_ctx *);
/* For import: the compose project of DIR or -f as ctx->st and ctx->g,
 * nothing printed: the loader's warnings in warns, what the mapping
 * loses in losses, problems in errs; *projdir the project directory
 * (caller frees).  EXIT_OK or EXIT_USAGE. */
struct diag_list;
int	cli_load_compose(struct cli_ctx *, struct diag_list *warns,
	    struct diag_list *losses, char **projdir, struct diag_list *errs);
/* What DIR holds: CLI_KIND_UNITS, CLI_KIND_COMPOSE (a compose file and
 * no stack.yaml), or -1 with *why (caller frees) when both. */
#define CLI_KIND_UNITS		0
#define CLI_KIND_COMPOSE	1
int	cli_dir_kind(const char *dir, char **why);

/* complete.c: shipctl __complete CWORD WORD..., for the shell. */
int	cli_complete(struct cli *, int argc, char **argv);

/* stackname.c: resolve ctx->stack as the entry's flags say (need: one
 * must be found).  EXIT_OK, or EXIT_USAGE with the error printed. */
int	cli_stack(struct cli_ctx *, bool need);

/*
 * request.c: run one request against shipd, adding the stack for entries
 * that take one.  Steals args (NULL: none).  EXIT_OK with *result set
 * (caller decrefs), else the exit code with the error printed.
 */
typedef int cli_event_cb(json_t *event, void *arg);
/* Whether the stack fits in a request: 0, or -E2BIG with the reasons
 * (the limit, the biggest units) in errs.  The prologue asks for DIR. */
struct diag_list;
int	cli_stack_fits(const struct stack *, const char *dir,
	    struct diag_list *);
int	cli_request(struct cli_ctx *, const char *cmd, json_t *args,
	    cli_event_cb *, void *, json_t **result);

/* output.c */
void	cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	cli_verr(const char *fmt, va_list)
	    __attribute__((format(printf, 1, 0)));
void	cli_print_json(const json_t *);
/* Failures shipctl reports: the message on stderr or, once
 * cli_json_errors(true) (--json), {"ok":false,"error":{"code","message",
 * more's members}} on stdout; more is stolen, NULL ok. */
void	cli_json_errors(bool);
void	cli_print_error(const char *code, const char *message, json_t *more);
void	cli_fail(const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	cli_vfail(const char *code, const char *fmt, va_list)
	    __attribute__((format(printf, 2, 0)));
struct diag_list;
void	cli_print_diags(struct cli *, struct diag_list *, const char *dir);
const char *cli_str(const json_t *, const char *key); /* "" if absent */
long long cli_int(const json_t *, const char *key);
double	cli_secs(const json_t *, const char *key);	/* of milliseconds */
void	cli_fmt_size(char *, size_t, uint64_t);

/* A simple aligned table: add rows of cells, then print. */
struct table;
struct table *table_new(size_t ncols, const char *const *headers);
void	table_add(struct table *, const char *const *cells);
void	table_print(struct table *);
void	table_free(struct table *);

/* progress.c: the streamed progress of deploy and rollback, and of backup
 * and restore; arg is a struct cli_progress. */
struct cli_progress {
	struct cli	*cli;
	bool		 quiet;		/* --quiet: failures only */
	json_t		*unchanged;	/* services the plan leaves alone */
	/* The numbered phases ("[3/6] backup ... ok (1.2s)"): the one shown
	 * as under way (0: none yet), since when, and whether the operation
	 * failed in an earlier one. */
	int		 step;
	uint64_t	 step_t;
	bool		 failed;
	bool		 rollback;	/* phases of a failed deploy's rollback */
};
int	cli_progress_deploy(json_t *, void *);
int	cli_progress_backup(json_t *, void *);
/* The reply came (ok or not): the last phase's line. */
void	cli_progress_end(struct cli_progress *, bool ok);
void	cli_progress_free(struct cli_progress *);

#endif
