/*
 * Who is on the other end of a control connection: group membership of a
 * peer from the credentials the kernel recorded when it connected.
 */
#ifndef SHIPD_CTL_PEER_H
#define SHIPD_CTL_PEER_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Whether the peer on fd, with cred from SO_PEERCRED, has gid as its
 * primary or one of its supplementary groups.  (gid_t)-1: false. */
bool	ctl_peer_in_group(int fd, const struct ucred *cred, gid_t gid);

#endif
