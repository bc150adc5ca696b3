/*
 * libFuzzer harness: execio_parse_head (engine/execio.c), the head of the
 * engine's answer to a hijacked exec start, read off a raw connection.
 *
 * Whatever the bytes: a head found ends with its blank line and has a
 * status from 100 to 599; every prefix of a complete head is incomplete
 * or the same head; an incomplete one holds no blank line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/execio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data;
	size_t		 hl = 0, hl2 = 0;
	long		 st = 0, st2 = 0;
	int		 rc;

	rc = execio_parse_head(p, size, &st, &hl);
	if (rc == 0) {
		if (hl < 16 || hl > size || memcmp(p + hl - 4, "\r\n\r\n", 4) ||
		    st < 100 || st > 599)
			abort();
		/* More bytes behind a head do not change it. */
		if (execio_parse_head(p, hl, &st2, &hl2) != 0 || hl2 != hl ||
		    st2 != st)
			abort();
		if (execio_parse_head(p, hl - 1, &st2, &hl2) == 0)
			abort();
	} else if (rc == 1) {
		if (memmem(p, size, "\r\n\r\n", 4) != NULL && size >= 12 &&
		    memcmp(p, "HTTP/1.", 7) == 0)
			abort();
	} else if (rc != -EPROTO)
		abort();
	return 0;
}
