/*
 * shipd: the daemon's entry point.  Parses options, opens the control
 * socket, connects to the engine and runs the one event loop until SIGTERM,
 * then closes everything in order and proves it with uv_loop_close().
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/backup.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/metrics_http.h"
#include "engine/stats.h"
#include "ops/opsmetrics.h"
#include "ctl/ctl.h"
#include "engine/docker.h"
#include "engine/supervise.h"
#include "log.h"
#include "core/notify.h"
#include "ops/autoscale.h"
#include "ops/heal.h"
#include "core/webhook.h"
#include "ops/health.h"
#include "ops/ops.h"
#include "proto.h"
#include "core/shipd.h"
#include "state/journal.h"
#include "state/store.h"
#include "util.h"
#include "engine/watch.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: shipd [-d] [-c FILE] [-s SOCKET] [--state-dir DIR] [--engine SOCKET]\n"
"             [--group GROUP] [--read-group GROUP] [--metrics-listen ADDR]\n"
"       shipd [-c FILE] --check-config\n"
"\n"
"Runs in the foreground (systemd Type=notify) and logs to stderr.\n"
"\n"
"  -c, --config FILE     configuration file (default " SHIPD_DEFAULT_CONFIG ";\n"
"                        absent: the defaults, no policy); its policy:\n"
"                        limits what units may ask of the host (bind\n"
"                        roots, privileged, host network/pid, devices,\n"
"                        cap_add); a bad file stops shipd from starting\n"
"      --check-config    read the configuration file, print the policy,\n"
"                        and exit: 0 if it is good, 2 if not\n"
"  -s, --socket SOCKET   control socket (default " SHIPD_DEFAULT_SOCKET ")\n"
"      --state-dir DIR   revisions, journal, backups (default "
    SHIPD_DEFAULT_STATE ");\n"
"                        locked: one shipd per DIR\n"
"      --engine SOCKET   Docker engine socket (default "
    SHIPD_DEFAULT_ENGINE ")\n"
"      --group GROUP     group owning the control socket; its members may\n"
"                        run mutating commands (default: none)\n"
"      --read-group GROUP\n"
"                        also listen on SOCKET.ro, owned by GROUP, whose\n"
"                        members may only run commands that read (status,\n"
"                        logs, history, plan...); refusals are audited\n"
"      --metrics-listen ADDR\n"
"                        serve Prometheus metrics on http://ADDR/metrics\n"
"                        (such as 127.0.0.1:9464; off by default)\n"
"  -f, --foreground      accepted for compatibility; shipd never forks\n"
"  -d, --debug           log debug messages\n"
"  -V, --version         print the version and exit\n"
"  -h, --help            print this help and exit\n");
}

/* Watch health (again) and finish or roll back what a previous shipd
 * left under way, once the engine can be asked what exists. */
static void
on_engine_ready(struct shipd *sd)
{
	health_start(sd);
	heal_start(sd);
	stats_start(sd);
	autoscale_start(sd);
	if (!sd->recovery_started) {
		sd->recovery_started = true;
		backup_recover(sd);
		ops_recover(sd);
	}
	/* Held commands run after recovery has begun, like any arriving now. */
	ctl_engine_ready(sd->ctl);
}

/*
 * The configuration file, before anything else is opened: a bad one
 * stops shipd (a policy half read would be worse than none), and with
 * --check-config reading it is all there is to do.
 */
static int
load_config(struct shipd *sd)
{
	struct diag_list	 errs;
	size_t			 i;
	char			*s;
	int			 rc;

	diag_init(&errs);
	rc = config_load(sd->cfg.config_path, sd->cfg.config_given,
	    &sd->conf, &errs);
	for (i = 0; i < errs.n; i++) {
		s = diag_format(&errs.v[i]);
		if (sd->cfg.check_config)
			fprintf(stderr, "shipd: %s\n", s);
		else
			log_err("configuration: %s", s);
		free(s);
	}
	diag_free(&errs);
	if (rc < 0) {
		if (!sd->cfg.check_config)
			log_err("not starting: fix %s (shipd --check-config "
			    "reads it)", sd->cfg.config_path);
		return 2;
	}
	s = config_policy_text(&sd->conf.policy);
	if (sd->cfg.check_config)
		printf("%s: %s\npolicy: %s\nmetrics: %s\n",
		    sd->cfg.config_path, sd->conf.path != NULL ? "ok" :
		    "absent, the defaults", s, sd->conf.metrics_listen != NULL ?
		    sd->conf.metrics_listen : "off");
	else if (sd->conf.policy.set)
		log_info("policy from %s: %s", sd->conf.path, s);
	else
		log_info("no policy in %s: anyone who may deploy is root on "
		    "this host (shipd(8), \"The policy\")",
		    sd->cfg.config_path);
	free(s);
	return 0;
}

static void	shipd_shutdown(struct shipd *);

/* --metrics-listen, or the file's metrics: listen:.  Asked for and not
 * possible is fatal: a scrape target that never answers is worse. */
static void
start_metrics(struct shipd *sd)
{
	const char	*addr = sd->cfg.metrics_listen;
	int		 rc;

	/* The replicas collector, and the stacks the stats streams follow,
	 * metrics or not (shipctl top reads those too). */
	opsmetrics_start(sd);
	if (addr == NULL)
		addr = sd->conf.metrics_listen;
	if (addr == NULL)
		return;
	metrics_set("shipd_engine_reachable", sd->engine_ok, NULL);
	if ((rc = metrics_http_start(sd->loop, addr, &sd->metrics_http)) < 0) {
		log_err("metrics: cannot listen on %s: %s", addr,
		    rc == -EINVAL ? "not HOST:PORT" : strerror(-rc));
		sd->exit_code = 1;
		shipd_shutdown(sd);
		return;
	}
	/* The port bound, for an address that named port 0. */
	log_info("metrics on %s (port %d): GET /metrics", addr,
	    metrics_http_port(sd->metrics_http));
}

static int
parse_args(int argc, char **argv, struct shipd_config *cfg)
{
	static const struct option opts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "check-config", no_argument,	   NULL, 'C' },
		{ "socket",	required_argument, NULL, 's' },
		{ "state-dir",	required_argument, NULL, 'S' },
		{ "engine",	required_argument, NULL, 'e' },
		{ "group",	required_argument, NULL, 'g' },
		{ "read-group",	required_argument, NULL, 'r' },
		{ "metrics-listen", required_argument, NULL, 'M' },
		{ "foreground",	no_argument,	   NULL, 'f' },
		{ "debug",	no_argument,	   NULL, 'd' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct group	*gr;
	int		 ch;

	cfg->socket_path = SHIPD_DEFAULT_SOCKET;
	cfg->state_dir = SHIPD_DEFAULT_STATE;
	cfg->engine_path = SHIPD_DEFAULT_ENGINE;
	cfg->config_path = SHIPD_DEFAULT_CONFIG;
	cfg->gid = (gid_t)-1;
	cfg->read_gid = (gid_t)-1;
	while ((ch = getopt_long(argc, argv, "c:s:fdVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfg->config_path = optarg;
			cfg->config_given = true;
			break;
		case 'C':
			cfg->check_config = true;
			break;
		case 's':
			cfg->socket_path = optarg;
			break;
		case 'S':
			cfg->state_dir = optarg;
			break;
		case 'e':
			cfg->engine_path = optarg;
			break;
		case 'g':
			if ((gr = getgrnam(optarg)) == NULL) {
				fprintf(stderr, "shipd: --group: no group "
				    "named '%s'\n", optarg);
				return 2;
			}
			cfg->gid = gr->gr_gid;
			break;
		case 'r':
			if ((gr = getgrnam(optarg)) == NULL) {
				fprintf(stderr, "shipd: --read-group: no group "
				    "named '%s'\n", optarg);
				return 2;
			}
			cfg->read_gid = gr->gr_gid;
			break;
		case 'M':
			cfg->metrics_listen = optarg;
			break;
		case 'f':
			break;
		case 'd':
			cfg->debug = true;
			break;
		case 'V':
			printf("shipd %s (protocol %d)\n", SHIPD_VERSION,
			    PROTO_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "shipd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (cfg->read_gid != (gid_t)-1)
		xasprintf(&cfg->ro_path, "%s.ro", cfg->socket_path);
	return 0;
}

/* ---- shutdown: control server, then engine client, then our handles ---- */

static void
on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void
close_own_handles(struct shipd *sd)
{
	uv_close((uv_handle_t *)&sd->sig_term, on_handle_closed);
	uv_close((uv_handle_t *)&sd->sig_int, on_handle_closed);
	uv_close((uv_handle_t *)&sd->engine_retry, on_handle_closed);
	webhook_close(sd);
	defer_close(sd);
}

/* No engine or store callback can run from here on: free what waits. */
static void
on_store_closed(void *arg)
{
	struct shipd *sd = arg;

	sd->store = NULL;
	ops_free_all(sd);
	tasks_free_all(sd);
	close_own_handles(sd);
}

/* Queued store writes still finish (their callbacks may start engine
 * calls, which a closed client refuses). */
static void
on_docker_closed(void *arg)
{
	struct shipd *sd = arg;

	sd->docker = NULL;
	if (sd->store != NULL)
		store_close(sd->store, on_store_closed, sd);
	else
		on_store_closed(sd);
}

static void
on_ctl_closed(void *arg)
{
	struct shipd *sd = arg;

	sd->ctl = NULL;
	ops_stop(sd);
	opsmetrics_stop(sd);
	stats_stop(sd);
	watch_stop(sd);
	if (sd->docker != NULL)
		docker_close(sd->docker, on_docker_closed, sd);
	else
		on_docker_closed(sd);
}

static void
shipd_shutdown(struct shipd *sd)
{
	if (sd->stopping)
		return;
	sd->stopping = true;
	log_info("shutting down");
	notify_send("STOPPING=1");
	uv_timer_stop(&sd->engine_retry);
	metrics_http_stop(sd->metrics_http);
	sd->metrics_http = NULL;
	uv_signal_stop(&sd->sig_term);
	uv_signal_stop(&sd->sig_int);
	if (sd->ctl != NULL)
		ctl_close(sd->ctl, on_ctl_closed, sd);
	else
		on_ctl_closed(sd);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct shipd *sd = h->data;

	log_info("received %s", strsignal(signum));
	shipd_shutdown(sd);
}

int
main(int argc, char **argv)
{
	struct shipd	 sd;
	uv_loop_t	 loop;
	int		 rc;

	memset(&sd, 0, sizeof sd);
	if ((rc = parse_args(argc, argv, &sd.cfg)) != 0)
		return rc;
	log_init("shipd", sd.cfg.debug ? LOG_LVL_DEBUG : LOG_LVL_INFO,
	    getenv("JOURNAL_STREAM") != NULL);
	rc = load_config(&sd);
	if (sd.cfg.check_config || rc != 0) {
		config_free(&sd.conf);
		free(sd.cfg.ro_path);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	umask(027);

	if ((rc = mkdir_p(sd.cfg.state_dir, 0750)) < 0) {
		log_err("state dir %s: %s", sd.cfg.state_dir, strerror(-rc));
		return 1;
	}
	if ((rc = uv_loop_init(&loop)) < 0) {
		log_err("uv_loop_init: %s", uv_strerror(rc));
		return 1;
	}
	sd.loop = &loop;
	sd.engine_ready = on_engine_ready;
	defer_init(&sd);
	uv_signal_init(&loop, &sd.sig_term);
	uv_signal_init(&loop, &sd.sig_int);
	uv_timer_init(&loop, &sd.engine_retry);
	sd.sig_term.data = sd.sig_int.data = sd.engine_retry.data = &sd;
	uv_signal_start(&sd.sig_term, on_signal, SIGTERM);
	uv_signal_start(&sd.sig_int, on_signal, SIGINT);

	/* First of all: the store locks the state dir, and a second
	 * daemon on it must not touch the first's socket or containers. */
	if ((rc = store_open(&loop, sd.cfg.state_dir, &sd.store)) < 0) {
		/* -EBUSY: store_open named the daemon holding the dir */
		if (rc != -EBUSY)
			log_err("state dir %s: %s", sd.cfg.state_dir,
			    strerror(-rc));
		sd.exit_code = 1;
		shipd_shutdown(&sd);
	} else if ((rc = docker_new(&loop, sd.cfg.engine_path,
	    &sd.docker)) < 0) {
		log_err("engine client: %s", strerror(-rc));
		sd.exit_code = 1;
		shipd_shutdown(&sd);
	} else if (ctl_open(&sd, sd.cfg.socket_path, sd.cfg.gid,
	    &sd.ctl) < 0 || (sd.cfg.ro_path != NULL &&
	    ctl_open_readonly(sd.ctl, sd.cfg.ro_path, sd.cfg.read_gid) < 0)) {
		sd.exit_code = 1;
		shipd_shutdown(&sd);
	} else {
		log_info("shipd %s listening on %s, engine %s, state %s",
		    SHIPD_VERSION, sd.cfg.socket_path, sd.cfg.engine_path,
		    sd.cfg.state_dir);
		if (sd.cfg.ro_path != NULL)
			log_info("read-only socket %s", sd.cfg.ro_path);
		start_metrics(&sd);
		engine_connect(&sd);
		watch_start(&sd);
		/* Ready means the control socket answers; the engine may
		 * come later and status says so meanwhile. */
		notify_send("READY=1\nSTATUS=waiting for the engine");
	}

	uv_run(&loop, UV_RUN_DEFAULT);
	journal_holds_free(&sd);
	json_decref(sd.engine_version);
	free(sd.engine_error);
	free(sd.cfg.ro_path);
	config_free(&sd.conf);
	metrics_free_all();
	rc = uv_loop_close(&loop);
	if (rc != 0) {
		/* A handle left open is a bug: say which. */
		log_err("uv_loop_close: %s", uv_strerror(rc));
		uv_print_all_handles(&loop, stderr);
		return 1;
	}
	return sd.exit_code;
}
