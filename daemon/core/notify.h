/*
 * systemd readiness notification (sd_notify protocol), self-contained: a
 * datagram to $NOTIFY_SOCKET.  A no-op when the variable is unset.
 */
#ifndef SHIPD_NOTIFY_H
#define SHIPD_NOTIFY_H

int	notify_send(const char *state);		/* "READY=1\nSTATUS=..." */
int	notify_status(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
