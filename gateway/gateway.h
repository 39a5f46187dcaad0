/*-------------------------------------------------------------------------
 *
 * gateway.h
 *		Shared declarations of kinesis-gateway, the program that speaks
 *		Kinesis's wire protocol and stores everything through kinesis.api().
 *
 * The gateway is a thin translator.  main.c reads the configuration and
 * accepts connections; http1.c (libmicrohttpd) and http2.c (nghttp2) turn
 * HTTP exchanges into kgw_request values; dispatch.c checks the envelope
 * and the SigV4 signature, runs the operation through kinesis.api() on a
 * pooled connection (pool.c) as the access key's role, and encodes the
 * answer as JSON or CBOR (cbor.c); SubscribeToShard responses are
 * event-stream messages (eventstream.c) produced by a kgw_subscription.
 *
 *-------------------------------------------------------------------------
 */
#ifndef KGW_GATEWAY_H
#define KGW_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <time.h>

#include <libpq-fe.h>

/* ------------------------------------------------------------------------
 * main.c: configuration, logging, shutdown
 * ------------------------------------------------------------------------
 */
typedef struct kgw_config
{
	char	   *listen_host;	/* address to bind */
	int			port;
	char	   *dsn;			/* libpq connection string */
	int			pool_size;		/* database connections at most */
	bool		auth;			/* verify SigV4 signatures */
	char	   *default_role;	/* role of requests when auth is off */
	char	   *region;			/* region in ARNs and credential scopes */
	size_t		max_body;		/* larger request bodies get 413 */
	int			max_connections;	/* open client connections at most */
	char	   *log_path;		/* "-" for stderr, NULL for none */
	char	   *pid_file;
	int			subscribe_poll_ms;	/* how often an idle subscription looks */
	int			subscribe_seconds;	/* a subscription's lifetime (300) */
	int			credential_ttl;		/* seconds a looked-up secret is kept */
} kgw_config;

extern kgw_config kgw_conf;
extern volatile sig_atomic_t kgw_stopping;

extern void kgw_log(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern double kgw_now(void);	/* seconds, monotonic */

/* ------------------------------------------------------------------------
 * pool.c: a bounded pool of libpq connections
 * ------------------------------------------------------------------------
 */
typedef struct kgw_conn
{
	PGconn	   *pg;
	char	   *role;			/* the role SET on it, NULL for the login role */
	bool		in_use;
} kgw_conn;

extern void kgw_pool_init(void);
extern void kgw_pool_close(void);
extern kgw_conn *kgw_pool_get(void);
extern void kgw_pool_put(kgw_conn *c);
extern bool kgw_pool_set_role(kgw_conn *c, const char *role, char *err, size_t errlen);
extern bool kgw_pool_check(char *err, size_t errlen);

/* ------------------------------------------------------------------------
 * dispatch.c: one request in, one response out
 * ------------------------------------------------------------------------
 */
typedef struct kgw_request
{
	const char *method;
	const char *path;			/* without the query string */
	const char *query;			/* without '?', "" when none */
	size_t		nheaders;
	const char *const *header_names;
	const char *const *header_values;
	const unsigned char *body;
	size_t		body_len;
	const char *peer;			/* client address, for the log */
	const char *protocol;		/* "HTTP/1.1" or "HTTP/2" */
} kgw_request;

struct kgw_subscription;

typedef struct kgw_response
{
	int			status;
	const char *content_type;	/* static string */
	unsigned char *body;		/* malloc'd */
	size_t		body_len;
	char		request_id[40];
	char		amz_id2[100];
	char		error_type[64];	/* for the log; "" on success */
	struct kgw_subscription *sub;	/* SubscribeToShard: stream the events */
} kgw_response;

extern void kgw_dispatch_init(void);
extern int	kgw_busy(void);		/* requests being answered + subscriptions */
extern void kgw_handle(const kgw_request *req, kgw_response *resp);
extern void kgw_new_ids(kgw_response *resp);
extern void kgw_response_free(kgw_response *resp);

/*
 * A SubscribeToShard response in progress.  kgw_sub_poll() appends the
 * next event-stream messages to the pending bytes when it is time to look
 * (at most every subscribe_poll_ms, or at once when force is set); the
 * HTTP layer sends them and calls kgw_sub_consume().  done is set once the
 * last message (end of shard, lifetime over, an error) is pending.
 */
typedef struct kgw_subscription
{
	char	   *consumer_arn;
	char	   *shard_id;
	char	   *continuation;	/* AFTER_SEQUENCE_NUMBER of the next event */
	char	   *role;			/* the request's role, NULL for login role */
	bool		cbor;			/* events in CBOR rather than JSON */
	double		started;
	double		last_poll;
	double		last_event;
	unsigned char *pending;
	size_t		pending_len;
	size_t		pending_off;
	size_t		pending_cap;
	bool		done;
	long		events;
	long		records;
} kgw_subscription;

extern int	kgw_sub_poll(kgw_subscription *s, bool force);
extern size_t kgw_sub_available(const kgw_subscription *s);
extern void kgw_sub_consume(kgw_subscription *s, size_t n);
extern void kgw_sub_free(kgw_subscription *s);

/* ------------------------------------------------------------------------
 * http1.c and http2.c: the two front ends
 * ------------------------------------------------------------------------
 */
extern bool kgw_http1_start(void);
extern bool kgw_http1_add_connection(int fd, const void *addr, unsigned addrlen);
extern void kgw_http1_stop(void);
extern void kgw_http2_serve(int fd, const char *peer);

#endif							/* KGW_GATEWAY_H */
