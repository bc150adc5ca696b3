/*
 * Reading a build context (buildctx.c) and sending it to shipd
 * (cmd_build.c).
 */
#ifndef SHIPCTL_BUILDCTX_H
#define SHIPCTL_BUILDCTX_H

#include <stddef.h>

#include "unit.h"

struct cli;
struct stack;

/* 0, or non-zero to stop. */
typedef int buildctx_write_fn(const void *, size_t, void *arg);

/* Hex sha256 of what a build reads: 0, or -1 with *err set. */
int	buildctx_hash(const struct unit_build *, char out[65], char **err);
/* The context as a tar stream, in pieces, through write(). */
int	buildctx_tar(const struct unit_build *, buildctx_write_fn *,
	    void *arg, char **err);

/* Build the services of st that have build: (only those named in names,
 * when n > 0; an unknown name or one without build: is an error), one
 * request each; an unchanged one is reused.  EXIT_* of cli.h. */
int	cli_build_stack(struct cli *, struct stack *, char **names, int n,
	    bool force);

#endif
