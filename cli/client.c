/*
 * Blocking control-protocol client.  See client.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "util.h"

static int	on_frame(const struct proto_frame *, void *);

static int
connect_path(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, e;

	if (strlen(path) >= sizeof sun.sun_path)
		return -ENAMETOOLONG;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Refused the socket itself, a member of shipd's --read-group gets the
 * read-only one beside it (commands that change state are refused there,
 * by shipd). */
static int
connect_or_readonly(const char *path)
{
	char	*ro;
	size_t	 len = strlen(path);
	int	 fd, rofd;

	if ((fd = connect_path(path)) != -EACCES ||
	    (len > 3 && strcmp(path + len - 3, ".ro") == 0))
		return fd;
	xasprintf(&ro, "%s.ro", path);
	rofd = connect_path(ro);
	free(ro);
	return rofd >= 0 || rofd == -EACCES ? rofd : fd;
}

int
client_connect(struct client *cl, const char *path, char **err)
{
	int fd;

	memset(cl, 0, sizeof cl[0]);
	cl->fd = -1;
	cl->next_id = 1;
	if ((fd = connect_or_readonly(path)) == -ENAMETOOLONG) {
		xasprintf(err, "%s: socket path too long", path);
		return fd;
	}
	if (fd < 0) {
		xasprintf(err, "cannot reach shipd at %s: %s%s", path,
		    strerror(-fd), fd == -ENOENT || fd == -ECONNREFUSED ?
		    " (is shipd running? see -s or $SHIPD_SOCKET)" :
		    fd == -EACCES ? " (needs root, the socket's group, or "
		    "shipd's --read-group for the read-only socket beside it)" :
		    "");
		return fd;
	}
	cl->fd = fd;
	proto_reader_init(&cl->rd, PROTO_MAX_LINE);
	proto_reader_frames(&cl->rd, on_frame);
	return 0;
}

void
client_close(struct client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	json_decref(cl->call.final);
	cl->call.final = NULL;
	proto_reader_free(&cl->rd);
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
on_line(const char *line, size_t len, void *arg)
{
	struct client		*cl = arg;
	struct client_call	*c = &cl->call;
	json_t			*m, *ok;
	json_error_t		 jerr;

	if (line == NULL ||
	    (m = json_loadb(line, len, 0, &jerr)) == NULL) {
		c->rc = -EPROTO;
		return 1;
	}
	if (!json_is_object(m) || json_integer_value(json_object_get(m,
	    "id")) != c->id) {
		/* Not ours (an error about an unparsable line has id null). */
		if ((ok = json_object_get(m, "ok")) != NULL &&
		    json_is_false(ok)) {
			c->final = json_incref(json_object_get(m, "error"));
			c->rc = 1;
			json_decref(m);
			return 1;
		}
		json_decref(m);
		return 0;
	}
	/* An event line is never final, whatever its fields. */
	if (json_object_get(m, "event") == NULL &&
	    (ok = json_object_get(m, "ok")) != NULL) {
		if (json_is_true(ok)) {
			c->final = json_incref(json_object_get(m, "result"));
			c->rc = 0;
		} else {
			c->final = json_incref(json_object_get(m, "error"));
			c->rc = 1;
		}
		json_decref(m);
		return 1;
	}
	if (c->cb != NULL && c->cb(m, c->arg) != 0) {
		json_decref(m);
		c->rc = -ECANCELED;
		return 1;
	}
	json_decref(m);
	return 0;
}

static int
on_frame(const struct proto_frame *f, void *arg)
{
	struct client		*cl = arg;
	struct client_call	*c = &cl->call;

	if (f == NULL || c->frame_cb == NULL) {
		/* A broken header, or a frame shipd sends only when asked. */
		c->rc = -EPROTO;
		return 1;
	}
	if (f->stream != (uint32_t)c->id)
		return 0;	/* not ours */
	if (c->frame_cb(f, c->arg) != 0) {
		c->rc = -ECANCELED;
		return 1;
	}
	return 0;
}

int
client_start(struct client *cl, const char *cmd, json_t *args,
    client_event_cb *cb, client_frame_cb *fcb, void *arg)
{
	struct client_call	*c = &cl->call;
	json_t			*req;
	char			*line;
	size_t			 len;
	int			 rc;

	json_decref(c->final);
	memset(c, 0, sizeof *c);
	c->cb = cb;
	c->frame_cb = fcb;
	c->arg = arg;
	c->rc = -EPIPE;
	c->id = cl->next_id++;
	req = json_pack("{s:i, s:I, s:s, s:o}", "v", PROTO_VERSION, "id",
	    c->id, "cmd", cmd, "args", args ? args : json_object());
	line = proto_encode(req, &len);
	json_decref(req);
	/* shipd would drop it whole: say so rather than send it. */
	if (len - 1 > PROTO_MAX_LINE) {
		free(line);
		return -EMSGSIZE;
	}
	rc = send_all(cl->fd, line, len);
	free(line);
	return rc;
}

int
client_send_frame(struct client *cl, int type, int chan, const void *data,
    size_t len)
{
	char	hdr[PROTO_FRAME_HDR];
	int	rc;

	if ((rc = proto_frame_header(hdr, type, chan, (uint32_t)cl->call.id,
	    len)) != 0)
		return rc;
	if ((rc = send_all(cl->fd, hdr, sizeof hdr)) != 0)
		return rc;
	return len > 0 ? send_all(cl->fd, data, len) : 0;
}

int
client_pump(struct client *cl, json_t **result)
{
	struct client_call	*c = &cl->call;
	char			 buf[65536];
	ssize_t			 n;

	*result = NULL;
	for (;;) {
		if (cl->stop != NULL && *cl->stop)
			return -EINTR;
		n = recv(cl->fd, buf, sizeof buf, 0);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
	if (proto_reader_feed(&cl->rd, buf, (size_t)n, on_line, cl) == 0)
		return CLIENT_MORE;
	*result = c->final;
	c->final = NULL;
	return c->rc;
}

int
client_call(struct client *cl, const char *cmd, json_t *args,
    client_event_cb *cb, void *arg, json_t **result)
{
	int rc;

	*result = NULL;
	if ((rc = client_start(cl, cmd, args, cb, NULL, arg)) != 0)
		return rc;
	while ((rc = client_pump(cl, result)) == CLIENT_MORE)
		;
	return rc;
}
