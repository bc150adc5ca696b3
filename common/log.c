/*
 * Logging: stderr, one line per message.  Under systemd the "<N>" prefix
 * carries the priority into the journal; on a terminal the program name does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char	*log_prog = "shipd";
static enum log_level	 log_max = LOG_LVL_INFO;
static int		 log_prefix;

void
log_init(const char *prog, enum log_level max, int syslog_prefix)
{
	log_prog = prog;
	log_max = max;
	log_prefix = syslog_prefix;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char	 line[2048];
	va_list	 ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (log_prefix)
		fprintf(stderr, "<%d>%s\n", (int)lvl, line);
	else
		fprintf(stderr, "%s: %s%s\n", log_prog,
		    lvl == LOG_LVL_ERR ? "error: " :
		    lvl == LOG_LVL_WARN ? "warning: " : "", line);
}
