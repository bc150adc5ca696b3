/*
 * ptyrun: run a command on a pseudo-terminal and drive it from a script,
 * for the tests of interactive commands (tests/integration/exec.sh).
 *
 *	ptyrun ROWS COLS SCRIPT CMD [ARG...]
 *
 * SCRIPT has one step a line; TEXT takes \n \r \t \\ and \xHH:
 *	wait TEXT	until the output since the last match holds TEXT
 *	send TEXT	type TEXT
 *	resize R C	a new window size (the kernel signals SIGWINCH)
 * Every wait, and the command's exit after the last step, has a deadline
 * of 20 s.  Prints everything the command wrote, then exits with its exit
 * status (128+N for signal N); 124 when a deadline passed, 2 on misuse.
 */
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS	20000

static char	*out;		/* everything the command wrote */
static size_t	 outlen, mark;	/* and where the last match ended */
static int	 master = -1;
static pid_t	 child;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what is there, waiting up to ms: 2 when something came, 1 when
 * nothing did, 0 at EOF (the command closed the terminal). */
static int
pump(int ms)
{
	struct pollfd	pf = { master, POLLIN, 0 };
	char		buf[4096];
	ssize_t		n;

	if (poll(&pf, 1, ms) <= 0)
		return 1;
	if ((n = read(master, buf, sizeof buf)) <= 0)
		return 0;
	if ((out = realloc(out, outlen + (size_t)n + 1)) == NULL)
		exit(2);
	memcpy(out + outlen, buf, (size_t)n);
	outlen += (size_t)n;
	out[outlen] = '\0';
	return 2;
}

static size_t
unescape(const char *s, char *d)
{
	size_t		 n = 0;
	unsigned	 x;

	for (; *s != '\0' && *s != '\n'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			d[n++] = *s;
			continue;
		}
		switch (*++s) {
		case 'n': d[n++] = '\n'; break;
		case 'r': d[n++] = '\r'; break;
		case 't': d[n++] = '\t'; break;
		case 'x':
			if (sscanf(s + 1, "%2x", &x) == 1) {
				d[n++] = (char)x;
				s += 2;
			}
			break;
		default: d[n++] = *s; break;
		}
	}
	return n;
}

static void
finish(int rc)
{
	if (out != NULL)
		fwrite(out, 1, outlen, stdout);
	fflush(stdout);
	if (rc == 124) {
		fprintf(stderr, "ptyrun: deadline passed\n");
		kill(child, SIGKILL);
	}
	exit(rc);
}

static void
step_wait(const char *text, size_t len)
{
	long long	 end = now_ms() + DEADLINE_MS;
	char		*hit;

	for (;;) {
		if (outlen >= mark && (hit = memmem(out + mark, outlen - mark,
		    text, len)) != NULL) {
			mark = (size_t)(hit - out) + len;
			return;
		}
		if (now_ms() > end || pump(100) == 0) {
			fprintf(stderr, "ptyrun: no '%.*s' in the output\n",
			    (int)len, text);
			finish(124);
		}
	}
}

int
main(int argc, char **argv)
{
	struct winsize	 ws;
	FILE		*f;
	char		 line[1024], text[1024];
	size_t		 len;
	int		 st, r, c;
	long long	 end;

	if (argc < 5) {
		fprintf(stderr, "usage: ptyrun ROWS COLS SCRIPT CMD [ARG...]\n");
		return 2;
	}
	memset(&ws, 0, sizeof ws);
	ws.ws_row = (unsigned short)atoi(argv[1]);
	ws.ws_col = (unsigned short)atoi(argv[2]);
	if ((f = fopen(argv[3], "r")) == NULL) {
		perror(argv[3]);
		return 2;
	}
	if ((child = forkpty(&master, NULL, NULL, &ws)) < 0) {
		perror("forkpty");
		return 2;
	}
	if (child == 0) {
		execvp(argv[4], argv + 4);
		perror(argv[4]);
		_exit(127);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "wait ", 5) == 0) {
			len = unescape(line + 5, text);
			step_wait(text, len);
		} else if (strncmp(line, "send ", 5) == 0) {
			len = unescape(line + 5, text);
			if (write(master, text, len) != (ssize_t)len)
				finish(2);
		} else if (sscanf(line, "resize %d %d", &r, &c) == 2) {
			ws.ws_row = (unsigned short)r;
			ws.ws_col = (unsigned short)c;
			ioctl(master, TIOCSWINSZ, &ws);
		}
	}
	fclose(f);
	end = now_ms() + DEADLINE_MS;
	while (waitpid(child, &st, WNOHANG) == 0) {
		if (now_ms() > end)
			finish(124);
		pump(50);
	}
	while (pump(0) == 2)
		;
	finish(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
