/*-------------------------------------------------------------------------
 *
 * http1.c
 *		The HTTP/1.x front end, on libmicrohttpd.
 *
 * libmicrohttpd runs without a listening socket of its own: main.c accepts
 * every connection, keeps the HTTP/2 ones and adds the others here.  Each
 * connection has a thread, so a request may block on the database and a
 * SubscribeToShard response may wait for records without holding up other
 * clients.  Bodies are collected up to max_body (beyond it: 413, as
 * kinesalite answers); the raw request target is kept for the signature,
 * which covers the query string exactly as sent.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "gateway.h"

static struct MHD_Daemon *daemon_h;

/* what one request collects before it is answered */
typedef struct request_ctx
{
	char	   *uri;			/* raw request target, query included */
	unsigned char *body;		/* always NUL-terminated */
	size_t		len;
	size_t		cap;
	bool		too_large;
} request_ctx;

typedef struct header_list
{
	size_t		n;
	size_t		cap;
	const char **names;
	const char **values;
} header_list;

/*
 * uri_logger
 *		Called first for every request, with the raw target: start the
 *		request's context with it.
 */
static void *
uri_logger(void *cls, const char *uri, struct MHD_Connection *con)
{
	request_ctx *ctx = calloc(1, sizeof(request_ctx));

	if (ctx)
		ctx->uri = strdup(uri ? uri : "/");
	return ctx;
}

/*
 * completed
 *		Free a request's context once its response is sent.
 */
static void
completed(void *cls, struct MHD_Connection *con, void **con_cls,
		  enum MHD_RequestTerminationCode toe)
{
	request_ctx *ctx = *con_cls;

	if (ctx)
	{
		free(ctx->uri);
		free(ctx->body);
		free(ctx);
	}
	*con_cls = NULL;
}

/*
 * collect_header
 *		MHD_get_connection_values() callback: gather the headers.
 */
static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	header_list *h = cls;

	if (h->n == h->cap)
	{
		size_t		cap = h->cap ? h->cap * 2 : 32;
		const char **nn = realloc(h->names, cap * sizeof(char *));
		const char **nv;

		if (nn == NULL)
			return MHD_NO;
		h->names = nn;
		nv = realloc(h->values, cap * sizeof(char *));
		if (nv == NULL)
			return MHD_NO;
		h->values = nv;
		h->cap = cap;
	}
	h->names[h->n] = key;
	h->values[h->n] = value ? value : "";
	h->n++;
	return MHD_YES;
}

/*
 * sub_reader
 *		Content reader of a SubscribeToShard response: the pending
 *		event-stream bytes, waiting for the next event when there are none
 *		(this connection's own thread waits), the end when the
 *		subscription is over.
 */
static ssize_t
sub_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	kgw_subscription *s = cls;

	for (;;)
	{
		size_t		avail = kgw_sub_available(s);

		if (avail > 0)
		{
			size_t		n = avail < max ? avail : max;

			memcpy(buf, s->pending + s->pending_off, n);
			kgw_sub_consume(s, n);
			return (ssize_t) n;
		}
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		kgw_sub_poll(s, false);
		if (kgw_sub_available(s) == 0 && !s->done)
			usleep(kgw_conf.subscribe_poll_ms * 1000 / 2 + 1000);
	}
}

static void
sub_free(void *cls)
{
	kgw_sub_free(cls);
}

/*
 * add_common_headers
 *		The headers every response of ours carries.
 */
static void
add_common_headers(struct MHD_Response *r, const kgw_response *resp)
{
	MHD_add_response_header(r, "x-amzn-RequestId", resp->request_id);
	MHD_add_response_header(r, "x-amz-id-2", resp->amz_id2);
	MHD_add_response_header(r, "Content-Type", resp->content_type);
	if (resp->error_type[0])
		MHD_add_response_header(r, "x-amzn-ErrorType", resp->error_type);
}

/*
 * answer
 *		libmicrohttpd's access handler: collect the body, then answer.
 */
static enum MHD_Result
answer(void *cls, struct MHD_Connection *con, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size,
	   void **con_cls)
{
	request_ctx *ctx = *con_cls;
	header_list h = {0};
	kgw_request req = {0};
	kgw_response resp;
	struct MHD_Response *r;
	char		peer[INET6_ADDRSTRLEN] = "-";
	const union MHD_ConnectionInfo *ci;
	char	   *path;
	char	   *q;
	enum MHD_Result ret;

	if (ctx == NULL)
		return MHD_NO;
	if (*upload_data_size > 0)
	{
		size_t		n = *upload_data_size;

		*upload_data_size = 0;
		if (ctx->too_large || ctx->len + n > kgw_conf.max_body)
		{
			ctx->too_large = true;
			return MHD_YES;
		}
		if (ctx->len + n + 1 > ctx->cap)
		{
			size_t		cap = ctx->cap ? ctx->cap : 4096;
			unsigned char *nb;

			while (cap < ctx->len + n + 1)
				cap *= 2;
			nb = realloc(ctx->body, cap);
			if (nb == NULL)
				return MHD_NO;
			ctx->body = nb;
			ctx->cap = cap;
		}
		memcpy(ctx->body + ctx->len, upload_data, n);
		ctx->len += n;
		ctx->body[ctx->len] = '\0';
		return MHD_YES;
	}
	/* the first call comes before any body: just start collecting */
	if (ctx->body == NULL)
	{
		const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");

		if (cl && strtoull(cl, NULL, 10) > kgw_conf.max_body)
			ctx->too_large = true;
		ctx->body = malloc(1);
		if (ctx->body == NULL)
			return MHD_NO;
		ctx->body[0] = '\0';
		ctx->cap = 1;
		return MHD_YES;
	}

	if (ctx->too_large)
	{
		/* as kinesalite answers: 413 without a body, our ids all the same */
		memset(&resp, 0, sizeof(resp));
		kgw_new_ids(&resp);
		r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "x-amzn-RequestId", resp.request_id);
		MHD_add_response_header(r, "x-amz-id-2", resp.amz_id2);
		ret = MHD_queue_response(con, 413, r);
		MHD_destroy_response(r);
		kgw_log("- HTTP/1.1 %s - 413 - body over %zu bytes id=%s", method, kgw_conf.max_body,
				resp.request_id);
		return ret;
	}

	ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr)
	{
		if (ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *) ci->client_addr)->sin_addr, peer, sizeof(peer));
		else if (ci->client_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *) ci->client_addr)->sin6_addr, peer, sizeof(peer));
	}
	MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, &h);
	path = strdup(ctx->uri);
	if (path == NULL)
		return MHD_NO;
	q = strchr(path, '?');
	if (q)
		*q++ = '\0';
	req.method = method;
	req.path = path;
	req.query = q ? q : "";
	req.nheaders = h.n;
	req.header_names = h.names;
	req.header_values = h.values;
	req.body = ctx->body;
	req.body_len = ctx->len;
	req.peer = peer;
	req.protocol = "HTTP/1.1";

	kgw_handle(&req, &resp);
	free(path);
	free(h.names);
	free(h.values);

	if (resp.sub)
	{
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, sub_reader,
											  resp.sub, sub_free);
	}
	else
	{
		r = MHD_create_response_from_buffer(resp.body_len, resp.body ? (void *) resp.body : "",
											resp.body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		resp.body = NULL;		/* libmicrohttpd frees it */
	}
	if (r == NULL)
	{
		kgw_response_free(&resp);
		kgw_sub_free(resp.sub);
		return MHD_NO;
	}
	add_common_headers(r, &resp);
	ret = MHD_queue_response(con, resp.status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * kgw_http1_start
 *		Start libmicrohttpd without a listening socket.
 */
bool
kgw_http1_start(void)
{
	daemon_h = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
								MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
								0, NULL, NULL, answer, NULL,
								MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL,
								MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
								MHD_OPTION_CONNECTION_LIMIT, (unsigned int) kgw_conf.max_connections,
								MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 600,
								MHD_OPTION_END);
	if (daemon_h == NULL)
	{
		kgw_log("could not start the HTTP/1.1 server");
		return false;
	}
	return true;
}

/*
 * kgw_http1_add_connection
 *		Serve an accepted connection over HTTP/1.x.
 */
bool
kgw_http1_add_connection(int fd, const void *addr, unsigned addrlen)
{
	return MHD_add_connection(daemon_h, fd, (const struct sockaddr *) addr,
							  (socklen_t) addrlen) == MHD_YES;
}

/*
 * kgw_http1_stop
 *		Close the connections (waiting for requests in progress) and stop.
 */
void
kgw_http1_stop(void)
{
	if (daemon_h)
		MHD_stop_daemon(daemon_h);
	daemon_h = NULL;
}
