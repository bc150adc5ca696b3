/*
 * shipctl export: the resolved stack written for another engine.  One
 * entry per target in cmd_export.c's table; each target's code lives in
 * its own export_<target>*.c.  docs/export.md is the reference.
 */
#ifndef SHIPCTL_EXPORT_H
#define SHIPCTL_EXPORT_H

#include <stdbool.h>
#include <jansson.h>

#include "util.h"

struct cli_ctx;
struct stack;

/* What every target is handed: the loaded stack and the options. */
struct export_ctx {
	struct cli_ctx		*c;
	const struct stack	*st;
	const char		*outdir;	/* -o: NULL for stdout */
	int			 nwarn;		/* warnings printed so far */
};

struct export_target {
	const char	*name;
	const char	*summary;
	int		(*run)(struct export_ctx *);
};

/* cmd_export.c: the name of target i, NULL past the last (completion). */
const char *export_target_name(size_t);

/* export.c: a warning on stderr, "export: warning: SERVICE: KEY: text"
 * (service NULL for the stack). */
void	export_warn(struct export_ctx *, const char *service,
	    const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* export_yaml.c: docs (a JSON array of objects) as a YAML stream, one
 * document each, through libyaml's emitter; keys in insertion order.
 * 0, or -errno. */
int	export_yaml(const json_t *docs, struct buf *);
/* Write b to stdout, or atomically to outdir/file (outdir made). */
int	export_write(struct export_ctx *, const char *file, struct buf *);

/* Swarm's -o is a file: rewritten atomically, else stdout.  An exit
 * code. */
int	export_write_file(struct cli_ctx *, const char *data, size_t len);

/* export_k8s.c */
int	export_kubernetes(struct export_ctx *);

/* export_swarm.c: the stack c->st (loaded, graph c->g). */
#define EXPORT_OPT_PROBE_TOOL	0x201	/* --probe-tool TOOL */
#define EXPORT_OPT_WAVE		0x202	/* --wave N */
int	export_swarm(struct cli_ctx *);

#endif
