/*
 * The control server's sockets: creating them (a stale socket of a dead
 * shipd is replaced, a live one is not), the idle sweep, and closing
 * everything at shutdown.
 */
#include <assert.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/hold.h"
#include "ctl/server_int.h"
#include "core/shipd.h"
#include "log.h"
#include "util.h"

static void
own_closed(void *arg)
{
	struct ctl *ctl = arg;

	ctl->open_handles--;
	ctl_maybe_done(ctl);
}

static void
on_own_closed(uv_handle_t *h)
{
	own_closed(h->data);
}

static void
on_sweep(uv_timer_t *t)
{
	struct ctl		*ctl = t->data;
	struct ctl_client	*c, *next;
	uint64_t		 now = uv_now(t->loop);

	for (c = ctl->clients; c != NULL; c = next) {
		next = c->next;
		if (c->closing || c->nreqs > 0 ||
		    now - c->last_active < ctl->idle_ms)
			continue;
		log_debug("control: closing idle client uid %ld pid %ld",
		    (long)c->uid, (long)c->pid);
		ctl_client_close(c);
	}
}

/* Testing: SHIPD_TEST_CTL_IDLE_MS=N sets the idle timeout to N ms. */
static uint64_t
idle_timeout(void)
{
	const char	*v = getenv("SHIPD_TEST_CTL_IDLE_MS");
	char		*end;
	unsigned long	 ms;

	if (v == NULL || *v == '\0')
		return CTL_IDLE_MS;
	ms = strtoul(v, &end, 10);
	if (*end != '\0' || ms == 0) {
		log_warn("control: SHIPD_TEST_CTL_IDLE_MS=%s ignored", v);
		return CTL_IDLE_MS;
	}
	return ms;
}

/* ---- listening ----------------------------------------------------------- */

/* A socket file that nobody answers on is stale (a killed shipd left it);
 * one that answers belongs to a running shipd, which we must not steal. */
static int
remove_stale(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (strlen(path) >= sizeof sun.sun_path)
		return -ENAMETOOLONG;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Bind and listen on path, mode 0660, group gid unless (gid_t)-1; the
 * handle is open (and counted) whatever the result. */
static int
listen_on(struct ctl *ctl, uv_pipe_t *p, const char *path, gid_t gid)
{
	int rc;

	uv_pipe_init(ctl->sd->loop, p, 0);
	p->data = ctl;
	ctl->open_handles++;
	if ((rc = uv_pipe_bind(p, path)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)p, 128, ctl_on_connection)) < 0) {
		log_err("control: %s: %s", path, uv_strerror(rc));
		return rc;
	}
	/* bind() honours the umask; the mode is part of the security model,
	 * so set it explicitly. */
	if (chmod(path, 0660) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0)) {
		rc = -errno;
		log_err("control: %s: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

int
ctl_open(struct shipd *sd, const char *path, gid_t gid, struct ctl **out)
{
	struct ctl	*ctl;
	char		*dir, *slash;
	int		 rc;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		mkdir_p(dir, 0755);
	}
	free(dir);
	if ((rc = remove_stale(path)) < 0) {
		if (rc == -EADDRINUSE)
			log_err("control: %s: another shipd answers there",
			    path);
		else
			log_err("control: %s: %s", path, strerror(-rc));
		return rc;
	}
	ctl = xcalloc(1, sizeof *ctl);
	ctl->sd = sd;
	ctl->gid = gid;
	ctl->ro_gid = (gid_t)-1;
	ctl->path = xstrdup(path);
	if ((rc = listen_on(ctl, &ctl->listener, path, gid)) < 0)
		goto fail;
	/* Checked a few times per timeout: closed within 1.25 of it. */
	ctl->idle_ms = idle_timeout();
	uv_timer_init(sd->loop, &ctl->sweep);
	ctl->sweep.data = ctl;
	ctl->open_handles++;
	uv_timer_start(&ctl->sweep, on_sweep, ctl->idle_ms / 4 + 1,
	    ctl->idle_ms / 4 + 1);
	ctl->hold = ctl_hold_new(sd);
	ctl->open_handles++;
	*out = ctl;
	return 0;
fail:
	/* Freed in the close callback; the caller runs the loop once more
	 * before uv_loop_close(). */
	ctl->closing = true;
	uv_close((uv_handle_t *)&ctl->listener, on_own_closed);
	return rc;
}

int
ctl_open_readonly(struct ctl *ctl, const char *path, gid_t gid)
{
	int rc;

	assert(ctl->ro_path == NULL);
	if ((rc = remove_stale(path)) < 0) {
		log_err("control: %s: %s", path, rc == -EADDRINUSE ?
		    "another shipd answers there" : strerror(-rc));
		return rc;
	}
	ctl->ro_path = xstrdup(path);
	ctl->ro_gid = gid;
	return listen_on(ctl, &ctl->ro, path, gid);
}

void
ctl_close(struct ctl *ctl, void (*done)(void *), void *arg)
{
	ctl->closing = true;
	ctl->done = done;
	ctl->done_arg = arg;
	unlink(ctl->path);
	if (ctl->ro_path != NULL)
		unlink(ctl->ro_path);
	ctl_drop_all(ctl);
	/* Held requests were cancelled with the others above. */
	ctl_hold_close(ctl->hold, own_closed, ctl);
	uv_close((uv_handle_t *)&ctl->sweep, on_own_closed);
	uv_close((uv_handle_t *)&ctl->listener, on_own_closed);
	if (ctl->ro_path != NULL)
		uv_close((uv_handle_t *)&ctl->ro, on_own_closed);
}

void
ctl_engine_ready(struct ctl *ctl)
{
	if (ctl != NULL && !ctl->closing)
		ctl_hold_wake(ctl->hold);
}
