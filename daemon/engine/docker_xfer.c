/*
 * One engine request as a curl transfer: its options, the curl callbacks
 * that take its headers and bytes in (lines, raw data, a body read out),
 * and the one place where HTTP statuses and curl codes become -errno.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/docker.h"
#include "engine/docker_xfer.h"
#include "util.h"

#define BODY_MAX		(64u << 20)	/* a reply kept in memory */
#define STREAM_LINE_MAX		(4u << 20)	/* one line of a stream */
#define CONNECT_TIMEOUT_MS	10000L
#define BULK_BUFFER		(512L * 1024)	/* a transfer, DOCKER_F_BULK */

/* ---- the error space (docker.h has the table) --------------------------- */

const char *
docker_strerror(int err)
{
	switch (err) {
	case 0:			return "ok";
	case -ECONNREFUSED:	return "unavailable";
	case -ENOENT:		return "not_found";
	case -EEXIST:		return "conflict";
	case -EALREADY:		return "already";
	case -EINVAL:		return "bad_request";
	case -EIO:		return "server";
	case -EPROTO:		return "protocol";
	case -ETIMEDOUT:	return "timeout";
	case -ECANCELED:	return "canceled";
	case -EPROTONOSUPPORT:	return "version";
	}
	return "unknown";
}

void
xfer_fail(struct docker_req *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (r->err != 0)
		return;
	r->err = err;
	va_start(ap, fmt);
	if (vasprintf(&r->errmsg, fmt, ap) < 0)
		r->errmsg = NULL;
	va_end(ap);
}

/* What an HTTP status means, as -errno; 0 for success. */
static int
status_err(const struct docker_req *r)
{
	long s = r->status;

	if (s == 0 || (s >= 200 && s < 300))
		return 0;
	if (s == 304 && (r->flags & DOCKER_F_OK304))
		return 0;
	if (s == 304)
		return -EALREADY;
	if (s == 404)
		return -ENOENT;
	if (s == 409)
		return -EEXIST;
	if (s >= 400 && s < 500)
		return -EINVAL;
	if (s >= 500)
		return -EIO;
	return -EPROTO;		/* 1xx or 3xx as a final status */
}

static int
curl_err(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTO;
	default:
		/* Connect failed, reset, nothing back: the engine is away. */
		return -ECONNREFUSED;
	}
}

/* The engine's {"message": ...}, else the reply's text, else the status. */
static const char *
http_message(struct docker_req *r, char *msg, size_t n)
{
	json_t		*j;
	const char	*m;
	size_t		 len;

	j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0,
	    NULL);
	m = json_string_value(json_object_get(j, "message"));
	if (m != NULL) {
		snprintf(msg, n, "%s", m);
		json_decref(j);
		return msg;
	}
	json_decref(j);
	len = r->body.len;
	while (len > 0 && (r->body.data[len - 1] == '\n' ||
	    r->body.data[len - 1] == '\r' || r->body.data[len - 1] == ' '))
		len--;
	if (len > 0 && !r->json)
		snprintf(msg, n, "%.*s", (int)(len < n ? len : n - 1),
		    r->body.data);
	else
		snprintf(msg, n, "engine replied HTTP %ld", r->status);
	return msg;
}

static const char *
transport_message(struct docker_req *r, CURLcode cc, char *msg, size_t n)
{
	long oserr = 0;

	if (cc == CURLE_COULDNT_CONNECT && r->easy != NULL &&
	    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr) ==
	    CURLE_OK && oserr != 0) {
		snprintf(msg, n, "cannot connect to %s: %s", r->sock_path,
		    strerror((int)oserr));
		return msg;
	}
	snprintf(msg, n, "%s", r->errbuf[0] ? r->errbuf :
	    curl_easy_strerror(cc));
	return msg;
}

static void	line_deliver(struct docker_req *, const char *, size_t);

void
xfer_finish(struct docker_req *r, CURLcode cc)
{
	struct docker_result	 res;
	json_error_t		 je;
	char			 msg[512];
	int			 herr = status_err(r);

	/* A stream's last line may lack its newline. */
	if ((r->flags & DOCKER_F_STREAM) && cc == CURLE_OK && herr == 0 &&
	    r->line != NULL && r->part.len > 0) {
		line_deliver(r, r->part.data, r->part.len);
		if (r->canceled)
			return;
	}
	memset(&res, 0, sizeof res);
	res.status = r->status;
	res.message = "";
	if (r->expired) {
		/* A deadline passed: that is the outcome, whatever came. */
		res.err = r->err;
		res.message = r->errmsg ? r->errmsg : docker_strerror(r->err);
	} else if (herr != 0) {
		res.err = herr;
		res.message = http_message(r, msg, sizeof msg);
	} else if (r->err != 0) {
		res.err = r->err;
		res.message = r->errmsg ? r->errmsg : docker_strerror(r->err);
	} else if (cc != CURLE_OK) {
		res.err = curl_err(cc);
		res.message = transport_message(r, cc, msg, sizeof msg);
	} else if (!(r->flags & DOCKER_F_STREAM) && r->json &&
	    r->body.len > 0) {
		res.body = json_loadb(r->body.data, r->body.len, 0, &je);
		if (res.body == NULL) {
			res.err = -EPROTO;
			snprintf(msg, sizeof msg, "bad JSON in reply: %s",
			    je.text);
			res.message = msg;
		}
	}
	/* One error space: nobody downstream tests a positive code. */
	assert(res.err <= 0);
	r->done(&res, r->arg);
	json_decref(res.body);
}

/* ---- curl callbacks: no curl call and no freeing in here ---------------- */

static int
header_is(const char *p, size_t len, const char *name, const char **val,
    size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || p[n] != ':' || strncasecmp(p, name, n) != 0)
		return 0;
	p += n + 1;
	len -= n + 1;
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
	    p[len - 1] == ' '))
		len--;
	*val = p;
	*vlen = len;
	return 1;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct docker_req	*r = arg;
	size_t			 len = size * nmemb, vlen;
	const char		*val;
	long			 status = 0;

	if (r->canceled)
		return 0;
	r->last_io = uv_now(r->loop);
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new header block: an interim 1xx may come first. */
		r->in_head = 1;
		r->json = 0;
		free(r->api_version);
		r->api_version = NULL;
	} else if (!r->in_head) {
		/* trailers of a chunked body: nothing we use */
	} else if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
		r->in_head = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 || status == 0) {
			r->status = status;
			if (r->headers != NULL)
				r->headers(status, r->arg);
		}
	} else if (header_is(p, len, "Content-Type", &val, &vlen))
		r->json = memmem(val, vlen, "json", 4) != NULL;
	else if (header_is(p, len, "Api-Version", &val, &vlen)) {
		free(r->api_version);
		r->api_version = xstrndup(val, vlen);
	}
	return r->canceled ? 0 : len;
}

static void
scan_error(struct docker_req *r, const char *p, size_t n)
{
	json_t		*j;
	const char	*m;

	if ((j = json_loadb(p, n, 0, NULL)) == NULL)
		return;
	m = json_string_value(json_object_get(json_object_get(j,
	    "errorDetail"), "message"));
	if (m == NULL)
		m = json_string_value(json_object_get(j, "error"));
	if (m != NULL)
		xfer_fail(r, -EIO, "%s", m);
	json_decref(j);
}

static void
line_deliver(struct docker_req *r, const char *p, size_t n)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	if (!(r->flags & DOCKER_F_NOSCAN) && r->err == 0 &&
	    memmem(p, n, "\"error", 6) != NULL)
		scan_error(r, p, n);
	r->line(p, n, r->arg);
}

static int
stream_lines(struct docker_req *r, const char *p, size_t len)
{
	const char	*nl;
	size_t		 off = 0;

	buf_append(&r->part, p, len);
	while (!r->canceled && (nl = memchr(r->part.data + off, '\n',
	    r->part.len - off)) != NULL) {
		line_deliver(r, r->part.data + off,
		    (size_t)(nl - (r->part.data + off)));
		off = (size_t)(nl - r->part.data) + 1;
	}
	if (r->canceled)
		return -1;
	buf_consume(&r->part, off);
	if (r->part.len > STREAM_LINE_MAX) {
		xfer_fail(r, -EPROTO, "reply line longer than "
		    "%u bytes", STREAM_LINE_MAX);
		return -1;
	}
	return 0;
}

static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct docker_req	*r = arg;
	size_t			 len = size * nmemb;

	if (r->canceled)
		return 0;
	r->last_io = uv_now(r->loop);
	if (!(r->flags & DOCKER_F_STREAM) || status_err(r) != 0) {
		if (r->body.len + len > BODY_MAX) {
			xfer_fail(r, -EPROTO, "reply larger than "
			    "%u bytes", BODY_MAX);
			return 0;
		}
		buf_append(&r->body, p, len);
		return len;
	}
	if (r->pause_want) {
		/* curl keeps this chunk and delivers it again on resume. */
		r->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (r->data != NULL) {
		r->data(p, len, r->arg);
		if (r->canceled)
			return 0;
	}
	if (r->line != NULL && stream_lines(r, p, len) < 0)
		return 0;
	return len;
}

static size_t
on_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct docker_req	*r = arg;
	size_t			 n;

	if (r->canceled)
		return CURL_READFUNC_ABORT;
	if (r->pause_want || (n = r->read(p, size * nmemb, r->arg)) ==
	    DOCKER_READ_PAUSE) {
		r->paused = 1;
		return CURL_READFUNC_PAUSE;
	}
	r->last_io = uv_now(r->loop);
	return r->canceled ? CURL_READFUNC_ABORT : n;
}

/* ---- options ----------------------------------------------------------- */

void
xfer_setup(struct docker_req *r, const char *method)
{
	CURL *e = r->easy;

	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, r->sock_path);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "shipd");
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	if (r->flags & DOCKER_F_BULK) {
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, BULK_BUFFER);
		curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, BULK_BUFFER);
	}
	/* The request's deadlines are docker.c's timer, not curl's: they can
	 * change after the submit and a stream's idle one knows pauses. */
	/* Without this, curl waits up to a second for "100 Continue"
	 * before sending a larger body. */
	r->hdrs = curl_slist_append(NULL, "Expect:");
	if (r->read != NULL) {
		char *ct;

		xasprintf(&ct, "Content-Type: %s", r->content_type ?
		    r->content_type : "application/octet-stream");
		r->hdrs = curl_slist_append(r->hdrs, ct);
		free(ct);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		/* Of unknown length (a build context): chunked. */
		if (r->read_size == DOCKER_READ_CHUNKED)
			r->hdrs = curl_slist_append(r->hdrs,
			    "Transfer-Encoding: chunked");
		else
			curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)r->read_size);
	} else if (r->payload != NULL) {
		r->hdrs = curl_slist_append(r->hdrs,
		    "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->payload);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(r->payload));
	} else if (strcmp(method, "GET") != 0 &&
	    strcmp(method, "DELETE") != 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	}
	/* An upload is a PUT to curl unless told. */
	if ((strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) ||
	    (r->read != NULL && strcmp(method, "POST") == 0))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
}

