/*
 * Control command handlers, one per row of the command table.
 */
#ifndef SHIPD_COMMANDS_H
#define SHIPD_COMMANDS_H

struct shipd;
struct ctl_req;

void	ctl_handle_ping(struct shipd *, struct ctl_req *);
void	ctl_handle_version(struct shipd *, struct ctl_req *);
void	ctl_handle_status(struct shipd *, struct ctl_req *);

#endif
