/*
 * Asynchronous Docker Engine API client: HTTP/1.1 over the engine's unix
 * socket through one libcurl multi handle driven by the caller's libuv loop.
 * Requests run concurrently; every result arrives through a callback.
 */
#ifndef SHIPD_DOCKER_H
#define SHIPD_DOCKER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#define DOCKER_API_MAX	"1.45"	/* newest API version we speak */
#define DOCKER_API_MIN	"1.41"	/* oldest engine API we accept */

struct docker;
struct docker_req;

/*
 * The callback contract of the whole engine layer (docker_*, the event
 * stream, exec_run, gate_start, probe_*, watch_*; checked by assertions
 * where a callback could otherwise slip through):
 *  - A callback is never invoked from inside the call that started the
 *    work.  It comes later, from the loop; a failure found at once is
 *    reported on the loop's next turn.
 *  - An object is never freed from inside its own callback while its
 *    caller may still touch it: it goes only after the callback has
 *    returned (after the dispatch, or in a uv handle's close callback),
 *    so cancelling it from inside its own callback is harmless.  Once the
 *    callback has returned the object is gone: drop the pointer there.
 *  - Once the client has closed (docker_close), no engine callback runs;
 *    what is still pending is only freed, by its owner.
 */

/*
 * One error space: every result is 0 or a negative errno, translated once
 * where a transfer ends (docker_xfer.c), never compared against a positive
 * code.  res->message keeps the engine's own words ("No such container:
 * web-1") or the transport's ("cannot connect to /run/docker.sock: ...").
 *
 *	HTTP 404			-ENOENT		no such object
 *	HTTP 409			-EEXIST		conflict: name in use,
 *							container not running
 *	HTTP 304 (not taken as ok)	-EALREADY	already in that state
 *	HTTP 400, other 4xx		-EINVAL
 *	HTTP 5xx, "error" line in a	-EIO
 *	  200 stream
 *	bad JSON, truncated or		-EPROTO
 *	  oversized reply, 1xx/3xx
 *	connect failed, connection	-ECONNREFUSED	engine unreachable
 *	  dropped
 *	a deadline passed (below)	-ETIMEDOUT
 *	client closing			-ECANCELED
 *	engine API < DOCKER_API_MIN	-EPROTONOSUPPORT (docker_negotiate)
 *
 * The DOCKER_E_ names are aliases of those values, so that callers read
 * as before; new code may use either.
 */
#define DOCKER_OK		0
#define DOCKER_E_UNAVAILABLE	(-ECONNREFUSED)
#define DOCKER_E_NOT_FOUND	(-ENOENT)
#define DOCKER_E_CONFLICT	(-EEXIST)
#define DOCKER_E_ALREADY	(-EALREADY)
#define DOCKER_E_BAD_REQUEST	(-EINVAL)
#define DOCKER_E_SERVER		(-EIO)
#define DOCKER_E_PROTOCOL	(-EPROTO)
#define DOCKER_E_TIMEOUT	(-ETIMEDOUT)
#define DOCKER_E_CANCELED	(-ECANCELED)
#define DOCKER_E_VERSION	(-EPROTONOSUPPORT)

/* Short name of an engine error: "ok", "not_found", ...; "unknown" for a
 * code the engine client does not produce. */
const char	*docker_strerror(int err);

struct docker_result {
	int		 err;
	long		 status;	/* HTTP status, 0 if none arrived */
	const char	*message;	/* engine's "message" or transport error;
					   "" when ok */
	json_t		*body;		/* parsed JSON reply, borrowed for the
					   callback's duration; NULL if none */
};

typedef void docker_cb(const struct docker_result *, void *arg);
/* One line of a streamed reply, without the newline. */
typedef void docker_line_cb(const char *line, size_t len, void *arg);
/* Raw bytes of a streamed reply. */
typedef void docker_data_cb(const char *data, size_t len, void *arg);
/* A request body supplied piece by piece: copy at most n bytes into buf
 * and return how many, 0 at the end, or DOCKER_READ_PAUSE when none are
 * ready yet (then docker_stream_pause(req, 0) once some are). */
#define DOCKER_READ_PAUSE	((size_t)-1)
typedef size_t docker_read_cb(char *buf, size_t n, void *arg);
#define DOCKER_READ_CHUNKED	UINT64_MAX

/* 0 or -errno. */
int	 docker_new(uv_loop_t *, const char *sock_path, struct docker **out);
/*
 * Cancels every request and event stream (their callbacks are not called),
 * closes all uv handles, calls closed() once the last one is closed, then
 * frees.  Request and event-stream pointers stay valid for docker_cancel()
 * and docker_events_stop() until closed() returns.  Safe from any callback.
 */
void	 docker_close(struct docker *, void (*closed)(void *), void *arg);
/*
 * Deadlines: no engine call waits forever (docs/architecture.md, "engine
 * contract").  A call past its deadline is cancelled and called back once,
 * from the loop, with -ETIMEDOUT and a message naming it: "engine did not
 * answer POST /containers/x/stop within 40.0s", or for a stream gone
 * silent "engine sent nothing on GET /images/create for 2m00s".
 *  - An ordinary call: the whole reply within the client's timeout
 *    (DOCKER_TIMEOUT_MS, docker_set_timeout()).
 *  - docker_container_stop(): its t seconds plus that timeout.
 *  - Container and volume removal (files to delete): DOCKER_SLOW_FACTOR
 *    times that timeout.
 *  - A stream: its response headers within the timeout; after them only
 *    its idle deadline, if it has one (a pull, an archive: no byte for
 *    DOCKER_IDLE_MS).  Where silence is normal (logs -f, exec output,
 *    events) there is none: the event stream checks the engine with a
 *    /_ping every DOCKER_EVENTS_PING_MS instead, exec_run() has its own
 *    deadline, a log follow lasts as long as its client.
 *  - docker_container_wait() has none: it waits for an exit.
 * Time a stream spends paused by us (docker_stream_pause, a read()
 * returning DOCKER_READ_PAUSE) does not count as idle.  Callers change a
 * call's deadlines after submitting it with docker_req_set_timeout() and
 * docker_req_set_idle(), or in docker_opts.
 *
 * Testing: SHIPD_TEST_ENGINE_DEADLINE_DIV=N divides every deadline of
 * clients created after it is set (and the event stream's ping interval)
 * by N, so that a test sees a stalled engine fail in a second.
 */
#define DOCKER_TIMEOUT_MS	30000
#define DOCKER_SLOW_FACTOR	4
#define DOCKER_IDLE_MS		120000
#define DOCKER_EVENTS_PING_MS	30000
void	 docker_set_timeout(struct docker *, uint64_t ms);

/*
 * GET /_ping and settle on min(engine's Api-Version, DOCKER_API_MAX).
 * An engine older than DOCKER_API_MIN gives DOCKER_E_VERSION with a
 * message naming both versions.  Until it succeeds, requests use
 * DOCKER_API_MIN.
 */
void		 docker_negotiate(struct docker *, docker_cb *, void *arg);
/* The negotiated version, e.g. "1.41", or NULL before. */
const char	*docker_api_version(const struct docker *);
/* Whether the negotiated version is v ("1.44") or newer; false before. */
bool		 docker_api_since(const struct docker *, const char *v);
/* The oldest API whose container create takes more than one network. */
#define DOCKER_API_MULTI_NET	"1.44"

/*
 * path is like "/containers/json?all=1", without the version prefix (it
 * is added).  body is NULL or borrowed (serialised at once).  The callback
 * is always called later from the loop, never from inside this call.
 * Returns NULL only once docker_close() has been called.
 */
struct docker_req *docker_request(struct docker *, const char *method,
	    const char *path, json_t *body, docker_cb *, void *arg);
/*
 * A long reply delivered as it arrives: line() per line, data() per chunk
 * of raw bytes (either may be NULL).  done() is called once at the end,
 * with err set if the transfer failed, the status was not 2xx, or a line
 * was a JSON object with an "error" (progress streams report failures so).
 */
struct docker_req *docker_stream(struct docker *, const char *method,
	    const char *path, json_t *body, docker_line_cb *line,
	    docker_data_cb *data, docker_cb *done, void *arg);
/* The callback will not be called.  NULL is ignored.  Safe from inside
 * any callback, including this or another request's. */
void	 docker_cancel(struct docker_req *);
/*
 * A request's deadlines, counted from its submit (timeout) or from its
 * last byte (idle); 0 removes one.  The test hook's divisor applies.  NULL
 * and a request already finishing are ignored.  Safe from any callback.
 */
void	 docker_req_set_timeout(struct docker_req *, uint64_t ms);
void	 docker_req_set_idle(struct docker_req *, uint64_t ms);
/*
 * Backpressure for a stream's data() or a body's read(): pause 1 makes the
 * transfer refuse the next chunk (it is delivered again on resume); pause 0
 * resumes it.  Safe from inside any callback.  A paused transfer keeps its
 * connection and, its idle deadline stopped, may stay paused for as long as
 * needed (a whole-reply timeout still runs).
 */
void	 docker_stream_pause(struct docker_req *, int pause);

/*
 * The general form behind docker_request() and docker_stream(), for the
 * wrappers and for callers that need one of the flags.
 */
#define DOCKER_F_OK304		0x01	/* 304 "already in that state" is ok */
#define DOCKER_F_NOVERSION	0x02	/* no /v1.xx prefix on the path */
#define DOCKER_F_STREAM		0x04	/* deliver via line/data; the timeout
					   covers the headers only */
#define DOCKER_F_NOSCAN		0x08	/* do not look for "error" lines */
#define DOCKER_F_NOTIMEOUT	0x10	/* no timeout (idle_ms may apply) */
#define DOCKER_F_BULK		0x20	/* gigabytes: bigger transfer buffers */
struct docker_opts {
	const char	*method;
	const char	*path;
	json_t		*body;
	unsigned	 flags;
	uint64_t	 timeout_ms;	/* 0: the client's default */
	uint64_t	 idle_ms;	/* 0: none */
	docker_line_cb	*line;
	docker_data_cb	*data;
	/* Once the response headers are in, with the final status. */
	void		(*headers)(long status, void *arg);
	docker_cb	*done;
	void		*arg;
	/* A body of read_size bytes from read() instead of JSON, sent with
	 * content_type: an archive upload.  DOCKER_READ_CHUNKED: of unknown
	 * size, sent chunked (a build context). */
	docker_read_cb	*read;
	uint64_t	 read_size;
	const char	*content_type;
	/* Called once when the request goes, after done() or instead of it
	 * when canceled: for wrappers that allocate their own arg. */
	void		(*free_arg)(void *arg);
};
struct docker_req *docker_submit(struct docker *, const struct docker_opts *);

/* ---- wrappers: each calls back with docker_cb, body passed through ---- */

struct docker_req *docker_ping(struct docker *, docker_cb *, void *);
struct docker_req *docker_version(struct docker *, docker_cb *, void *);
struct docker_req *docker_info(struct docker *, docker_cb *, void *);

/* label: "io.shipd.stack=demo", "io.shipd.stack" or NULL. */
struct docker_req *docker_containers_list(struct docker *, const char *label,
	    int all, docker_cb *, void *);
/* name may be NULL; spec is borrowed. */
struct docker_req *docker_container_create(struct docker *, const char *name,
	    json_t *spec, docker_cb *, void *);
struct docker_req *docker_container_start(struct docker *, const char *id,
	    docker_cb *, void *);
/* timeout_s < 0: the container's own stop timeout; the deadline then
 * assumes the engine's default, DOCKER_STOP_DEFAULT_S. */
#define DOCKER_STOP_DEFAULT_S	10
struct docker_req *docker_container_stop(struct docker *, const char *id,
	    int timeout_s, docker_cb *, void *);
/* signal NULL: the engine's default (SIGKILL). */
struct docker_req *docker_container_kill(struct docker *, const char *id,
	    const char *signal, docker_cb *, void *);
struct docker_req *docker_container_remove(struct docker *, const char *id,
	    int force, int volumes, docker_cb *, void *);
struct docker_req *docker_container_inspect(struct docker *, const char *id,
	    docker_cb *, void *);
struct docker_req *docker_container_rename(struct docker *, const char *id,
	    const char *newname, docker_cb *, void *);
/* Blocks (asynchronously) until the container stops; body has StatusCode. */
struct docker_req *docker_container_wait(struct docker *, const char *id,
	    docker_cb *, void *);
/* Until a container being removed is gone (a removal's deadline). */
struct docker_req *docker_container_wait_removed(struct docker *,
	    const char *id, docker_cb *, void *);

struct docker_req *docker_image_inspect(struct docker *, const char *ref,
	    docker_cb *, void *);
/* ref "name:tag" or "name" (tag latest).  progress gets each JSON line;
 * an "error" line makes done report DOCKER_E_SERVER with its message.
 * Idle deadline DOCKER_IDLE_MS. */
struct docker_req *docker_image_pull(struct docker *, const char *ref,
	    docker_line_cb *progress, docker_cb *done, void *);

struct docker_req *docker_network_create(struct docker *, json_t *spec,
	    docker_cb *, void *);
struct docker_req *docker_networks_list(struct docker *, const char *label,
	    docker_cb *, void *);
struct docker_req *docker_network_remove(struct docker *, const char *id,
	    docker_cb *, void *);

struct docker_req *docker_volume_create(struct docker *, json_t *spec,
	    docker_cb *, void *);
struct docker_req *docker_volumes_list(struct docker *, const char *label,
	    docker_cb *, void *);
struct docker_req *docker_volume_remove(struct docker *, const char *name,
	    int force, docker_cb *, void *);

struct docker_req *docker_exec_create(struct docker *, const char *id,
	    json_t *spec, docker_cb *, void *);
/* Runs a non-TTY exec attached.  output gets the demultiplexed stdout and
 * stderr payload bytes, in arrival order; done is called at the end. */
struct docker_req *docker_exec_start(struct docker *, const char *exec_id,
	    docker_data_cb *output, docker_cb *done, void *);
/* body has ExitCode and Running. */
struct docker_req *docker_exec_inspect(struct docker *, const char *exec_id,
	    docker_cb *, void *);

/* ---- archives: a container's files as a tar stream ---- */

/* GET /containers/{id}/archive?path=: a tar of path (its entries start
 * with path's last component), streamed through data(); idle deadline
 * DOCKER_IDLE_MS. */
struct docker_req *docker_archive_get(struct docker *, const char *id,
	    const char *path, docker_data_cb *data, docker_cb *done, void *);
/* PUT /containers/{id}/archive?path=dir: extract a tar of size bytes,
 * read through read(), into dir, which must exist; no timeout, idle
 * deadline DOCKER_IDLE_MS. */
struct docker_req *docker_archive_put(struct docker *, const char *id,
	    const char *dir, uint64_t size, docker_read_cb *read,
	    docker_cb *done, void *);

/* ---- image builds ---- */

/* POST /build with query from q, an object of strings (t, dockerfile,
 * target) and JSON values (buildargs, labels: objects; cachefrom: an
 * array), each sent as the engine wants it: the context, a tar of unknown size, comes through read(); the
 * engine's JSON progress lines through progress(); an "error" line makes
 * done report DOCKER_E_SERVER with its message.  No timeout, idle
 * deadline DOCKER_IDLE_MS (time paused by us does not count). */
struct docker_req *docker_image_build(struct docker *, const json_t *q,
	    docker_read_cb *read, docker_line_cb *progress, docker_cb *done,
	    void *);

/* ---- stdout/stderr frame stream (logs, attach, exec without a TTY) ---- */

/* stream: 0 stdin, 1 stdout, 2 stderr.  A frame may come in pieces. */
typedef void docker_demux_cb(int stream, const char *data, size_t len,
	    void *arg);
struct docker_demux {
	docker_demux_cb	*cb;
	void		*arg;
	unsigned char	 hdr[8];
	size_t		 hlen;		/* header bytes collected */
	uint32_t	 left;		/* payload bytes left in this frame */
	int		 stream;
	int		 raw;		/* no framing after all: pass through */
};
void	 docker_demux_init(struct docker_demux *, docker_demux_cb *, void *);
void	 docker_demux_feed(struct docker_demux *, const char *, size_t);
void	 docker_demux_free(struct docker_demux *);

/* ---- event stream ---- */

struct docker_events;
/* One decoded event object, borrowed for the callback's duration. */
typedef void docker_event_cb(json_t *event, void *arg);
/* 1 on (re)connect, 0 on loss; the owner re-inspects after a reconnect. */
typedef void docker_events_state_cb(int connected, void *arg);

/*
 * GET /events filtered by label ("io.shipd.stack", "io.shipd.stack=demo"
 * or NULL), reconnecting with backoff for as long as it runs and resuming
 * after the last event seen.  0 or -errno.
 */
int	 docker_events_start(struct docker *, const char *label_filter,
	    docker_event_cb *, docker_events_state_cb *, void *arg,
	    struct docker_events **out);
/* No callback follows.  Safe from inside its own callbacks. */
void	 docker_events_stop(struct docker_events *);

#endif
