/*
 * Peer credentials beyond SO_PEERCRED's uid, gid and pid.  The groups are
 * the ones the kernel checked the socket file's mode against: SO_PEERGROUPS
 * gives them as they were at connect(), without a look-up in the group
 * database (NSS may block, and may disagree with a process that changed
 * its groups, as setpriv does).  Kernels before 4.13 lack it; /proc shows
 * the process's groups then.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/peer.h"
#include "util.h"

#define PEER_MAX_GROUPS	65536

/* The peer's supplementary groups: 0 with *out (free it) and *n, or a
 * negative errno. */
static int
groups_sockopt(int fd, gid_t **out, size_t *n)
{
#ifdef SO_PEERGROUPS
	socklen_t	 len = 64 * sizeof(gid_t);
	gid_t		*g = NULL;

	for (;;) {
		g = xrealloc(g, len);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0)
			break;
		/* ERANGE: len now says how much is needed. */
		if (errno != ERANGE || len > PEER_MAX_GROUPS * sizeof(gid_t)) {
			int e = errno;

			free(g);
			return -e;
		}
	}
	*out = g;
	*n = len / sizeof(gid_t);
	return 0;
#else
	(void)fd;
	(void)out;
	(void)n;
	return -ENOPROTOOPT;
#endif
}

static bool
groups_proc(pid_t pid, gid_t gid)
{
	char	 path[64], *text = NULL, *p, *end;
	bool	 ok = false;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if (file_read_all(path, 64 * 1024, &text, NULL) < 0)
		return false;
	if ((p = strstr(text, "\nGroups:")) != NULL) {
		p += strlen("\nGroups:");
		while (*p != '\n' && *p != '\0') {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if ((gid_t)g == gid) {
				ok = true;
				break;
			}
			p = end;
		}
	}
	free(text);
	return ok;
}

bool
ctl_peer_in_group(int fd, const struct ucred *cred, gid_t gid)
{
	gid_t	*g = NULL;
	size_t	 n = 0, i;
	bool	 ok = false;

	if (gid == (gid_t)-1)
		return false;
	if (cred->gid == gid)
		return true;
	if (groups_sockopt(fd, &g, &n) < 0)
		return groups_proc(cred->pid, gid);
	for (i = 0; i < n && !ok; i++)
		ok = g[i] == gid;
	free(g);
	return ok;
}
