/*
 * A raw client's pieces for the control-socket test tools (ctlflood,
 * ctlhangup): no library, so that what they send is exactly the bytes.
 */
#ifndef SHIPD_RAWSOCK_H
#define SHIPD_RAWSOCK_H

#include <stddef.h>
#include <sys/un.h>

void	rawsock_addr(struct sockaddr_un *, const char *path);
/* A connected stream socket, or exit(1) naming path. */
int	rawsock_connect(const char *path);
/* 0, or -1 once the peer has gone. */
int	rawsock_send(int fd, const char *, size_t);

#endif
