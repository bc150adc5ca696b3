/*
 * shipctl exec SERVICE -- CMD...: a command in a running replica through
 * shipd, its stdin, stdout and stderr as frames of the request; -t puts
 * the terminal in raw mode and keeps the process's terminal at its size.
 * One poll() loop over stdin, the socket and a self-pipe for signals;
 * nothing blocks on the socket's way out, so output keeps being read
 * while stdin waits for shipd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "proto.h"
#include "util.h"

/* shipctl's or shipd's own failure, told apart from the command's exit
 * codes as docker exec does. */
#define EXIT_EXEC_OWN	125
#define IN_CHUNK	(64 * 1024)
#define OUT_MAX		(256 * 1024)	/* stdin queued for shipd */

static int	cmd_exec_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_exec = {
	.name = "exec",
	.usage = "[--stack NAME] SERVICE [-r N] [-i] [-t] -- CMD [ARG...]",
	.summary = "run a command in a running replica, interactively too",
	.help =
	    "  Runs CMD in replica 1 of SERVICE (the engine's exec) through\n"
	    "  shipd.  Its stdout and stderr come back apart, and shipctl\n"
	    "  exits with its exit code.  Put -- before CMD when CMD has\n"
	    "  options of its own.\n"
	    "  -r N   replica N instead of 1\n"
	    "  -i     forward stdin to the command (else it gets none)\n"
	    "  -t     give the command a terminal, of the window's size and\n"
	    "         following it; all its output comes as stdout\n"
	    "  -it    an interactive shell (exec web -it -- sh): stdin must\n"
	    "         be a terminal, put in raw mode (restored at the end and\n"
	    "         on a signal), so Ctrl-C goes to the command as a byte\n"
	    "  Exit 125 when shipctl or shipd fails (shipd unreachable,\n"
	    "  permission denied, no running replica, an engine error, a\n"
	    "  bad command line), with the reason on stderr (the error\n"
	    "  object on stdout with --json); otherwise the command's code.\n"
	    "  The command is audited (changes state: not on the read-only\n"
	    "  socket).  If shipctl goes first, the command's stdin is\n"
	    "  closed; the engine does not stop the command.\n",
	.shortopts = "r:it",
	.flags = CLI_STACK | CLI_STACK_NEED,
	.exec = cmd_exec_exec,
};

struct xrun {
	struct cli	*cli;
	struct client	 cl;
	char		*exec_id;
	bool		 tty;
	int		 rc;		/* of a write to stdout/stderr */
};

static struct termios	saved_tio;
static volatile sig_atomic_t raw_on;
static int		sigpipe_w = -1;

static void
tty_restore(void)
{
	if (raw_on) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		raw_on = 0;
	}
}

/* A signal that ends shipctl: the terminal back first, then the default. */
static void
on_fatal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
on_winch(int sig)
{
	int	e = errno;
	char	c = 'w';

	(void)sig;
	if (sigpipe_w >= 0)
		(void)!write(sigpipe_w, &c, 1);
	errno = e;
}

static int
tty_raw(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
		return -errno;
	t = saved_tio;
	cfmakeraw(&t);
	raw_on = 1;
	atexit(tty_restore);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0) {
		raw_on = 0;
		return -errno;
	}
	return 0;
}

static void
win_size(int *h, int *w)
{
	struct winsize ws;

	*h = *w = 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ||
	    ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
		*h = ws.ws_row;
		*w = ws.ws_col;
	}
}

static int
out_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

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
on_frame(const struct proto_frame *f, void *arg)
{
	struct xrun *x = arg;

	if (f->type != PROTO_FRAME_DATA || f->len == 0)
		return 0;
	/* Output nobody reads (a closed pipe) need not stop the command. */
	if (out_all(f->chan == PROTO_CHAN_ERR ? STDERR_FILENO :
	    STDOUT_FILENO, f->data, f->len) != 0)
		x->rc = -EPIPE;
	return 0;
}

static int
on_event(json_t *ev, void *arg)
{
	struct xrun	*x = arg;
	const char	*id = json_string_value(json_object_get(ev, "exec"));

	if (strcmp(cli_str(ev, "event"), PROTO_EV_EXEC) == 0 && id != NULL) {
		free(x->exec_id);
		x->exec_id = xstrdup(id);
	}
	return 0;
}

/* A new window size, on a connection of its own: the exec's is busy
 * with frames and one request at a time. */
static void
resize(struct xrun *x)
{
	struct client	 cl;
	json_t		*res;
	char		*err = NULL;
	int		 h, w;

	win_size(&h, &w);
	if (x->exec_id == NULL || h <= 0 || w <= 0)
		return;
	if (client_connect(&cl, x->cli->socket, &err) != 0) {
		free(err);
		return;
	}
	if (client_call(&cl, PROTO_CMD_EXEC_RESIZE, json_pack("{s:s, s:i, "
	    "s:i}", "exec", x->exec_id, "h", h, "w", w), NULL, NULL, &res) >= 0)
		json_decref(res);
	client_close(&cl);
}

static void
queue_frame(struct buf *out, uint32_t stream, int type, const char *p,
    size_t n)
{
	char hdr[PROTO_FRAME_HDR];

	if (proto_frame_header(hdr, type, PROTO_CHAN_IN, stream, n) != 0)
		return;
	buf_append(out, hdr, sizeof hdr);
	if (n > 0)
		buf_append(out, p, n);
}

static int
own_error(struct xrun *x, json_t *err)
{
	tty_restore();
	if (x->cli->json)
		cli_print_json(err);
	else
		cli_err("%s", cli_str(err, "message"));
	return EXIT_EXEC_OWN;
}

/*
 * The loop: output from the socket as it comes; stdin read only while
 * little of it waits for the socket, and sent without blocking.
 */
static int
run(struct xrun *x, bool in, int sigfd)
{
	struct pollfd	 pf[3];
	struct buf	 out;
	json_t		*res = NULL;
	uint32_t	 stream = (uint32_t)x->cl.call.id;
	char		 chunk[IN_CHUNK], c;
	bool		 in_open = in;
	ssize_t		 n;
	int		 rc = CLIENT_MORE, code;

	buf_init(&out);
	while (rc == CLIENT_MORE) {
		pf[0].fd = x->cl.fd;
		pf[0].events = POLLIN | (out.len > 0 ? POLLOUT : 0);
		pf[1].fd = in_open && out.len < OUT_MAX ? STDIN_FILENO : -1;
		pf[1].events = POLLIN;
		pf[2].fd = sigfd;
		pf[2].events = POLLIN;
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (pf[2].revents & POLLIN) {
			while (read(sigfd, &c, 1) == 1)
				;
			if (x->tty)
				resize(x);
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, chunk, sizeof chunk);
			if (n > 0)
				queue_frame(&out, stream, PROTO_FRAME_DATA,
				    chunk, (size_t)n);
			else if (n == 0 || errno != EINTR) {
				in_open = false;
				queue_frame(&out, stream, PROTO_FRAME_END,
				    NULL, 0);
			}
		}
		if (pf[0].revents & POLLOUT && out.len > 0) {
			n = send(x->cl.fd, out.data, out.len, MSG_DONTWAIT |
			    MSG_NOSIGNAL);
			if (n > 0)
				buf_consume(&out, (size_t)n);
			else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* shipd is gone, or has done with stdin:
				 * its reply says which. */
				buf_reset(&out);
				in_open = false;
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR))
			rc = client_pump(&x->cl, &res);
	}
	buf_free(&out);
	tty_restore();
	if (rc < 0) {
		cli_err("connection to shipd at %s lost: %s", x->cli->socket,
		    strerror(-rc));
		return EXIT_EXEC_OWN;
	}
	if (rc == 1) {
		code = own_error(x, res);
		json_decref(res);
		return code;
	}
	code = (int)cli_int(res, "exit_code");
	json_decref(res);
	return code;
}

static int
parse(struct cli_ctx *c, json_int_t *replica)
{
	const char	*r = cli_opt_get(c, 'r');
	char		*end;
	long		 n;

	*replica = 1;
	if (c->argc < 2)
		return cli_usage_error(c, "name a SERVICE and a CMD to run");
	if (r != NULL) {
		errno = 0;
		n = strtol(r, &end, 10);
		if (errno != 0 || *end != '\0' || end == r || n < 1 ||
		    n > 100000)
			return cli_usage_error(c, "-r %s: a replica number, "
			    "1 or more", r);
		*replica = n;
	}
	/* As docker's: a terminal's input must come from one. */
	if (cli_opt_has(c, 't') && cli_opt_has(c, 'i') &&
	    !isatty(STDIN_FILENO)) {
		cli_err("exec -it: the input device is not a TTY (drop -t, "
		    "or run it from a terminal)");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
setup_signals(int fds[2])
{
	struct sigaction sa;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
		return -errno;
	sigpipe_w = fds[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_winch;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = on_fatal;
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static int
cmd_exec_exec(struct cli_ctx *c)
{
	struct xrun	 x;
	json_t		*argv, *args;
	json_int_t	 replica;
	char		*err = NULL;
	int		 i, rc, h = 0, w = 0, fds[2] = { -1, -1 };
	bool		 in;

	if ((rc = parse(c, &replica)) != EXIT_OK)
		return rc == EXIT_USAGE ? EXIT_EXEC_OWN : rc;
	if ((rc = cli_stack(c, true)) != EXIT_OK)
		return EXIT_EXEC_OWN;
	memset(&x, 0, sizeof x);
	x.cli = c->cli;
	x.tty = cli_opt_has(c, 't');
	in = cli_opt_has(c, 'i');
	argv = json_array();
	for (i = 1; i < c->argc; i++)
		json_array_append_new(argv, json_string(c->argv[i]));
	args = json_pack("{s:s, s:s, s:I, s:o, s:b, s:b}", "stack", c->stack,
	    "service", c->argv[0], "replica", replica, "argv", argv,
	    "stdin", in, "tty", x.tty);
	if (x.tty) {
		win_size(&h, &w);
		if (h > 0 && w > 0) {
			json_object_set_new(args, "h", json_integer(h));
			json_object_set_new(args, "w", json_integer(w));
		}
	}
	if (client_connect(&x.cl, c->cli->socket, &err) < 0) {
		json_decref(args);
		cli_err("%s", err);
		free(err);
		return EXIT_EXEC_OWN;
	}
	/* Raw only when the keys go to the command: with -t alone, Ctrl-C
	 * is still shipctl's. */
	if (setup_signals(fds) != 0 || (x.tty && in && tty_raw() != 0)) {
		cli_err("exec: cannot set the terminal up: %s",
		    strerror(errno));
		json_decref(args);
		rc = EXIT_EXEC_OWN;
		goto out;
	}
	if ((rc = client_start(&x.cl, PROTO_CMD_EXEC, args, on_event,
	    on_frame, &x)) != 0) {
		tty_restore();
		cli_err("connection to shipd at %s lost: %s", c->cli->socket,
		    strerror(-rc));
		rc = EXIT_EXEC_OWN;
		goto out;
	}
	rc = run(&x, in, fds[0]);
out:
	tty_restore();
	sigpipe_w = -1;
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	client_close(&x.cl);
	free(x.exec_id);
	return rc;
}
