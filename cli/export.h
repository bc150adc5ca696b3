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

/* export.c: a warning on stderr, "shipctl: export: warning: SERVICE: KEY:
 * text" (service NULL for the stack), counted in nwarn. */
void	export_warn(struct export_ctx *, const char *service,
	    const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/*
 * export_yaml.c: docs (a JSON array of objects) as a YAML stream, one
 * document each, through libyaml's emitter; keys in insertion order.
 * Style NULL: block style throughout, strings plain only where
 * yaml_plain_ok allows, each document after a "---" (kubernetes).
 * 0, or -errno.
 */
struct export_style {
	const char	 *plain_extra;	/* yaml_plain_ok's extra characters */
	bool		  doc_marks;	/* "---" before each document */
	/* Nodes of the tree (pointers: valid while the tree is). */
	const json_t	**flow;		/* containers in flow style */
	size_t		  nflow;
	const json_t	**plain;	/* strings plain as they are */
	size_t		  nplain;
};
int	export_yaml(const json_t *docs, const struct export_style *,
	    struct buf *);
/* node, to be written in flow style ({a: 1}, [a, b]); returns node. */
json_t	*export_flow(struct export_style *, json_t *node);
/* A new string, written plain whatever it holds (a duration: 5s). */
json_t	*export_plain(struct export_style *, const char *);
void	 export_style_free(struct export_style *);
/* Write b to stdout, or atomically to outdir/file (outdir made). */
int	export_write(struct export_ctx *, const char *file, struct buf *);

/* Swarm's -o is a file: rewritten atomically, else stdout.  An exit
 * code. */
int	export_write_file(struct cli_ctx *, const char *data, size_t len);

/* export_k8s.c */
int	export_kubernetes(struct export_ctx *);

/* export_swarm.c (the stack's graph is x->c->g). */
#define EXPORT_OPT_PROBE_TOOL	0x201	/* --probe-tool TOOL */
#define EXPORT_OPT_WAVE		0x202	/* --wave N */
int	export_swarm(struct export_ctx *);

#endif
