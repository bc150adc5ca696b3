/*
 * The metrics registry's exposition text (labels escaped, histograms
 * cumulative, collectors appended) and the engine stats parser's CPU and
 * memory figures, as docker stats computes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "core/metrics.h"
#include "core/metrics_http.h"
#include "engine/stats.h"
#include "util.h"

static void
test_counters(void **state)
{
	char	*t;
	size_t	 len;

	(void)state;
	metrics_inc("shipd_deploys_total", "stack", "a", "result", "ok", NULL);
	metrics_inc("shipd_deploys_total", "stack", "a", "result", "ok", NULL);
	metrics_add("shipd_deploys_total", 3, "stack", "b\"\\\n", "result",
	    "failed", NULL);
	metrics_set("shipd_engine_reachable", 1, NULL);
	metrics_restart("a", "web", "unhealthy");
	t = metrics_render(&len);
	assert_int_equal(strlen(t), len);
	assert_non_null(strstr(t, "# TYPE shipd_deploys_total counter\n"));
	assert_non_null(strstr(t,
	    "shipd_deploys_total{stack=\"a\",result=\"ok\"} 2\n"));
	assert_non_null(strstr(t, "shipd_deploys_total{stack=\"b\\\"\\\\\\n\","
	    "result=\"failed\"} 3\n"));
	assert_non_null(strstr(t, "\nshipd_engine_reachable 1\n"));
	assert_non_null(strstr(t, "shipd_restarts_total{stack=\"a\","
	    "service=\"web\",reason=\"unhealthy\"} 1\n"));
	free(t);
	metrics_free_all();
}

static void
test_histogram(void **state)
{
	char	*t;
	size_t	 len;

	(void)state;
	metrics_observe("shipd_deploy_duration_seconds", 0.3, "stack", "a",
	    NULL);
	metrics_observe("shipd_deploy_duration_seconds", 4, "stack", "a",
	    NULL);
	metrics_observe("shipd_deploy_duration_seconds", 9999, "stack", "a",
	    NULL);
	t = metrics_render(&len);
	assert_non_null(strstr(t, "shipd_deploy_duration_seconds_bucket{"
	    "stack=\"a\",le=\"0.1\"} 0\n"));
	assert_non_null(strstr(t, "{stack=\"a\",le=\"0.5\"} 1\n"));
	assert_non_null(strstr(t, "{stack=\"a\",le=\"5\"} 2\n"));
	assert_non_null(strstr(t, "{stack=\"a\",le=\"600\"} 2\n"));
	assert_non_null(strstr(t, "{stack=\"a\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(t,
	    "shipd_deploy_duration_seconds_count{stack=\"a\"} 3\n"));
	assert_non_null(strstr(t,
	    "shipd_deploy_duration_seconds_sum{stack=\"a\"} 10003.3"));
	free(t);
	metrics_free_all();
}

static void
collect(struct buf *b, void *arg)
{
	metrics_family(b, "x_things", "gauge", "things");
	metrics_sample(b, "x_things", *(double *)arg, "k", "v", NULL);
}

static void
test_collector(void **state)
{
	double	 v = 2.5;
	char	*t;
	size_t	 len;

	(void)state;
	metrics_collector_add(collect, &v);
	t = metrics_render(&len);
	assert_non_null(strstr(t, "# TYPE x_things gauge\nx_things{k=\"v\"} "
	    "2.5\n"));
	free(t);
	metrics_collector_del(collect, &v);
	t = metrics_render(&len);
	assert_null(strstr(t, "x_things"));
	free(t);
	metrics_free_all();
}

static void
test_addr(void **state)
{
	struct sockaddr_storage ss;

	(void)state;
	assert_int_equal(metrics_addr_parse("127.0.0.1:9464", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(metrics_addr_parse("[::1]:9464", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(metrics_addr_parse(":9464", &ss), 0);
	assert_int_equal(metrics_addr_parse("9464", &ss), -EINVAL);
	assert_int_equal(metrics_addr_parse("localhost:9464", &ss), -EINVAL);
	assert_int_equal(metrics_addr_parse("1.2.3.4:70000", &ss), -EINVAL);
	assert_int_equal(metrics_addr_parse("1.2.3.4:", &ss), -EINVAL);
}

/* Two samples' worth, trimmed, in the engine's shape (cgroup v2). */
static const char sample_v2[] =
    "{\"read\":\"2026-12-01T17:00:01.5Z\","
    "\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":3000000000},"
    "\"system_cpu_usage\":120000000000,\"online_cpus\":2},"
    "\"precpu_stats\":{\"cpu_usage\":{\"total_usage\":2000000000},"
    "\"system_cpu_usage\":116000000000},"
    "\"memory_stats\":{\"usage\":10485760,\"limit\":536870912,"
    "\"stats\":{\"inactive_file\":2097152}},"
    "\"networks\":{\"eth0\":{\"rx_bytes\":100,\"tx_bytes\":40},"
    "\"eth1\":{\"rx_bytes\":5,\"tx_bytes\":2}}}";

static void
test_stats_parse(void **state)
{
	struct stats_sample s;

	(void)state;
	memset(&s, 0, sizeof s);
	assert_int_equal(stats_parse(sample_v2, strlen(sample_v2), &s), 0);
	/* 1 s of CPU in 4 s of the host's two CPUs' time: 25% of 2 CPUs. */
	assert_true(s.cpu_percent > 49.99 && s.cpu_percent < 50.01);
	assert_int_equal(s.online_cpus, 2);
	assert_true(s.mem_bytes == 8388608);
	assert_true(s.mem_limit == 536870912);
	assert_true(s.rx_bytes == 105 && s.tx_bytes == 42);
	assert_true(s.read == 1796144401);
	assert_true(s.have);
}

static void
test_stats_first(void **state)
{
	static const char first[] =
	    "{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":5,"
	    "\"percpu_usage\":[1,2,3,4]},\"system_cpu_usage\":9},"
	    "\"precpu_stats\":{\"cpu_usage\":{\"total_usage\":0}},"
	    "\"memory_stats\":{\"usage\":4096,"
	    "\"stats\":{\"total_inactive_file\":8192}}}";
	struct stats_sample s;

	(void)state;
	memset(&s, 0, sizeof s);
	assert_int_equal(stats_parse(first, strlen(first), &s), 0);
	/* No previous sample: no CPU figure; v1's cache above usage. */
	assert_true(s.cpu_percent == 0);
	assert_int_equal(s.online_cpus, 4);
	assert_true(s.mem_bytes == 0);
	assert_int_equal(stats_parse("{}", 2, &s), -EPROTO);
	assert_int_equal(stats_parse("not json", 8, &s), -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_collector),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_stats_parse),
		cmocka_unit_test(test_stats_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
