/*
 * The stack a client sent with deploy or plan, validated as strictly as a
 * unit file.
 */
#ifndef SHIPD_STACKARG_H
#define SHIPD_STACKARG_H

struct ctl_arg;
struct ctl_req;
struct graph;
struct stack;

/* The arguments deploy takes, and plan with it, so that shipctl can send
 * both the same request. */
extern const struct ctl_arg ctl_stack_args[];

/* 0 with *st and *g set, or -EINVAL with the request answered. */
int	ctl_stack_arg(struct ctl_req *, struct stack **, struct graph **);

#endif
