/*-------------------------------------------------------------------------
 *
 * dispatch.c
 *		One Kinesis request in, one response out: the envelope checks, the
 *		SigV4 check, the kinesis.api() call and the encoding.
 *
 * The checks follow the order AWS (and the emulators that copied it)
 * apply them: the method, then the content type and target, then the
 * body, then the operation name, then the signature.  Everything past that
 * is kinesis.api()'s: the gateway adds no semantics of its own.  It calls
 * kinesis.api_json(), kinesis.api() with JSON text in and out, which spares
 * GetRecords answers a jsonb round trip.  Each request runs as the role its
 * access key maps to (kinesis.access_keys), or, with signatures off, as the
 * configured default role.
 *
 * kinesis.api() answers Kinesis errors with the AWS error body; an error it
 * raises instead (a database error of another class) maps back to the
 * exception of its SQLSTATE (kinesis.error_codes()) or InternalFailure.
 *
 * SubscribeToShard is one kinesis.api() call per event: the first one
 * answers the HTTP request (its errors are ordinary error responses), the
 * following ones continue AFTER_SEQUENCE_NUMBER the previous event's
 * ContinuationSequenceNumber while the response streams.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cbor.h"
#include "eventstream.h"
#include "gateway.h"
#include "sigv4.h"

#define JSON_TYPE	"application/x-amz-json-1.1"
#define EVENTSTREAM_TYPE "application/vnd.amazon.eventstream"
#define TARGET_PREFIX "Kinesis_20131202."

/* the operations of Kinesis_20131202 that kinesis.api() serves */
static const char *const operations[] = {
	"AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteStream",
	"DeregisterStreamConsumer", "DescribeLimits", "DescribeStream",
	"DescribeStreamConsumer", "DescribeStreamSummary", "DisableEnhancedMonitoring",
	"EnableEnhancedMonitoring", "GetRecords", "GetShardIterator",
	"IncreaseStreamRetentionPeriod", "ListShards", "ListStreamConsumers", "ListStreams",
	"ListTagsForStream", "MergeShards", "PutRecord", "PutRecords", "RegisterStreamConsumer",
	"RemoveTagsFromStream", "SplitShard", "StartStreamEncryption", "StopStreamEncryption",
	"SubscribeToShard", "UpdateShardCount", NULL
};

/* requests in kgw_handle() and subscriptions not yet freed, for shutdown */
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static int	busy;

static void
busy_add(int d)
{
	pthread_mutex_lock(&busy_lock);
	busy += d;
	pthread_mutex_unlock(&busy_lock);
}

/*
 * kgw_busy
 *		How many requests are being answered and subscriptions streamed:
 *		shutdown waits for them to end.
 */
int
kgw_busy(void)
{
	int			n;

	pthread_mutex_lock(&busy_lock);
	n = busy;
	pthread_mutex_unlock(&busy_lock);
	return n;
}

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

/*
 * header
 *		A request header's value by case-insensitive name, or NULL.
 */
static const char *
header(const kgw_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->header_names[i], name) == 0)
			return req->header_values[i];
	return NULL;
}

/*
 * kgw_new_ids
 *		A request id (a random UUID, as AWS's look) and an x-amz-id-2.
 */
void
kgw_new_ids(kgw_response *resp)
{
	unsigned char r[16];
	unsigned char r2[48];

	RAND_bytes(r, sizeof(r));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(resp->request_id, sizeof(resp->request_id),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
			 r[11], r[12], r[13], r[14], r[15]);
	RAND_bytes(r2, sizeof(r2));
	EVP_EncodeBlock((unsigned char *) resp->amz_id2, r2, sizeof(r2));
}

/*
 * set_body
 *		Take a copy of the bytes as the response body.
 */
static void
set_body(kgw_response *resp, const void *data, size_t len)
{
	free(resp->body);
	resp->body = malloc(len ? len : 1);
	if (resp->body == NULL)
	{
		resp->body_len = 0;
		return;
	}
	memcpy(resp->body, data, len);
	resp->body_len = len;
}

/*
 * set_json_or_cbor
 *		Make a JSON document (malloc'd; the response takes it over, so a
 *		large answer is not copied again) the body, converted to CBOR when
 *		the client speaks CBOR.  A conversion failure is an InternalFailure.
 */
static void
set_json_or_cbor(kgw_response *resp, bool cbor, char *json, size_t len)
{
	unsigned char *out;
	size_t		outlen;
	char		err[128];

	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	if (!cbor)
	{
		resp->content_type = JSON_TYPE;
		resp->body = (unsigned char *) json;
		resp->body_len = len;
		return;
	}
	resp->content_type = KGW_CBOR_CONTENT_TYPE;
	if (kgw_json_to_cbor(json, len, &out, &outlen, err, sizeof(err)) != 0)
	{
		kgw_log("could not encode a response as CBOR: %s", err);
		resp->status = 500;
		snprintf(resp->error_type, sizeof(resp->error_type), "InternalFailure");
		/* {"__type": "InternalFailure"} as an indefinite-length map */
		set_body(resp, "\xbf\x66__type\x6fInternalFailure\xff", 25);
	}
	else
	{
		resp->body = out;
		resp->body_len = outlen;
	}
	free(json);
}

/*
 * error_json
 *		{"__type": type, "message": message} as JSON text (malloc'd); no
 *		message member when message is NULL.  SerializationException
 *		spells the member "Message", as AWS does.
 */
static char *
error_json(const char *type, const char *message)
{
	json_t	   *o = json_object();
	char	   *text;

	json_object_set_new(o, "__type", json_string(type));
	if (message != NULL)
		json_object_set_new(o, strcmp(type, "SerializationException") == 0 ? "Message" : "message",
							json_string(message));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/*
 * set_error
 *		An AWS error response: status, the exception name and its message,
 *		in the client's encoding.
 */
static void
set_error(kgw_response *resp, bool cbor, int status, const char *type, const char *message)
{
	char	   *text = error_json(type, message);

	resp->status = status;
	snprintf(resp->error_type, sizeof(resp->error_type), "%s", type);
	if (text == NULL)
		return;
	set_json_or_cbor(resp, cbor, text, strlen(text));
}

/*
 * set_xml_error
 *		The XML answers AWS's front door gives before it knows the service
 *		(wrong method, no target): <Type><Message>...</Message></Type>.
 */
static void
set_xml_error(kgw_response *resp, int status, const char *type, const char *message)
{
	char		buf[512];
	int			n;

	if (message)
		n = snprintf(buf, sizeof(buf), "<%s>\n  <Message>%s</Message>\n</%s>\n", type, message, type);
	else
		n = snprintf(buf, sizeof(buf), "<%s/>\n", type);
	resp->status = status;
	resp->content_type = "application/xml";
	snprintf(resp->error_type, sizeof(resp->error_type), "%s", type);
	set_body(resp, buf, n);
}

/* ------------------------------------------------------------------------
 * SQLSTATE -> exception, for errors kinesis.api() raises
 * ------------------------------------------------------------------------
 */
typedef struct error_code
{
	char		sqlstate[6];
	char		exception[64];
} error_code;

static pthread_mutex_t codes_lock = PTHREAD_MUTEX_INITIALIZER;
static error_code *codes;
static int	ncodes = -1;

/*
 * load_codes
 *		Read kinesis.error_codes() once, on the first error that needs it.
 */
static void
load_codes(kgw_conn *c)
{
	PGresult   *res;

	pthread_mutex_lock(&codes_lock);
	if (ncodes < 0)
	{
		res = PQexec(c->pg, "SELECT sqlstate, exception FROM kinesis.error_codes()");
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
		{
			int			n = PQntuples(res);

			codes = calloc(n ? n : 1, sizeof(error_code));
			if (codes)
			{
				for (int i = 0; i < n; i++)
				{
					snprintf(codes[i].sqlstate, 6, "%s", PQgetvalue(res, i, 0));
					snprintf(codes[i].exception, 64, "%s", PQgetvalue(res, i, 1));
				}
				ncodes = n;
			}
		}
		PQclear(res);
	}
	pthread_mutex_unlock(&codes_lock);
}

/*
 * set_db_error
 *		A request whose kinesis.api() call raised: the Kinesis exception
 *		for a SQLSTATE of class KN (the message after "Name: "), a
 *		SerializationException for a body the database could not read as
 *		JSON, AccessDeniedException for a denied privilege, and
 *		InternalFailure (500, logged) for anything else.
 */
static void
set_db_error(kgw_response *resp, bool cbor, kgw_conn *c, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (state && strncmp(state, "KN", 2) == 0)
	{
		const char *name = NULL;

		load_codes(c);
		for (int i = 0; i < ncodes; i++)
			if (strcmp(codes[i].sqlstate, state) == 0)
				name = codes[i].exception;
		if (name != NULL)
		{
			size_t		nl = strlen(name);

			if (msg && strncmp(msg, name, nl) == 0 && msg[nl] == ':')
				msg += nl + 1 + (msg[nl + 1] == ' ');
			set_error(resp, cbor, strcmp(name, "InternalFailure") == 0 ? 500 : 400, name,
					  msg && *msg && strcmp(name, "InternalFailure") != 0 ? msg : NULL);
			return;
		}
	}
	if (state && (strcmp(state, "22P02") == 0 || strcmp(state, "22P05") == 0 ||
				  strcmp(state, "22032") == 0))
	{
		set_error(resp, cbor, 400, "SerializationException", NULL);
		return;
	}
	if (state && strcmp(state, "42501") == 0)
	{
		set_error(resp, cbor, 400, "AccessDeniedException", msg);
		return;
	}
	kgw_log("database error %s: %s", state ? state : "(connection)",
			res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
	set_error(resp, cbor, 500, "InternalFailure", NULL);
}

/* ------------------------------------------------------------------------
 * Access keys
 * ------------------------------------------------------------------------
 */
#define CRED_SLOTS 256

typedef struct credential
{
	char		access_key[129];
	char	   *secret;			/* NULL: unknown or inactive key */
	char	   *role;
	double		fetched;
} credential;

static pthread_mutex_t cred_lock = PTHREAD_MUTEX_INITIALIZER;
static credential creds[CRED_SLOTS];

/*
 * lookup_credential
 *		The secret and role of an access key, from a small cache (for
 *		credential_ttl seconds, unknown keys too) or from
 *		kinesis.gateway_credentials() as the login role.  Returns false
 *		for an unknown or inactive key; *db_failed when the database could
 *		not answer.
 */
static bool
lookup_credential(const char *key, char **secret, char **role, bool *db_failed)
{
	unsigned	h = 5381;
	credential *slot;
	double		now = kgw_now();
	kgw_conn   *c;
	PGresult   *res;
	const char *values[1] = {key};
	char		err[256];
	bool		found;

	*db_failed = false;
	for (const char *p = key; *p; p++)
		h = h * 33 + (unsigned char) *p;
	slot = &creds[h % CRED_SLOTS];

	pthread_mutex_lock(&cred_lock);
	if (strcmp(slot->access_key, key) == 0 && now - slot->fetched < kgw_conf.credential_ttl)
	{
		found = slot->secret != NULL;
		*secret = found ? strdup(slot->secret) : NULL;
		*role = found ? strdup(slot->role) : NULL;
		pthread_mutex_unlock(&cred_lock);
		return found;
	}
	pthread_mutex_unlock(&cred_lock);

	c = kgw_pool_get();
	if (!kgw_pool_set_role(c, NULL, err, sizeof(err)))
	{
		kgw_pool_put(c);
		*db_failed = true;
		return false;
	}
	res = PQexecParams(c->pg,
					   "SELECT secret_access_key, role_name FROM kinesis.gateway_credentials($1)",
					   1, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		kgw_log("could not look up access key: %s", PQresultErrorMessage(res));
		PQclear(res);
		kgw_pool_put(c);
		*db_failed = true;
		return false;
	}
	found = PQntuples(res) == 1;
	*secret = found ? strdup(PQgetvalue(res, 0, 0)) : NULL;
	*role = found ? strdup(PQgetvalue(res, 0, 1)) : NULL;
	PQclear(res);
	kgw_pool_put(c);

	pthread_mutex_lock(&cred_lock);
	free(slot->secret);
	free(slot->role);
	snprintf(slot->access_key, sizeof(slot->access_key), "%s", key);
	slot->secret = found ? strdup(*secret) : NULL;
	slot->role = found ? strdup(*role) : NULL;
	slot->fetched = now;
	pthread_mutex_unlock(&cred_lock);
	return found;
}

/*
 * authenticate
 *		Check the request's SigV4 signature; on success *role is the role
 *		to run as (malloc'd).  On failure the error response is set.
 */
static bool
authenticate(const kgw_request *req, kgw_response *resp, bool cbor, char **role)
{
	kgw_sigv4_request sr = {0};
	kgw_sigv4_parsed p;
	char		etype[64];
	char		emsg[1024];
	char	   *secret = NULL;
	bool		db_failed;
	int			rc;

	*role = NULL;
	if (!kgw_conf.auth)
	{
		*role = kgw_conf.default_role ? strdup(kgw_conf.default_role) : NULL;
		return true;
	}
	sr.method = req->method;
	sr.path = req->path;
	sr.query = req->query;
	sr.nheaders = req->nheaders;
	sr.header_names = req->header_names;
	sr.header_values = req->header_values;
	sr.body = req->body;
	sr.body_len = req->body_len;
	sr.service = KGW_SIGV4_DEFAULT_SERVICE;

	rc = kgw_sigv4_parse(&sr, &p, etype, sizeof(etype), emsg, sizeof(emsg));
	if (rc != KGW_SIGV4_OK)
	{
		set_error(resp, cbor, kgw_sigv4_http_status(rc), etype, emsg);
		return false;
	}
	if (!lookup_credential(p.access_key, &secret, role, &db_failed))
	{
		if (db_failed)
			set_error(resp, cbor, 500, "InternalFailure", NULL);
		else
			set_error(resp, cbor, 400, KGW_SIGV4_UNRECOGNIZED_CLIENT_TYPE,
					  KGW_SIGV4_UNRECOGNIZED_CLIENT_MSG);
		return false;
	}
	rc = kgw_sigv4_verify(&sr, &p, secret, time(NULL), etype, sizeof(etype), emsg, sizeof(emsg));
	free(secret);
	if (rc != KGW_SIGV4_OK)
	{
		set_error(resp, cbor, kgw_sigv4_http_status(rc), etype, emsg);
		free(*role);
		*role = NULL;
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------------
 * kinesis.api()
 * ------------------------------------------------------------------------
 */

/*
 * call_api
 *		Run kinesis.api(op, body) as role on a pooled connection.  Returns
 *		the response document (malloc'd JSON text, which may be an AWS
 *		error body: see is_api_error()) or NULL with the error response set.
 */
static char *
call_api(kgw_response *resp, bool cbor, const char *role, const char *op,
		 const char *json, size_t json_len, size_t *out_len)
{
	kgw_conn   *c = kgw_pool_get();
	PGresult   *res;
	const char *values[2] = {op, json};
	int			lengths[2] = {(int) strlen(op), (int) json_len};
	int			formats[2] = {0, 0};
	char		err[512];
	char	   *out = NULL;

	if (PQstatus(c->pg) != CONNECTION_OK)
	{
		kgw_pool_put(c);
		set_error(resp, cbor, 500, "InternalFailure", NULL);
		return NULL;
	}
	if (!kgw_pool_set_role(c, role, err, sizeof(err)))
	{
		kgw_log("could not run as role %s: %s", role ? role : "(login)", err);
		kgw_pool_put(c);
		set_error(resp, cbor, 400, "AccessDeniedException",
				  "The role of this access key cannot be assumed by the gateway.");
		return NULL;
	}
	/* kinesis.api() with text bodies: no jsonb round trip for GetRecords */
	res = PQexecParams(c->pg, "SELECT kinesis.api_json($1, $2)", 2, NULL, values,
					   lengths, formats, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
	{
		size_t		n = PQgetlength(res, 0, 0);

		out = malloc(n + 1);
		if (out)
		{
			memcpy(out, PQgetvalue(res, 0, 0), n + 1);
			*out_len = n;
		}
		else
			set_error(resp, cbor, 500, "InternalFailure", NULL);
	}
	else
		set_db_error(resp, cbor, c, res);
	PQclear(res);
	kgw_pool_put(c);
	return out;
}

/*
 * is_api_error
 *		Is the document kinesis.api() returned an AWS error body?  If so,
 *		set the response's status (400, or 500 for InternalFailure) and
 *		error type.  jsonb prints the shortest keys first, so "__type"
 *		leads.
 */
static bool
is_api_error(kgw_response *resp, const char *doc, size_t len)
{
	json_t	   *o;
	const char *type;

	if (strncmp(doc, "{\"__type\":", 10) != 0)
		return false;
	o = json_loadb(doc, len, 0, NULL);
	type = o ? json_string_value(json_object_get(o, "__type")) : NULL;
	snprintf(resp->error_type, sizeof(resp->error_type), "%s", type ? type : "InternalFailure");
	resp->status = (type && strcmp(type, "InternalFailure") != 0) ? 400 : 500;
	if (o)
		json_decref(o);
	return true;
}

/* ------------------------------------------------------------------------
 * SubscribeToShard
 * ------------------------------------------------------------------------
 */

/*
 * sub_append
 *		Append one event-stream message to the subscription's pending bytes.
 */
static void
sub_append(kgw_subscription *s, const char *message_type, const char *type_header,
		   const char *type, const char *content_type, const char *payload, size_t len)
{
	const char *names[3] = {":message-type", type_header, ":content-type"};
	const char *values[3] = {message_type, type, content_type};

	/* drop what was sent, so the buffer holds only the unsent bytes */
	if (s->pending_off > 0)
	{
		memmove(s->pending, s->pending + s->pending_off, s->pending_len - s->pending_off);
		s->pending_len -= s->pending_off;
		s->pending_off = 0;
	}
	if (kgw_evs_message(&s->pending, &s->pending_len, &s->pending_cap, 3, names, values,
						(const unsigned char *) payload, len) != 0)
	{
		kgw_log("could not frame an event of subscription %s %s", s->consumer_arn, s->shard_id);
		s->done = true;
	}
}

/*
 * sub_event
 *		Frame a SubscribeToShardEvent (the event object of a kinesis.api()
 *		answer) and remember where the next one starts.  Returns the number
 *		of records, or -1 when the answer is not an event.
 */
static int
sub_event(kgw_subscription *s, json_t *doc, bool always)
{
	json_t	   *ev = json_object_get(json_object_get(doc, "EventStream"), "SubscribeToShardEvent");
	const char *cont;
	size_t		nrec;
	bool		end;
	char	   *text;

	if (!json_is_object(ev))
		return -1;
	cont = json_string_value(json_object_get(ev, "ContinuationSequenceNumber"));
	nrec = json_array_size(json_object_get(ev, "Records"));
	/* ChildShards comes only with the end of a closed shard */
	end = json_object_get(ev, "ChildShards") != NULL;
	if (cont)
	{
		free(s->continuation);
		s->continuation = strdup(cont);
	}
	if (nrec > 0 || end || always || kgw_now() - s->last_event >= 5.0)
	{
		text = json_dumps(ev, JSON_COMPACT);
		if (text)
		{
			if (s->cbor)
			{
				unsigned char *c;
				size_t		clen;
				char		err[128];

				if (kgw_json_to_cbor(text, strlen(text), &c, &clen, err, sizeof(err)) == 0)
				{
					sub_append(s, "event", ":event-type", "SubscribeToShardEvent",
							   KGW_CBOR_CONTENT_TYPE, (const char *) c, clen);
					free(c);
				}
			}
			else
				sub_append(s, "event", ":event-type", "SubscribeToShardEvent",
						   "application/json", text, strlen(text));
			free(text);
		}
		s->last_event = kgw_now();
		s->events++;
		s->records += nrec;
	}
	if (end)
		s->done = true;
	return (int) nrec;
}

/*
 * kgw_sub_poll
 *		Look for the subscription's next records when it is time (or at
 *		once with force), appending an event when there are records, at
 *		the end of the shard, or as a heartbeat every 5 s.  Returns the
 *		number of records added, 0 when it was not time or nothing came.
 *		An error ends the subscription with an exception message.
 */
int
kgw_sub_poll(kgw_subscription *s, bool force)
{
	double		now = kgw_now();
	json_t	   *req;
	char	   *body;
	char	   *out;
	size_t		out_len = 0;
	kgw_response r = {0};
	json_t	   *doc;
	int			n = 0;

	if (s->done)
		return 0;
	if (kgw_stopping || now - s->started >= kgw_conf.subscribe_seconds)
	{
		s->done = true;
		return 0;
	}
	if (!force && (now - s->last_poll) * 1000.0 < kgw_conf.subscribe_poll_ms)
		return 0;
	s->last_poll = now;

	req = json_pack("{s:s, s:s, s:{s:s, s:s}}", "ConsumerARN", s->consumer_arn,
					"ShardId", s->shard_id, "StartingPosition",
					"Type", "AFTER_SEQUENCE_NUMBER", "SequenceNumber", s->continuation);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (req)
		json_decref(req);
	if (body == NULL)
		return 0;
	out = call_api(&r, false, s->role, "SubscribeToShard", body, strlen(body), &out_len);
	free(body);
	if (out && is_api_error(&r, out, out_len))
	{
		set_json_or_cbor(&r, false, out, out_len);
		out = NULL;
	}
	if (out == NULL)
	{
		/* the error body r holds is JSON: its message becomes the payload */
		json_t	   *e = json_loadb((const char *) r.body, r.body_len, 0, NULL);
		const char *m = e ? json_string_value(json_object_get(e, "message")) : NULL;
		json_t	   *p = json_pack("{s:s}", "message", m ? m : "");
		char	   *ptext = p ? json_dumps(p, JSON_COMPACT) : NULL;

		sub_append(s, "exception", ":exception-type", r.error_type[0] ? r.error_type : "InternalFailure",
				   "application/json", ptext ? ptext : "{}", ptext ? strlen(ptext) : 2);
		free(ptext);
		if (p)
			json_decref(p);
		if (e)
			json_decref(e);
		kgw_response_free(&r);
		s->done = true;
		return 0;
	}
	kgw_response_free(&r);
	doc = json_loadb(out, out_len, 0, NULL);
	free(out);
	if (doc)
	{
		n = sub_event(s, doc, false);
		json_decref(doc);
	}
	return n < 0 ? 0 : n;
}

/*
 * kgw_sub_available / kgw_sub_consume
 *		The bytes ready to send, and that n of them were sent.
 */
size_t
kgw_sub_available(const kgw_subscription *s)
{
	return s->pending_len - s->pending_off;
}

void
kgw_sub_consume(kgw_subscription *s, size_t n)
{
	s->pending_off += n;
	if (s->pending_off >= s->pending_len)
		s->pending_off = s->pending_len = 0;
}

/*
 * kgw_sub_free
 *		End of a subscription's response: log it and free it.
 */
void
kgw_sub_free(kgw_subscription *s)
{
	if (s == NULL)
		return;
	busy_add(-1);
	kgw_log("subscription end %s %s events=%ld records=%ld seconds=%.1f",
			s->consumer_arn, s->shard_id, s->events, s->records, kgw_now() - s->started);
	free(s->consumer_arn);
	free(s->shard_id);
	free(s->continuation);
	free(s->role);
	free(s->pending);
	free(s);
}

/*
 * start_subscription
 *		The answer to a SubscribeToShard request whose first kinesis.api()
 *		call succeeded: 200, an initial-response message and the first
 *		event; the HTTP layer streams the rest.
 */
static void
start_subscription(kgw_response *resp, bool cbor, const char *role,
				   const char *json, size_t json_len, const char *answer, size_t answer_len)
{
	json_t	   *rq = json_loadb(json, json_len, 0, NULL);
	json_t	   *doc = json_loadb(answer, answer_len, 0, NULL);
	kgw_subscription *s = calloc(1, sizeof(kgw_subscription));
	const char *arn = rq ? json_string_value(json_object_get(rq, "ConsumerARN")) : NULL;
	const char *shard = rq ? json_string_value(json_object_get(rq, "ShardId")) : NULL;

	if (s == NULL || doc == NULL || arn == NULL || shard == NULL)
	{
		free(s);
		set_error(resp, cbor, 500, "InternalFailure", NULL);
		goto done;
	}
	s->consumer_arn = strdup(arn);
	s->shard_id = strdup(shard);
	s->role = role ? strdup(role) : NULL;
	s->cbor = cbor;
	s->started = s->last_poll = s->last_event = kgw_now();
	sub_append(s, "event", ":event-type", "initial-response",
			   cbor ? KGW_CBOR_CONTENT_TYPE : "application/json",
			   cbor ? "\xbf\xff" : "{}", 2);
	sub_event(s, doc, true);
	resp->status = 200;
	resp->content_type = EVENTSTREAM_TYPE;
	resp->sub = s;
	busy_add(1);
done:
	if (rq)
		json_decref(rq);
	if (doc)
		json_decref(doc);
}

/* ------------------------------------------------------------------------
 * The request
 * ------------------------------------------------------------------------
 */

/*
 * kgw_dispatch_init
 *		Nothing to prepare beyond what the first request loads.
 */
void
kgw_dispatch_init(void)
{
	json_object_seed(0);
}

/*
 * kgw_response_free
 *		Free what a response owns (not the subscription: the HTTP layer
 *		frees that when the stream ends).
 */
void
kgw_response_free(kgw_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

/*
 * kgw_handle
 *		Answer one request; see the file header for the order of checks.
 *		Logs one line.
 */
void
kgw_handle(const kgw_request *req, kgw_response *resp)
{
	double		t0 = kgw_now();
	const char *ctype = header(req, "content-type");
	const char *target = header(req, "x-amz-target");
	char		ctbuf[128] = "";
	char		op[64] = "";
	bool		json_ok;
	bool		cbor;
	bool		known_service = false;
	bool		known_op = false;
	char	   *json = NULL;
	size_t		json_len = 0;
	bool		json_owned = false;
	char	   *role = NULL;
	char	   *answer;
	size_t		answer_len = 0;

	memset(resp, 0, sizeof(*resp));
	busy_add(1);
	kgw_new_ids(resp);
	resp->status = 200;
	resp->content_type = JSON_TYPE;

	if (ctype)
	{
		size_t		n = strcspn(ctype, ";");

		while (n > 0 && isspace((unsigned char) ctype[n - 1]))
			n--;
		snprintf(ctbuf, sizeof(ctbuf), "%.*s", (int) n, ctype);
	}
	json_ok = strcasecmp(ctbuf, JSON_TYPE) == 0 || strcasecmp(ctbuf, "application/json") == 0;
	cbor = strcasecmp(ctbuf, KGW_CBOR_CONTENT_TYPE) == 0;
	if (target)
	{
		const char *dot = strchr(target, '.');

		known_service = dot != NULL && (size_t) (dot - target) == strlen(TARGET_PREFIX) - 1 &&
			strncmp(target, TARGET_PREFIX, dot - target) == 0;
		if (dot)
			snprintf(op, sizeof(op), "%s", dot + 1);
		for (int i = 0; operations[i]; i++)
			if (strcmp(op, operations[i]) == 0)
				known_op = true;
	}

	if (strcmp(req->method, "POST") != 0)
	{
		set_xml_error(resp, 403, "AccessDeniedException",
					  "Unable to determine service/operation name to be authorized");
		goto done;
	}
	if (req->body_len == 0)
	{
		/* no body: JSON clients get JSON, everyone else CBOR */
		set_error(resp, !(strcasecmp(ctbuf, JSON_TYPE) == 0), 400,
				  known_service && known_op ? "SerializationException" : "UnknownOperationException",
				  NULL);
		goto done;
	}
	if (!json_ok && !cbor)
	{
		if (!target || op[0] == '\0')
			set_xml_error(resp, 403, "AccessDeniedException",
						  "Unable to determine service/operation name to be authorized");
		else
			set_xml_error(resp, 404, "UnknownOperationException", NULL);
		goto done;
	}
	if (cbor)
	{
		char		err[128];

		if (kgw_cbor_to_json(req->body, req->body_len, &json, &json_len, err, sizeof(err)) != 0)
		{
			set_error(resp, true, 400, "SerializationException", NULL);
			goto done;
		}
		json_owned = true;
	}
	else
	{
		json = (char *) req->body;
		json_len = req->body_len;
	}
	if (!known_service || !known_op)
	{
		set_error(resp, cbor, 400, "UnknownOperationException", NULL);
		goto done;
	}
	if (!authenticate(req, resp, cbor, &role))
		goto done;

	answer = call_api(resp, cbor, role, op, json, json_len, &answer_len);
	if (answer == NULL)
		goto done;
	if (!is_api_error(resp, answer, answer_len) && strcmp(op, "SubscribeToShard") == 0)
	{
		start_subscription(resp, cbor, role, json, json_len, answer, answer_len);
		free(answer);
	}
	else
		set_json_or_cbor(resp, cbor, answer, answer_len);

done:
	kgw_log("%s %s %s %s %d %s in=%zu out=%zu ms=%.1f role=%s id=%s",
			req->peer ? req->peer : "-", req->protocol, req->method,
			op[0] ? op : "-", resp->status, resp->error_type[0] ? resp->error_type : "-",
			req->body_len, resp->body_len, (kgw_now() - t0) * 1000.0,
			role ? role : "-", resp->request_id);
	free(role);
	if (json_owned)
		free(json);
	busy_add(-1);
}
