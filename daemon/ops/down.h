/*
 * down, logs and events: the operating commands beside deploy.
 */
#ifndef SHIPD_DOWN_H
#define SHIPD_DOWN_H

struct shipd;
struct ctl_req;

void	ctl_handle_down(struct shipd *, struct ctl_req *);	/* down.c */

#endif
