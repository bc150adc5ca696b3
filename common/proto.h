/*
 * The control protocol between shipctl and shipd: one JSON object per line
 * over a unix stream socket.  Message names, error codes and the protocol
 * version live here and nowhere else.  docs/protocol.md is the reference.
 */
#ifndef SHIPD_PROTO_H
#define SHIPD_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Bump PROTO_VERSION when a change is incompatible: a peer speaking another
 * major version is refused with PROTO_E_VERSION. */
#define PROTO_VERSION		1
#define PROTO_MAX_LINE		(1024 * 1024)	/* bytes, newline excluded */
#define SHIPD_VERSION		"0.1.0"
#define SHIPD_DEFAULT_SOCKET	"/run/shipd/shipd.sock"
#define SHIPD_DEFAULT_STATE	"/var/lib/shipd"
#define SHIPD_DEFAULT_ENGINE	"/var/run/docker.sock"

/* Error codes: the "code" member of an error reply.  Stable; scripts match
 * on them. */
#define PROTO_E_BAD_REQUEST	"bad_request"	/* not JSON, not an object */
#define PROTO_E_TOO_LARGE	"too_large"	/* line over PROTO_MAX_LINE */
#define PROTO_E_VERSION		"version_mismatch"
#define PROTO_E_UNKNOWN_CMD	"unknown_command"
#define PROTO_E_BAD_ARGS	"bad_args"	/* missing or mistyped argument */
#define PROTO_E_DENIED		"permission_denied"
#define PROTO_E_ENGINE		"engine_error"	/* the engine failed a call */
#define PROTO_E_UNAVAILABLE	"engine_unavailable"
#define PROTO_E_NOT_FOUND	"not_found"
#define PROTO_E_BUSY		"busy"		/* stack lock held */
#define PROTO_E_INVALID_STACK	"invalid_stack"
#define PROTO_E_PREFLIGHT	"preflight_failed"
#define PROTO_E_FAILED		"failed"	/* the operation ran and failed */
#define PROTO_E_SHUTDOWN	"shutting_down"
#define PROTO_E_INTERNAL	"internal"
/* shipctl's own, in the same shape with --json: bad command line, shipd
 * not reached or the connection lost. */
#define PROTO_E_USAGE		"usage"
#define PROTO_E_NO_DAEMON	"no_daemon"

/* Command names: the "cmd" member of a request. */
#define PROTO_CMD_ATTACH	"attach"
#define PROTO_CMD_BACKUP	"backup"
#define PROTO_CMD_BACKUPS	"backups"
#define PROTO_CMD_BUILD		"build"
#define PROTO_CMD_CANCEL	"cancel"
#define PROTO_CMD_DEPLOY	"deploy"
#define PROTO_CMD_DOWN		"down"
#define PROTO_CMD_EVENTS	"events"
#define PROTO_CMD_EXEC		"exec"
#define PROTO_CMD_EXEC_RESIZE	"exec_resize"
#define PROTO_CMD_HISTORY	"history"
#define PROTO_CMD_LOGS		"logs"
#define PROTO_CMD_PING		"ping"
#define PROTO_CMD_PLAN		"plan"
#define PROTO_CMD_PULL		"pull"
#define PROTO_CMD_RESTART	"restart"
#define PROTO_CMD_RESTORE	"restore"
#define PROTO_CMD_ROLLBACK	"rollback"
#define PROTO_CMD_SCALE		"scale"
#define PROTO_CMD_START		"start"
#define PROTO_CMD_STATUS	"status"
#define PROTO_CMD_STOP		"stop"
#define PROTO_CMD_TOP		"top"
#define PROTO_CMD_VERIFY	"verify"
#define PROTO_CMD_VERSION	"version"

/* Event names: the "event" member of a streamed line. */
#define PROTO_EV_ARCHIVE	"archive"
#define PROTO_EV_ATTACHED	"attached"	/* attach: where the op is */
#define PROTO_EV_BACKUP		"backup"
#define PROTO_EV_BUILD		"build"		/* build: progress, state */
#define PROTO_EV_ENGINE		"engine"	/* events: one engine event */
#define PROTO_EV_EXEC		"exec"		/* exec: the process runs */
#define PROTO_EV_FOLLOW		"follow"	/* logs: a replica's log joins */
#define PROTO_EV_HEAL		"heal"		/* events: the supervisor acted */
#define PROTO_EV_AUTOSCALE	"autoscale"	/* events: the autoscaler acted */
#define PROTO_EV_HOOK		"hook"
#define PROTO_EV_LOG		"log"
#define PROTO_EV_PHASE		"phase"
#define PROTO_EV_PLAN		"plan"
#define PROTO_EV_PREFLIGHT	"preflight"
#define PROTO_EV_PULL		"pull"		/* pull: the engine's progress */
#define PROTO_EV_PRUNED		"pruned"
#define PROTO_EV_RESTORED	"restored"
#define PROTO_EV_RESYNC		"resync"
#define PROTO_EV_ROLLBACK	"rollback"
#define PROTO_EV_SAFETY		"safety"
#define PROTO_EV_SERVICE	"service"
#define PROTO_EV_STEP		"step"
#define PROTO_EV_SUBSCRIBED	"subscribed"
#define PROTO_EV_SUMMARY	"summary"
#define PROTO_EV_VERIFIED	"verified"
#define PROTO_EV_VERIFY		"verify"
#define PROTO_EV_WAITING	"waiting"

/* Labels on every engine object shipd creates: the source of truth for
 * what exists (shipctl reads them in status output too). */
#define LABEL_STACK		"io.shipd.stack"
#define LABEL_SERVICE		"io.shipd.service"
#define LABEL_REPLICA		"io.shipd.replica"
#define LABEL_REVISION		"io.shipd.revision"
#define LABEL_HASH		"io.shipd.spec-hash"

/*
 * Binary frames, for what JSON lines cannot carry (a build context, a
 * terminal's bytes).  Between lines, either end may send a frame: a 12-byte
 * header and its payload.  A frame belongs to a request by its integer id;
 * only a command that says it takes frames accepts them (docs/protocol.md,
 * "Binary frames").  A JSON line never holds a NUL byte (it is encoded
 * ASCII), so a NUL where a line would start is a frame's first byte.
 *
 *	offset	size	field
 *	0	1	PROTO_FRAME_MARK (0x00)
 *	1	1	PROTO_FRAME_VERSION (1)
 *	2	1	type: PROTO_FRAME_DATA, _END (no more on chan), _ABORT
 *	3	1	channel: PROTO_CHAN_IN (to the process or the engine),
 *			_OUT, _ERR (from it)
 *	4	4	stream: the request's id, big-endian, 1..2^32-1
 *	8	4	payload length, big-endian, at most PROTO_FRAME_MAX
 */
#define PROTO_FRAME_MARK	0x00
#define PROTO_FRAME_VERSION	1
#define PROTO_FRAME_HDR		12
#define PROTO_FRAME_MAX		(256 * 1024)

enum proto_frame_type {
	PROTO_FRAME_DATA = 1,
	PROTO_FRAME_END = 2,
	PROTO_FRAME_ABORT = 3,
};

enum proto_chan {
	PROTO_CHAN_IN = 0,
	PROTO_CHAN_OUT = 1,
	PROTO_CHAN_ERR = 2,
};

struct proto_frame {
	int		 type;		/* enum proto_frame_type */
	int		 chan;		/* enum proto_chan */
	uint32_t	 stream;
	const char	*data;		/* valid during the callback */
	size_t		 len;
};

/* Write a frame's header; -EINVAL for a type, channel, stream or length
 * out of range. */
int	proto_frame_header(char out[PROTO_FRAME_HDR], int type, int chan,
	    uint32_t stream, size_t len);

/*
 * Framing shared by both ends.  Bytes go in; whole lines and frames come
 * out through the callbacks.  A line longer than max is discarded up to
 * its newline and reported once through the line callback with line ==
 * NULL, so a peer cannot make the reader grow without bound.  A frame is
 * delivered whole, so the reader holds at most PROTO_FRAME_MAX of it.  A
 * malformed frame header cannot be skipped (the stream has lost its
 * boundaries): it is reported through the frame callback with frame ==
 * NULL, and the reader refuses everything after it.  Without a frame
 * callback, frames are not recognised: a NUL starts a (bad) line.
 */
typedef int proto_line_cb(const char *line, size_t len, void *arg);
typedef int proto_frame_cb(const struct proto_frame *, void *arg);

struct proto_reader {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	int		 skipping;	/* inside an oversized line */
	proto_frame_cb	*frame_cb;	/* NULL: lines only */
	int		 framing;	/* 0: lines; 1: header; 2: payload */
	int		 broken;	/* a bad frame header was seen */
	char		 hdr[PROTO_FRAME_HDR];
	size_t		 hdr_len;
	struct proto_frame frame;	/* the one being read */
};

void	proto_reader_init(struct proto_reader *, size_t max);
void	proto_reader_free(struct proto_reader *);
/* Recognise frames from now on, handing them to cb (with feed's arg). */
void	proto_reader_frames(struct proto_reader *, proto_frame_cb *);
/* Returns 0, or the first non-zero value a callback returned (which stops
 * the feed), or -EPROTO after a malformed frame header. */
int	proto_reader_feed(struct proto_reader *, const char *, size_t,
	    proto_line_cb *, void *);

/* Encoders: a compact JSON line with its trailing newline; caller frees. */
char	*proto_encode(const json_t *, size_t *len);
/* How many bytes of a line a value takes once encoded (no newline). */
size_t	 proto_encoded_len(const json_t *);
json_t	*proto_error(json_t *id, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
json_t	*proto_ok(json_t *id, json_t *result);		/* steals result */
json_t	*proto_event(json_t *id, const char *event, json_t *fields); /* steals */

#endif
