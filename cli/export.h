/*
 * shipctl export: the resolved stack written for another engine.  Each
 * target is one entry in cmd_export.c's table and its own export_*.c.
 */
#ifndef SHIPCTL_EXPORT_H
#define SHIPCTL_EXPORT_H

#include "cli.h"

/* The options of export, besides -f and the compose ones (cli.h). */
#define EXPORT_OPT_PROBE_TOOL	0x201	/* --probe-tool TOOL (swarm) */
#define EXPORT_OPT_WAVE		0x202	/* --wave N (swarm) */

/* Write the stack c->st (loaded, graph c->g) for the target; the file
 * is -o's, else stdout.  An exit code. */
int	export_swarm(struct cli_ctx *);

/* Where the output goes: -o FILE, rewritten atomically, else stdout. */
int	export_write(struct cli_ctx *, const char *data, size_t len);

#endif
