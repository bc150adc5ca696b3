/*
 * The metrics listener (metrics_http.h).  libmicrohttpd in its external
 * event loop mode with epoll: one descriptor stands for the listening
 * socket and every connection, readable whenever MHD has work, and
 * MHD_get_timeout() says when it next needs to run (connection timeouts).
 * After each MHD_run() the timer is armed again from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/metrics.h"
#include "core/metrics_http.h"
#include "log.h"
#include "util.h"

#define CONN_LIMIT	16
#define CONN_TIMEOUT_S	10

struct metrics_http {
	struct MHD_Daemon	*mhd;
	uv_poll_t		 poll;
	uv_timer_t		 timer;
	int			 open;		/* handles not yet closed */
	int			 port;
};

static void	mh_run(struct metrics_http *);

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	const char		*msg;
	unsigned		 status;
	char			*text;
	size_t			 len;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		msg = "only GET\n";
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		msg = "shipd serves /metrics\n";
		status = MHD_HTTP_NOT_FOUND;
	} else {
		text = metrics_render(&len);
		resp = MHD_create_response_from_buffer(len, text,
		    MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "text/plain; version=0.0.4; charset=utf-8");
		ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	resp = MHD_create_response_from_buffer(strlen(msg), (void *)msg,
	    MHD_RESPMEM_PERSISTENT);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
on_timer(uv_timer_t *t)
{
	mh_run(t->data);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	mh_run(p->data);
}

static void
mh_run(struct metrics_http *mh)
{
	MHD_UNSIGNED_LONG_LONG	ms;

	MHD_run(mh->mhd);
	if (MHD_get_timeout(mh->mhd, &ms) == MHD_YES)
		uv_timer_start(&mh->timer, on_timer, (uint64_t)ms, 0);
	else
		uv_timer_stop(&mh->timer);
}

int
metrics_addr_parse(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*in = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)ss;
	const char		*colon, *port_s;
	char			 host[64], *end;
	size_t			 hlen;
	long			 port;

	memset(ss, 0, sizeof *ss);
	if (addr[0] == '[') {
		if ((colon = strstr(addr, "]:")) == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - addr - 1);
		port_s = colon + 2;
		addr++;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - addr);
		port_s = colon + 1;
	}
	if (hlen >= sizeof host)
		return -EINVAL;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (*port_s == '\0' || *end != '\0' || errno != 0 || port < 0 ||
	    port > 65535)
		return -EINVAL;
	if (hlen == 0)
		snprintf(host, sizeof host, "0.0.0.0");
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -EINVAL;
}

static void
on_closed(uv_handle_t *h)
{
	struct metrics_http *mh = h->data;

	if (--mh->open > 0)
		return;
	/* Closes every connection and the descriptor the poll watched,
	 * now that the poll is closed. */
	MHD_stop_daemon(mh->mhd);
	free(mh);
}

int
metrics_http_start(uv_loop_t *loop, const char *addr,
    struct metrics_http **out)
{
	struct sockaddr_storage	 ss;
	struct metrics_http	*mh;
	const union MHD_DaemonInfo *info;
	unsigned		 flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int			 rc, fd;

	*out = NULL;
	if ((rc = metrics_addr_parse(addr, &ss)) < 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	mh = xcalloc(1, sizeof *mh);
	/* Port 0 here, the real one in the sockaddr: MHD binds that. */
	errno = 0;
	mh->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, mh,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1U,
	    MHD_OPTION_END);
	if (mh->mhd == NULL) {
		rc = errno != 0 ? -errno : -EADDRNOTAVAIL;
		free(mh);
		return rc;
	}
	info = MHD_get_daemon_info(mh->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	fd = info != NULL ? info->epoll_fd : -1;
	if (fd < 0 || uv_poll_init(loop, &mh->poll, fd) != 0) {
		MHD_stop_daemon(mh->mhd);
		free(mh);
		return -EIO;
	}
	info = MHD_get_daemon_info(mh->mhd, MHD_DAEMON_INFO_BIND_PORT);
	mh->port = info != NULL ? info->port : 0;
	uv_timer_init(loop, &mh->timer);
	mh->poll.data = mh->timer.data = mh;
	mh->open = 2;
	uv_poll_start(&mh->poll, UV_READABLE, on_poll);
	mh_run(mh);
	*out = mh;
	return 0;
}

int
metrics_http_port(const struct metrics_http *mh)
{
	return mh->port;
}

void
metrics_http_stop(struct metrics_http *mh)
{
	if (mh == NULL)
		return;
	uv_poll_stop(&mh->poll);
	uv_timer_stop(&mh->timer);
	uv_close((uv_handle_t *)&mh->poll, on_closed);
	uv_close((uv_handle_t *)&mh->timer, on_closed);
}
