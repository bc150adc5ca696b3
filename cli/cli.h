/*
 * shipctl internals: the command table, global options, and the output
 * helpers every command shares.
 */
#ifndef SHIPCTL_CLI_H
#define SHIPCTL_CLI_H

#include <stdbool.h>
#include <jansson.h>

/* Exit codes: stable, documented in docs/shipctl.md. */
#define EXIT_OK		0
#define EXIT_FAILED	1	/* the operation ran and failed */
#define EXIT_USAGE	2	/* bad command line or bad input files */
#define EXIT_NODAEMON	3	/* shipd could not be reached */
#define EXIT_DENIED	4	/* shipd refused: permission */
#define EXIT_ENGINE	5	/* the engine is unreachable */

struct cli {
	const char	*socket;
	bool		 json;		/* --json: machine output */
	bool		 color;		/* stdout is a terminal */
};

struct cli_cmd {
	const char	*name;
	const char	*usage;		/* arguments, after the name */
	const char	*summary;
	int		(*exec)(struct cli *, int argc, char **argv);
	const char	*help;		/* longer text for `shipctl help CMD` */
};

extern const struct cli_cmd	cli_cmds[];
extern const size_t		cli_ncmds;

/* Run a request against shipd; prints the error and returns an exit code
 * when it fails, else 0 with *result set. */
struct client;
typedef int cli_event_cb(json_t *event, void *arg);
int	cli_call(struct cli *, const char *cmd, json_t *args,
	    cli_event_cb *, void *, json_t **result);

/* Output. */
void	cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	cli_print_json(const json_t *);
int	cli_usage_error(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const struct cli_cmd *cli_cmd_find(const char *name, const char **why);

struct diag_list;
void	cli_print_diags(struct cli *, struct diag_list *, const char *dir);
/* The stack a command is about: --stack, else $SHIPD_STACK, else the
 * unit directory's (stack.yaml name or the directory's name).  NULL with
 * an error printed when none can be found; caller frees. */
char	*cli_stack_name(const char *opt, const char *dir);

/* A simple aligned table: add rows of cells, then print. */
struct table;
struct table *table_new(size_t ncols, const char *const *headers);
void	table_add(struct table *, const char *const *cells);
void	table_print(struct table *);
void	table_free(struct table *);

int	cmd_version(struct cli *, int, char **);
int	cmd_validate(struct cli *, int, char **);
int	cmd_status(struct cli *, int, char **);
int	cmd_help(struct cli *, int, char **);
int	cmd_deploy(struct cli *, int, char **);
int	cmd_scale(struct cli *, int, char **);
int	cmd_history(struct cli *, int, char **);
int	cmd_down(struct cli *, int, char **);
int	cmd_logs(struct cli *, int, char **);
int	cmd_events(struct cli *, int, char **);
int	cmd_plan(struct cli *, int, char **);
int	cmd_rollback(struct cli *, int, char **);
int	cmd_backup(struct cli *, int, char **);
int	cmd_backups(struct cli *, int, char **);
int	cmd_restore(struct cli *, int, char **);

#endif
