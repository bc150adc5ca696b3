/*
 * Fake engine for the engine client's tests: an HTTP/1.1 server on a
 * temporary unix socket, one thread per connection, replies scripted by
 * the test's handler.  See helper_fakeengine.h.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper_fakeengine.h"
#include "util.h"

struct fake_conn {
	struct fake_engine	*fe;
	pthread_t		 thread;
	int			 fd;
	unsigned		 n;
	int			 close_after;
	struct fake_conn	*next;
};

struct fake_engine {
	char			 dir[64];
	char			 path[96];
	int			 lfd;
	int			 stop[2];	/* readable once stopping */
	pthread_t		 acceptor;
	pthread_mutex_t		 mu;
	fake_handler		*handler;
	void			*arg;
	struct fake_conn	*conns;
	unsigned		 nconns;
	char			**log;
	unsigned		 nlog;
};

static int
stopping(struct fake_engine *fe)
{
	struct pollfd p = { .fd = fe->stop[0], .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/* Read one request into rq; 0, or -1 at EOF or on garbage. */
static int
read_request(struct fake_conn *c, struct buf *in, struct fake_request *rq,
    char **line)
{
	char		 tmp[4096], *end, *p;
	size_t		 hlen, clen = 0;
	ssize_t		 n;

	while ((end = strstr(in->data ? in->data : "", "\r\n\r\n")) == NULL) {
		if ((n = recv(c->fd, tmp, sizeof tmp, 0)) <= 0)
			return -1;
		buf_append(in, tmp, (size_t)n);
	}
	hlen = (size_t)(end - in->data) + 4;
	for (p = strstr(in->data, "\r\n"); p != NULL && p < end;
	    p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			clen = strtoul(p + 17, NULL, 10);
	while (in->len < hlen + clen) {
		if ((n = recv(c->fd, tmp, sizeof tmp, 0)) <= 0)
			return -1;
		buf_append(in, tmp, (size_t)n);
	}
	/* "GET /target HTTP/1.1" */
	p = strstr(in->data, "\r\n");
	*line = xstrndup(in->data, (size_t)(p - in->data));
	if ((p = strchr(*line, ' ')) == NULL || strchr(p + 1, ' ') == NULL) {
		free(*line);
		return -1;
	}
	*p = '\0';
	*strchr(p + 1, ' ') = '\0';
	rq->method = *line;
	rq->target = p + 1;
	rq->body = xstrndup(in->data + hlen, clen);
	rq->body_len = clen;
	rq->conn = c->n;
	rq->at_ms = now_ms();
	buf_consume(in, hlen + clen);
	return 0;
}

static void *
conn_main(void *arg)
{
	struct fake_conn	*c = arg;
	struct fake_engine	*fe = c->fe;
	struct fake_request	 rq;
	struct buf		 in;
	char			*line, *entry;

	buf_init(&in);
	while (!c->close_after && !stopping(fe)) {
		memset(&rq, 0, sizeof rq);
		if (read_request(c, &in, &rq, &line) < 0)
			break;
		xasprintf(&entry, "%s %s", rq.method, rq.target);
		pthread_mutex_lock(&fe->mu);
		fe->log = xrealloc(fe->log, (fe->nlog + 1) * sizeof *fe->log);
		fe->log[fe->nlog++] = entry;
		rq.seq = fe->nlog;
		pthread_mutex_unlock(&fe->mu);
		fe->handler(c, &rq, fe->arg);
		free((char *)rq.body);
		free(line);
	}
	/* The peer sees the end now; the fd is closed at stop, so that it
	 * cannot be reused while fake_engine_stop() shuts it down. */
	shutdown(c->fd, SHUT_RDWR);
	buf_free(&in);
	return NULL;
}

static void *
accept_main(void *arg)
{
	struct fake_engine	*fe = arg;
	struct pollfd		 p[2];
	struct fake_conn	*c;
	int			 fd;

	for (;;) {
		p[0].fd = fe->lfd;
		p[0].events = POLLIN;
		p[1].fd = fe->stop[0];
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		if ((fd = accept(fe->lfd, NULL, NULL)) < 0)
			continue;
		c = xcalloc(1, sizeof *c);
		c->fe = fe;
		c->fd = fd;
		pthread_mutex_lock(&fe->mu);
		c->n = ++fe->nconns;
		c->next = fe->conns;
		fe->conns = c;
		pthread_mutex_unlock(&fe->mu);
		if (pthread_create(&c->thread, NULL, conn_main, c) != 0)
			abort();
	}
	return NULL;
}

int
fake_engine_start(fake_handler *h, void *arg, struct fake_engine **out)
{
	struct fake_engine	*fe = xcalloc(1, sizeof *fe);
	struct sockaddr_un	 sun;

	snprintf(fe->dir, sizeof fe->dir, "/tmp/fakeengine.XXXXXX");
	if (mkdtemp(fe->dir) == NULL) {
		free(fe);
		return -errno;
	}
	snprintf(fe->path, sizeof fe->path, "%s/docker.sock", fe->dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", fe->path);
	if ((fe->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fe->lfd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    listen(fe->lfd, 64) < 0 || pipe(fe->stop) < 0)
		abort();
	pthread_mutex_init(&fe->mu, NULL);
	fe->handler = h;
	fe->arg = arg;
	if (pthread_create(&fe->acceptor, NULL, accept_main, fe) != 0)
		abort();
	*out = fe;
	return 0;
}

void
fake_engine_stop(struct fake_engine *fe)
{
	struct fake_conn	*c;
	unsigned		 i;

	if (write(fe->stop[1], "x", 1) != 1)
		abort();
	pthread_join(fe->acceptor, NULL);
	pthread_mutex_lock(&fe->mu);
	for (c = fe->conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&fe->mu);
	while ((c = fe->conns) != NULL) {
		pthread_join(c->thread, NULL);
		fe->conns = c->next;
		close(c->fd);
		free(c);
	}
	for (i = 0; i < fe->nlog; i++)
		free(fe->log[i]);
	free(fe->log);
	close(fe->lfd);
	close(fe->stop[0]);
	close(fe->stop[1]);
	unlink(fe->path);
	rmdir(fe->dir);
	pthread_mutex_destroy(&fe->mu);
	free(fe);
}

const char *
fake_engine_path(const struct fake_engine *fe)
{
	return fe->path;
}

unsigned
fake_engine_nrequests(struct fake_engine *fe)
{
	unsigned n;

	pthread_mutex_lock(&fe->mu);
	n = fe->nlog;
	pthread_mutex_unlock(&fe->mu);
	return n;
}

char *
fake_engine_request(struct fake_engine *fe, unsigned seq)
{
	char *s = NULL;

	pthread_mutex_lock(&fe->mu);
	if (seq >= 1 && seq <= fe->nlog)
		s = xstrdup(fe->log[seq - 1]);
	pthread_mutex_unlock(&fe->mu);
	return s;
}

/* ---- replies ---------------------------------------------------------- */

void
fake_send(struct fake_conn *c, const void *p, size_t len)
{
	const char	*s = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = send(c->fd, s, len, MSG_NOSIGNAL)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;		/* the client went: nothing to tell */
		}
		s += n;
		len -= (size_t)n;
	}
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 500: return "Internal Server Error";
	default: return "Whatever";
	}
}

void
fake_head(struct fake_conn *c, int status, const char *headers)
{
	char *s;

	xasprintf(&s, "HTTP/1.1 %d %s\r\nServer: fake-engine\r\n%s\r\n",
	    status, reason(status), headers ? headers : "");
	fake_send(c, s, strlen(s));
	free(s);
}

void
fake_reply(struct fake_conn *c, int status, const char *extra,
    const char *body)
{
	char *h;

	if (body == NULL) {
		fake_head(c, status, extra);
		return;
	}
	xasprintf(&h, "Content-Type: %s\r\nContent-Length: %zu\r\n%s",
	    body[0] == '{' || body[0] == '[' ? "application/json" :
	    "text/plain; charset=utf-8", strlen(body), extra ? extra : "");
	fake_head(c, status, h);
	fake_send(c, body, strlen(body));
	free(h);
}

void
fake_chunk(struct fake_conn *c, const char *p, size_t len)
{
	char hdr[32];

	snprintf(hdr, sizeof hdr, "%zx\r\n", len);
	fake_send(c, hdr, strlen(hdr));
	fake_send(c, p, len);
	fake_send(c, "\r\n", 2);
}

void
fake_close_after(struct fake_conn *c)
{
	c->close_after = 1;
}

int
fake_sleep(struct fake_conn *c, unsigned ms)
{
	struct pollfd	p = { .fd = c->fe->stop[0], .events = POLLIN };
	uint64_t	end = now_ms() + ms, now;

	while ((now = now_ms()) < end) {
		if (poll(&p, 1, (int)(end - now)) > 0)
			return -1;
	}
	return 0;
}

ssize_t
fake_recv(struct fake_conn *c, void *buf, size_t len)
{
	struct pollfd	p[2];
	ssize_t		n;

	for (;;) {
		p[0].fd = c->fd;
		p[0].events = POLLIN;
		p[1].fd = c->fe->stop[0];
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			return -1;
		if ((n = recv(c->fd, buf, len, 0)) >= 0 || errno != EINTR)
			return n;
	}
}

void
fake_wait_hangup(struct fake_conn *c)
{
	struct pollfd	p[2];
	char		tmp[512];

	for (;;) {
		p[0].fd = c->fd;
		p[0].events = POLLIN;
		p[1].fd = c->fe->stop[0];
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[1].revents)
			return;
		if (p[0].revents && recv(c->fd, tmp, sizeof tmp, 0) <= 0)
			return;
	}
}
