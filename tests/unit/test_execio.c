/*
 * execio_parse_head: the engine's answer to the hijacked exec start, read
 * from a raw connection: whole, in pieces down to a byte at a time, with
 * the stream's first bytes behind it, refused, and what cannot be HTTP.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/execio.h"

#define UPGRADE	"HTTP/1.1 101 UPGRADED\r\nContent-Type: " \
	"application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\n" \
	"Upgrade: tcp\r\n\r\n"

static void
test_upgrade(void **state)
{
	const char	*s = UPGRADE "\x01\0\0\0\0\0\0\x03hi\n";
	size_t		 n = strlen(UPGRADE) + 11, hl = 0;
	long		 st = 0;

	(void)state;
	assert_int_equal(execio_parse_head(s, n, &st, &hl), 0);
	assert_int_equal(st, 101);
	/* The stream's first frame stays behind the head, untouched. */
	assert_int_equal(hl, strlen(UPGRADE));
	assert_memory_equal(s + hl, "\x01\0\0\0\0\0\0\x03hi\n", 11);
}

static void
test_pieces(void **state)
{
	const char	*s = UPGRADE;
	size_t		 i, hl;
	long		 st;

	(void)state;
	/* Every prefix is incomplete until the blank line is whole. */
	for (i = 0; i < strlen(s); i++)
		assert_int_equal(execio_parse_head(s, i, &st, &hl), 1);
	assert_int_equal(execio_parse_head(s, strlen(s), &st, &hl), 0);
	assert_int_equal(hl, strlen(s));
}

static void
test_refused(void **state)
{
	const char	*s = "HTTP/1.1 404 Not Found\r\nContent-Length: 31\r\n"
	    "\r\n{\"message\":\"No such exec: x\"}\n";
	size_t		 hl;
	long		 st;

	(void)state;
	assert_int_equal(execio_parse_head(s, strlen(s), &st, &hl), 0);
	assert_int_equal(st, 404);
	assert_string_equal(s + hl, "{\"message\":\"No such exec: x\"}\n");
	/* An old engine's 200 to a hijack is a stream too, and HTTP/1.0. */
	assert_int_equal(execio_parse_head("HTTP/1.0 200 OK\r\n\r\n", 19,
	    &st, &hl), 0);
	assert_int_equal(st, 200);
}

static void
test_not_http(void **state)
{
	size_t	hl;
	long	st;

	(void)state;
	/* Told at the first byte that differs, not at the blank line. */
	assert_int_equal(execio_parse_head("X", 1, &st, &hl), -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/2 101", 10, &st, &hl),
	    -EPROTO);
	assert_int_equal(execio_parse_head("\x01\0\0\0", 4, &st, &hl),
	    -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/1.1 1x1 Up\r\n\r\n", 19, &st,
	    &hl), -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/1.1 99 Up\r\n\r\n", 18, &st,
	    &hl), -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/1.1 1011 Up\r\n\r\n", 20, &st,
	    &hl), -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/1.1  101\r\n\r\n", 17, &st,
	    &hl), -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_not_http),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
