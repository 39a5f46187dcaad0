/*-------------------------------------------------------------------------
 *
 * http2.c
 *		The HTTP/2 front end, on nghttp2: cleartext HTTP/2 with prior
 *		knowledge, as the AWS SDKs speak it to an http:// endpoint.
 *
 * One thread serves one connection: it reads frames, answers each request
 * once its stream has ended (one at a time, on this thread), and feeds
 * the SubscribeToShard streams of the connection: between reads it polls
 * each subscription when its time has come and resumes the streams that
 * have new event-stream messages, so that records reach the consumer
 * within about subscribe_poll_ms of their commit while other requests of
 * the same connection go on being answered.  Pseudo-header :authority
 * stands in for the Host header the client signed.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "gateway.h"

typedef struct h2_stream
{
	int32_t		id;
	size_t		nheaders;
	size_t		cap;
	char	  **names;
	char	  **values;
	char	   *method;
	char	   *path;
	char	   *authority;		/* :authority, the host the client signed */
	bool		has_host;
	unsigned char *body;		/* NUL-terminated */
	size_t		len;
	size_t		body_cap;
	bool		too_large;
	bool		ready;			/* the request has ended */
	bool		responded;
	kgw_response resp;
	size_t		sent;			/* of resp.body */
	struct h2_stream *next;
} h2_stream;

typedef struct h2_conn
{
	int			fd;
	const char *peer;
	nghttp2_session *session;
	h2_stream  *streams;
	bool		failed;
} h2_conn;

/*
 * stream_free
 *		Unlink and free a stream with its response and subscription.
 */
static void
stream_free(h2_conn *c, h2_stream *st)
{
	for (h2_stream **p = &c->streams; *p; p = &(*p)->next)
		if (*p == st)
		{
			*p = st->next;
			break;
		}
	for (size_t i = 0; i < st->nheaders; i++)
	{
		free(st->names[i]);
		free(st->values[i]);
	}
	free(st->names);
	free(st->values);
	free(st->method);
	free(st->path);
	free(st->authority);
	free(st->body);
	kgw_response_free(&st->resp);
	kgw_sub_free(st->resp.sub);
	free(st);
}

static ssize_t
send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags, void *user_data)
{
	h2_conn    *c = user_data;
	size_t		done = 0;

	while (done < length)
	{
		ssize_t		n = send(c->fd, data + done, length - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			c->failed = true;
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		}
		done += n;
	}
	return (ssize_t) length;
}

static int
on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	h2_conn    *c = user_data;
	h2_stream  *st;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(h2_stream));
	if (st == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	st->id = frame->hd.stream_id;
	st->next = c->streams;
	c->streams = st;
	nghttp2_session_set_stream_user_data(session, st->id, st);
	return 0;
}

/*
 * add_header
 *		Keep one request header of a stream.
 */
static bool
add_header(h2_stream *st, const char *name, size_t namelen, const char *value, size_t valuelen)
{
	if (st->nheaders == st->cap)
	{
		size_t		cap = st->cap ? st->cap * 2 : 16;
		char	  **nn = realloc(st->names, cap * sizeof(char *));
		char	  **nv;

		if (nn == NULL)
			return false;
		st->names = nn;
		nv = realloc(st->values, cap * sizeof(char *));
		if (nv == NULL)
			return false;
		st->values = nv;
		st->cap = cap;
	}
	st->names[st->nheaders] = strndup(name, namelen);
	st->values[st->nheaders] = strndup(value, valuelen);
	st->nheaders++;
	return true;
}

static int
on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		  size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
	h2_stream  *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	if (st == NULL || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (namelen == 7 && memcmp(name, ":method", 7) == 0)
	{
		free(st->method);
		st->method = strndup((const char *) value, valuelen);
		return 0;
	}
	if (namelen == 5 && memcmp(name, ":path", 5) == 0)
	{
		free(st->path);
		st->path = strndup((const char *) value, valuelen);
		return 0;
	}
	if (namelen == 4 && memcmp(name, "host", 4) == 0)
		st->has_host = true;
	else if (namelen == 10 && memcmp(name, ":authority", 10) == 0)
	{
		/* kept under its own name (some SDKs sign it so), and as host */
		free(st->authority);
		st->authority = strndup((const char *) value, valuelen);
	}
	else if (namelen > 0 && name[0] == ':')
		return 0;
	return add_header(st, (const char *) name, namelen, (const char *) value, valuelen) ? 0 :
		NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int
on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
			  size_t len, void *user_data)
{
	h2_stream  *st = nghttp2_session_get_stream_user_data(session, stream_id);

	if (st == NULL)
		return 0;
	if (st->too_large || st->len + len > kgw_conf.max_body)
	{
		st->too_large = true;
		return 0;
	}
	if (st->len + len + 1 > st->body_cap)
	{
		size_t		cap = st->body_cap ? st->body_cap : 4096;
		unsigned char *nb;

		while (cap < st->len + len + 1)
			cap *= 2;
		nb = realloc(st->body, cap);
		if (nb == NULL)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		st->body = nb;
		st->body_cap = cap;
	}
	memcpy(st->body + st->len, data, len);
	st->len += len;
	st->body[st->len] = '\0';
	return 0;
}

static int
on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	h2_stream  *st;

	if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
		(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
	{
		st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
		if (st)
			st->ready = true;
	}
	return 0;
}

static int
on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
	h2_conn    *c = user_data;
	h2_stream  *st = nghttp2_session_get_stream_user_data(session, stream_id);

	if (st)
		stream_free(c, st);
	return 0;
}

/*
 * read_body / read_events
 *		Data providers: a whole response body, and the event-stream bytes
 *		of a subscription (deferred while there are none).
 */
static ssize_t
read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
		  uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	h2_stream  *st = source->ptr;
	size_t		n = st->resp.body_len - st->sent;

	if (n > length)
		n = length;
	if (n)
		memcpy(buf, st->resp.body + st->sent, n);
	st->sent += n;
	if (st->sent == st->resp.body_len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t) n;
}

static ssize_t
read_events(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
			uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	h2_stream  *st = source->ptr;
	kgw_subscription *s = st->resp.sub;
	size_t		n = kgw_sub_available(s);

	if (n == 0)
	{
		if (s->done)
		{
			*data_flags |= NGHTTP2_DATA_FLAG_EOF;
			return 0;
		}
		return NGHTTP2_ERR_DEFERRED;
	}
	if (n > length)
		n = length;
	memcpy(buf, s->pending + s->pending_off, n);
	kgw_sub_consume(s, n);
	if (s->done && kgw_sub_available(s) == 0)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t) n;
}

/*
 * respond
 *		Answer a stream whose request has ended.
 */
static void
respond(h2_conn *c, h2_stream *st)
{
	kgw_request req = {0};
	char	   *path = strdup(st->path ? st->path : "/");
	char	   *q = path ? strchr(path, '?') : NULL;
	char		status[8];
	nghttp2_nv	nv[5];
	int			nnv = 0;
	nghttp2_data_provider dp;

	st->responded = true;
	if (path == NULL)
		return;
	/* the Host header the client signed, when it sent only :authority */
	if (st->authority && !st->has_host)
		add_header(st, "host", 4, st->authority, strlen(st->authority));
	if (q)
		*q++ = '\0';
	if (st->too_large)
	{
		memset(&st->resp, 0, sizeof(st->resp));
		kgw_new_ids(&st->resp);
		st->resp.status = 413;
		st->resp.content_type = "text/plain";
		kgw_log("%s HTTP/2 %s - 413 - body over %zu bytes", c->peer,
				st->method ? st->method : "-", kgw_conf.max_body);
	}
	else
	{
		req.method = st->method ? st->method : "GET";
		req.path = path;
		req.query = q ? q : "";
		req.nheaders = st->nheaders;
		req.header_names = (const char *const *) st->names;
		req.header_values = (const char *const *) st->values;
		req.body = st->body ? st->body : (const unsigned char *) "";
		req.body_len = st->len;
		req.peer = c->peer;
		req.protocol = "HTTP/2";
		kgw_handle(&req, &st->resp);
	}
	free(path);

#define NV(n, v) do { \
		nv[nnv].name = (uint8_t *) (n); nv[nnv].namelen = strlen(n); \
		nv[nnv].value = (uint8_t *) (v); nv[nnv].valuelen = strlen(v); \
		nv[nnv].flags = NGHTTP2_NV_FLAG_NONE; nnv++; } while (0)
	snprintf(status, sizeof(status), "%d", st->resp.status);
	NV(":status", status);
	NV("content-type", st->resp.content_type);
	if (st->resp.request_id[0])
	{
		NV("x-amzn-requestid", st->resp.request_id);
		NV("x-amz-id-2", st->resp.amz_id2);
	}
	if (st->resp.error_type[0])
		NV("x-amzn-errortype", st->resp.error_type);
#undef NV
	dp.source.ptr = st;
	dp.read_callback = st->resp.sub ? read_events : read_body;
	nghttp2_submit_response(c->session, st->id, nv, nnv, &dp);
}

/*
 * kgw_http2_serve
 *		Serve one HTTP/2 connection until it closes or the gateway stops.
 */
void
kgw_http2_serve(int fd, const char *peer)
{
	nghttp2_session_callbacks *cbs;
	h2_conn		c = {.fd = fd,.peer = peer};
	nghttp2_settings_entry iv[2] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 32},
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 8 * 1024 * 1024},
	};
	unsigned char *buf = malloc(64 * 1024);

	if (buf == NULL || nghttp2_session_callbacks_new(&cbs) != 0)
	{
		free(buf);
		close(fd);
		return;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_server_new(&c.session, cbs, &c);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, iv, 2);
	nghttp2_session_set_local_window_size(c.session, NGHTTP2_FLAG_NONE, 0, 16 * 1024 * 1024);

	while (!c.failed)
	{
		bool		subscribed = false;
		struct pollfd pfd = {.fd = fd,.events = POLLIN};
		int			rc;

		/* answer ended requests, feed subscriptions */
		for (h2_stream *st = c.streams; st; st = st->next)
		{
			if (st->ready && !st->responded)
				respond(&c, st);
			else if (st->responded && st->resp.sub)
			{
				kgw_subscription *s = st->resp.sub;

				if (kgw_stopping)
					s->done = true;
				else
					kgw_sub_poll(s, false);
				if (kgw_sub_available(s) > 0 || s->done)
					nghttp2_session_resume_data(c.session, st->id);
				subscribed = subscribed || !s->done;
			}
		}
		if (nghttp2_session_send(c.session) != 0)
			break;
		if (kgw_stopping && !subscribed)
		{
			nghttp2_session_terminate_session(c.session, NGHTTP2_NO_ERROR);
			nghttp2_session_send(c.session);
			break;
		}
		if (!nghttp2_session_want_read(c.session) && !nghttp2_session_want_write(c.session))
			break;
		rc = poll(&pfd, 1, subscribed ? kgw_conf.subscribe_poll_ms : 200);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc > 0)
		{
			ssize_t		n = recv(fd, buf, 64 * 1024, 0);

			if (n <= 0)
				break;
			if (nghttp2_session_mem_recv(c.session, buf, n) < 0)
				break;
		}
	}
	nghttp2_session_del(c.session);
	while (c.streams)
		stream_free(&c, c.streams);
	free(buf);
	close(fd);
}
