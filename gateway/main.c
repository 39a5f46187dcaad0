/*-------------------------------------------------------------------------
 *
 * main.c
 *		kinesis-gateway: configuration, the listening socket, logging and
 *		shutdown.
 *
 *	kinesis-gateway [--config FILE] [--listen HOST:PORT] [--dsn CONNINFO]
 *		[--pool-size N] [--auth sigv4|none] [--default-role ROLE]
 *		[--region REGION] [--max-body BYTES] [--max-connections N]
 *		[--log FILE|-] [--pid-file FILE] [--subscribe-poll-ms MS]
 *		[--subscribe-seconds S] [--credential-ttl S]
 *
 * A config file holds the same settings as "name = value" lines (# starts a
 * comment); flags given on the command line win over the file.
 *
 * One listening socket serves both HTTP versions: each accepted connection
 * is peeked at, and one that opens with the HTTP/2 connection preface
 * (prior knowledge, as SDKs use over plain HTTP) gets a thread running an
 * nghttp2 session (http2.c); every other connection is handed to
 * libmicrohttpd (http1.c).  SIGTERM or SIGINT stops accepting, ends
 * subscriptions, lets requests in progress finish, closes the pool and
 * exits 0.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "gateway.h"

kgw_config	kgw_conf = {
	.listen_host = "127.0.0.1",
	.port = 4567,
	.dsn = "",
	.pool_size = 8,
	.auth = true,
	.default_role = NULL,
	.region = "us-east-1",
	.max_body = 8 * 1024 * 1024,
	.max_connections = 1024,
	.log_path = "-",
	.pid_file = NULL,
	.subscribe_poll_ms = 50,
	.subscribe_seconds = 300,
	.credential_ttl = 5,
};

volatile sig_atomic_t kgw_stopping = 0;

static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int	listen_fd = -1;
static int	h2_connections;
static pthread_mutex_t h2_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t h2_gone = PTHREAD_COND_INITIALIZER;

/*
 * kgw_now
 *		Monotonic seconds, for durations and timers.
 */
double
kgw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * kgw_log
 *		One line to the log, with a UTC timestamp; lines of concurrent
 *		requests never interleave.
 */
void
kgw_log(const char *fmt,...)
{
	va_list		ap;
	struct timeval tv;
	struct tm	tm;
	char		stamp[32];

	if (log_file == NULL)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(log_file, "%s.%03dZ ", stamp, (int) (tv.tv_usec / 1000));
	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputc('\n', log_file);
	fflush(log_file);
	pthread_mutex_unlock(&log_lock);
}

/*
 * fatal_msg
 *		A start-up error: to stderr, and to the log when it is a file, so
 *		that a gateway started in the background leaves a reason behind.
 */
static void
fatal_msg(const char *fmt,...) __attribute__((format(printf, 1, 2)));

static void
fatal_msg(const char *fmt,...)
{
	va_list		ap;
	char		buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "kinesis-gateway: %s\n", buf);
	if (log_file != NULL && log_file != stderr)
		kgw_log("fatal: %s", buf);
}

static void
usage(FILE *f)
{
	fprintf(f,
			"kinesis-gateway: the Kinesis wire protocol in front of PostgreSQL's kinesis extension\n\n"
			"Usage: kinesis-gateway [options]\n"
			"  --config FILE            settings as \"name = value\" lines (the names below)\n"
			"  --listen HOST:PORT       address to listen on (127.0.0.1:4567)\n"
			"  --dsn CONNINFO           libpq connection string of the database\n"
			"  --pool-size N            database connections at most (8)\n"
			"  --auth sigv4|none        verify SigV4 signatures against kinesis.access_keys (sigv4),\n"
			"                           or accept any request, signed or not (none: development only)\n"
			"  --default-role ROLE      with --auth none, run requests as this role (login role)\n"
			"  --region REGION          region of credential scopes (us-east-1)\n"
			"  --max-body BYTES         larger request bodies get 413 (8388608)\n"
			"  --max-connections N      client connections at most (1024)\n"
			"  --log FILE|-             one line per request (- is stderr)\n"
			"  --pid-file FILE          write the process id there\n"
			"  --subscribe-poll-ms MS   how often an idle SubscribeToShard looks for records (50)\n"
			"  --subscribe-seconds S    lifetime of a subscription (300)\n"
			"  --credential-ttl S       seconds an access key lookup is cached (5)\n");
}

/*
 * set_option
 *		Apply one setting by name (from a flag or the config file).
 */
static bool
set_option(const char *name, const char *value)
{
	if (strcmp(name, "listen") == 0)
	{
		const char *colon = strrchr(value, ':');

		if (colon == NULL)
			return false;
		kgw_conf.listen_host = strndup(value, colon - value);
		kgw_conf.port = atoi(colon + 1);
		return kgw_conf.port > 0 && kgw_conf.port < 65536;
	}
	if (strcmp(name, "dsn") == 0)
		kgw_conf.dsn = strdup(value);
	else if (strcmp(name, "pool-size") == 0)
		return (kgw_conf.pool_size = atoi(value)) > 0;
	else if (strcmp(name, "auth") == 0)
	{
		if (strcmp(value, "sigv4") == 0)
			kgw_conf.auth = true;
		else if (strcmp(value, "none") == 0)
			kgw_conf.auth = false;
		else
			return false;
	}
	else if (strcmp(name, "default-role") == 0)
		kgw_conf.default_role = *value ? strdup(value) : NULL;
	else if (strcmp(name, "region") == 0)
		kgw_conf.region = strdup(value);
	else if (strcmp(name, "max-body") == 0)
		return (kgw_conf.max_body = strtoul(value, NULL, 10)) > 0;
	else if (strcmp(name, "max-connections") == 0)
		return (kgw_conf.max_connections = atoi(value)) > 0;
	else if (strcmp(name, "log") == 0)
		kgw_conf.log_path = *value ? strdup(value) : NULL;
	else if (strcmp(name, "pid-file") == 0)
		kgw_conf.pid_file = strdup(value);
	else if (strcmp(name, "subscribe-poll-ms") == 0)
		return (kgw_conf.subscribe_poll_ms = atoi(value)) > 0;
	else if (strcmp(name, "subscribe-seconds") == 0)
		return (kgw_conf.subscribe_seconds = atoi(value)) > 0;
	else if (strcmp(name, "credential-ttl") == 0)
		return (kgw_conf.credential_ttl = atoi(value)) >= 0;
	else
		return false;
	return true;
}

/*
 * read_config
 *		Apply a config file's "name = value" lines.
 */
static bool
read_config(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;

	if (f == NULL)
	{
		fprintf(stderr, "kinesis-gateway: could not open %s: %s\n", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f))
	{
		char	   *p = line;
		char	   *eq;
		char	   *name;
		char	   *value;
		char	   *end;

		lineno++;
		if ((end = strchr(p, '#')) != NULL)
			*end = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '\r')
			continue;
		eq = strchr(p, '=');
		if (eq == NULL)
			goto bad;
		*eq = '\0';
		name = p;
		value = eq + 1;
		for (end = eq; end > name && strchr(" \t", end[-1]); end--)
			end[-1] = '\0';
		while (*value == ' ' || *value == '\t')
			value++;
		for (end = value + strlen(value); end > value && strchr(" \t\r\n", end[-1]); end--)
			end[-1] = '\0';
		/* optional quotes around the value */
		if (strlen(value) >= 2 && (value[0] == '"' || value[0] == '\'') &&
			value[strlen(value) - 1] == value[0])
		{
			value[strlen(value) - 1] = '\0';
			value++;
		}
		if (!set_option(name, value))
			goto bad;
	}
	fclose(f);
	return true;
bad:
	fprintf(stderr, "kinesis-gateway: %s:%d: invalid setting\n", path, lineno);
	fclose(f);
	return false;
}

/*
 * open_listener
 *		Bind and listen on the configured address.
 */
static int
open_listener(void)
{
	struct addrinfo hints = {0};
	struct addrinfo *ai;
	char		port[16];
	int			fd;
	int			one = 1;
	int			rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%d", kgw_conf.port);
	if ((rc = getaddrinfo(kgw_conf.listen_host, port, &hints, &ai)) != 0)
	{
		fatal_msg("%s: %s", kgw_conf.listen_host, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0)
	{
		fatal_msg("cannot listen on %s:%d: %s", kgw_conf.listen_host, kgw_conf.port,
				  strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

typedef struct accepted
{
	int			fd;
	struct sockaddr_storage addr;
	socklen_t	addrlen;
} accepted;

/*
 * sniff_thread
 *		Decide a new connection's HTTP version from its first bytes, and
 *		serve HTTP/2 here or hand the connection to libmicrohttpd.
 */
static void *
sniff_thread(void *arg)
{
	accepted   *a = arg;
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	char		buf[24];
	char		peer[INET6_ADDRSTRLEN + 8] = "-";
	ssize_t		n = 0;
	double		deadline = kgw_now() + 10.0;
	int			one = 1;

	setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (a->addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *) &a->addr)->sin_addr, peer, sizeof(peer));
	else if (a->addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &a->addr)->sin6_addr, peer, sizeof(peer));

	/* wait for enough bytes to tell (an HTTP/1 request line may be short) */
	while (!kgw_stopping && kgw_now() < deadline)
	{
		struct pollfd pfd = {.fd = a->fd,.events = POLLIN};

		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			break;
		n = recv(a->fd, buf, sizeof(buf), MSG_PEEK);
		if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
			break;
		if (n == (ssize_t) sizeof(buf) || (n > 0 && memcmp(buf, preface, n) != 0))
			break;
	}
	if (n == (ssize_t) sizeof(buf) && memcmp(buf, preface, sizeof(buf)) == 0)
	{
		bool		full;

		/* libmicrohttpd counts its own connections; these are counted here */
		pthread_mutex_lock(&h2_lock);
		full = h2_connections >= kgw_conf.max_connections;
		if (!full)
			h2_connections++;
		pthread_mutex_unlock(&h2_lock);
		if (full)
		{
			kgw_log("%s HTTP/2 connection refused: --max-connections reached", peer);
			close(a->fd);
			free(a);
			return NULL;
		}
		kgw_http2_serve(a->fd, peer);
		pthread_mutex_lock(&h2_lock);
		h2_connections--;
		pthread_cond_broadcast(&h2_gone);
		pthread_mutex_unlock(&h2_lock);
	}
	else if (n > 0 && !kgw_stopping)
	{
		if (!kgw_http1_add_connection(a->fd, &a->addr, a->addrlen))
			close(a->fd);
	}
	else
		close(a->fd);
	free(a);
	return NULL;
}

/*
 * accept_thread
 *		Accept connections until shutdown, each sniffed in a thread.
 */
static void *
accept_thread(void *arg)
{
	while (!kgw_stopping)
	{
		accepted   *a = calloc(1, sizeof(accepted));
		pthread_t	t;
		pthread_attr_t attr;
		struct pollfd pfd = {.fd = listen_fd,.events = POLLIN};

		if (a == NULL)
		{
			sleep(1);
			continue;
		}
		if (poll(&pfd, 1, 200) <= 0)
		{
			free(a);
			continue;
		}
		a->addrlen = sizeof(a->addr);
		a->fd = accept4(listen_fd, (struct sockaddr *) &a->addr, &a->addrlen, SOCK_CLOEXEC);
		if (a->fd < 0)
		{
			free(a);
			continue;
		}
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, sniff_thread, a) != 0)
		{
			close(a->fd);
			free(a);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 1},
		{"dsn", required_argument, NULL, 1},
		{"pool-size", required_argument, NULL, 1},
		{"auth", required_argument, NULL, 1},
		{"default-role", required_argument, NULL, 1},
		{"region", required_argument, NULL, 1},
		{"max-body", required_argument, NULL, 1},
		{"max-connections", required_argument, NULL, 1},
		{"log", required_argument, NULL, 1},
		{"pid-file", required_argument, NULL, 1},
		{"subscribe-poll-ms", required_argument, NULL, 1},
		{"subscribe-seconds", required_argument, NULL, 1},
		{"credential-ttl", required_argument, NULL, 1},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	sigset_t	sigs;
	int			sig;
	int			c;
	int			idx;
	char		err[512];
	pthread_t	acceptor;

	/* the config file first, so that flags override it */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc && !read_config(argv[i + 1]))
			return 2;
		else if (strncmp(argv[i], "--config=", 9) == 0 && !read_config(argv[i] + 9))
			return 2;
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1)
	{
		if (c == 'h')
		{
			usage(stdout);
			return 0;
		}
		if (c == 'c')
			continue;
		if (c != 1 || !set_option(longopts[idx].name, optarg))
		{
			if (c == 1)
				fprintf(stderr, "kinesis-gateway: invalid value for --%s: %s\n",
						longopts[idx].name, optarg);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
	{
		usage(stderr);
		return 2;
	}

	if (kgw_conf.log_path == NULL)
		log_file = NULL;
	else if (strcmp(kgw_conf.log_path, "-") == 0)
		log_file = stderr;
	else if ((log_file = fopen(kgw_conf.log_path, "a")) == NULL)
	{
		fprintf(stderr, "kinesis-gateway: could not open log %s: %s\n",
				kgw_conf.log_path, strerror(errno));
		return 2;
	}

	/* signals are taken by sigwait() below, in no other thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	kgw_pool_init();
	kgw_dispatch_init();
	if (!kgw_pool_check(err, sizeof(err)))
	{
		fatal_msg("%s", err);
		return 1;
	}
	if ((listen_fd = open_listener()) < 0)
		return 1;
	if (!kgw_http1_start())
		return 1;
	if (kgw_conf.pid_file)
	{
		FILE	   *f = fopen(kgw_conf.pid_file, "w");

		if (f)
		{
			fprintf(f, "%d\n", (int) getpid());
			fclose(f);
		}
	}
	pthread_create(&acceptor, NULL, accept_thread, NULL);
	kgw_log("listening on %s:%d (auth %s, pool %d, region %s)", kgw_conf.listen_host,
			kgw_conf.port, kgw_conf.auth ? "sigv4" : "none", kgw_conf.pool_size, kgw_conf.region);

	sigwait(&sigs, &sig);
	kgw_log("signal %d: shutting down", sig);
	kgw_stopping = 1;
	pthread_join(acceptor, NULL);
	close(listen_fd);
	/*
	 * Let requests in progress be answered and subscriptions send their
	 * last bytes (they see kgw_stopping at their next poll), for at most
	 * ten seconds; then close what is left.
	 */
	for (int i = 0; i < 200 && kgw_busy() > 0; i++)
		usleep(50 * 1000);
	usleep(100 * 1000);
	kgw_http1_stop();
	pthread_mutex_lock(&h2_lock);
	while (h2_connections > 0)
		pthread_cond_wait(&h2_gone, &h2_lock);
	pthread_mutex_unlock(&h2_lock);
	kgw_pool_close();
	if (kgw_conf.pid_file)
		unlink(kgw_conf.pid_file);
	kgw_log("stopped");
	return 0;
}
