/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *		AWS Signature Version 4 verification for the Kinesis HTTP gateway.
 *
 * This module owns everything about authenticating an incoming request
 * signed with AWS SigV4 (the "AWS4-HMAC-SHA256" algorithm), either in the
 * Authorization header or as a presigned URL (X-Amz-* query parameters).
 * It knows nothing about sockets, HTTP parsing or the database: the
 * gateway hands it the request as received and gets back OK or an AWS
 * error type and message to send (HTTP 400, JSON body
 * {"__type": type, "message": message}).
 *
 * Verification is split in two steps so that the gateway can look up the
 * secret access key (from the database, cached) in between:
 *
 *		kgw_sigv4_request req = {...};
 *		kgw_sigv4_parsed p;
 *		rc = kgw_sigv4_parse(&req, &p, type, sizeof(type), msg, sizeof(msg));
 *		if (rc != KGW_SIGV4_OK) -> reply with type/msg
 *		secret = lookup(p.access_key);
 *		if (!secret) -> reply KGW_SIGV4_UNRECOGNIZED_CLIENT_TYPE/_MSG
 *		optionally check p.region against the configured region with
 *		kgw_sigv4_check_region()
 *		rc = kgw_sigv4_verify(&req, &p, secret, time(NULL), type, ...);
 *
 * The module is stateless and thread-safe.  Callers that want to cache
 * derived signing keys can use kgw_sigv4_signing_key() and
 * kgw_sigv4_verify_with_key().
 *
 * Link with -lcrypto.
 *
 *-------------------------------------------------------------------------
 */
#ifndef KGW_SIGV4_H
#define KGW_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Return codes of kgw_sigv4_parse / kgw_sigv4_verify */
#define KGW_SIGV4_OK			0
#define KGW_SIGV4_MISSING		1	/* no Authorization, no X-Amz-Algorithm */
#define KGW_SIGV4_INCOMPLETE	2	/* IncompleteSignatureException */
#define KGW_SIGV4_INVALID		3	/* InvalidSignatureException (structure,
									 * scope, payload hash) */
#define KGW_SIGV4_MISMATCH		4	/* InvalidSignatureException: wrong
									 * signature */
#define KGW_SIGV4_EXPIRED		5	/* InvalidSignatureException: clock skew
									 * or presigned URL expired */
#define KGW_SIGV4_UNRECOGNIZED	6	/* UnrecognizedClientException: the
									 * access key cannot exist */
#define KGW_SIGV4_ERROR			7	/* InternalFailure: out of memory or
									 * crypto failure (HTTP 500) */

/* The error the gateway sends when the access key is unknown */
#define KGW_SIGV4_UNRECOGNIZED_CLIENT_TYPE	"UnrecognizedClientException"
#define KGW_SIGV4_UNRECOGNIZED_CLIENT_MSG \
	"The security token included in the request is invalid."

/* Service name expected in the credential scope unless the caller says */
#define KGW_SIGV4_DEFAULT_SERVICE	"kinesis"

/* Allowed clock skew for header-signed requests, in seconds */
#define KGW_SIGV4_MAX_SKEW		(15 * 60)

/* Longest X-Amz-Expires accepted for presigned URLs (one week) */
#define KGW_SIGV4_MAX_EXPIRES	604800

/*
 * The request as the gateway received it.  All strings NUL-terminated.
 * path is the raw (still percent-encoded) request-target path without the
 * query; query is the raw query string without '?', "" or NULL if none.
 * Header names match case-insensitively; a header may appear more than
 * once (its values are then joined with ',' in received order).  Under
 * HTTP/2 a ":authority" pseudo-header stands in for a missing "host".
 * service is the service name the credential scope must name; NULL means
 * "kinesis".
 */
typedef struct kgw_sigv4_request
{
	const char *method;
	const char *path;
	const char *query;
	size_t		nheaders;
	const char *const *header_names;
	const char *const *header_values;
	const unsigned char *body;
	size_t		body_len;
	const char *service;
} kgw_sigv4_request;

/* Signature transport */
#define KGW_SIGV4_AUTH_HEADER	1	/* Authorization header */
#define KGW_SIGV4_AUTH_QUERY	2	/* presigned URL */

#define KGW_SIGV4_MAX_SIGNED_HEADERS_LEN	2048

/*
 * What kgw_sigv4_parse() extracted; input to kgw_sigv4_verify().  Self
 * contained (no pointers into the request), so it may be copied.
 */
typedef struct kgw_sigv4_parsed
{
	int			auth_kind;		/* KGW_SIGV4_AUTH_HEADER or _QUERY */
	char		access_key[129];
	char		date[9];		/* credential scope date, YYYYMMDD */
	char		region[64];		/* credential scope region (unchecked) */
	char		service[64];	/* credential scope service */
	char		amz_date[17];	/* request time, YYYYMMDDTHHMMSSZ */
	time_t		request_time;	/* amz_date as epoch seconds */
	long		expires;		/* presigned X-Amz-Expires; -1 if none */
	bool		has_security_token; /* X-Amz-Security-Token present */
	char		signed_headers[KGW_SIGV4_MAX_SIGNED_HEADERS_LEN];	/* as sent,
																	 * ';'-separated */
	char		signature[65];	/* lowercased hex as sent (maybe bad) */
	bool		signature_ok;	/* signature is 64 hex digits */
} kgw_sigv4_parsed;

/*
 * Step 1: find and parse the signature (header or presigned query) and
 * check everything that needs no secret.  Returns KGW_SIGV4_OK,
 * KGW_SIGV4_MISSING (no authentication at all; err_type/err_msg are still
 * filled with MissingAuthenticationTokenException) or an error code with
 * err_type/err_msg filled in.  err_type / err_msg may be NULL.
 */
extern int	kgw_sigv4_parse(const kgw_sigv4_request *req, kgw_sigv4_parsed *out,
							char *err_type, size_t typelen,
							char *err_msg, size_t msglen);

/*
 * Step 2: check the payload hash, the clock (now = current epoch seconds)
 * and the signature using the secret access key.  Returns KGW_SIGV4_OK or
 * an error code with err_type/err_msg filled in.
 */
extern int	kgw_sigv4_verify(const kgw_sigv4_request *req,
							 const kgw_sigv4_parsed *p, const char *secret,
							 time_t now, char *err_type, size_t typelen,
							 char *err_msg, size_t msglen);

/* Same as kgw_sigv4_verify with an already derived signing key */
extern int	kgw_sigv4_verify_with_key(const kgw_sigv4_request *req,
									  const kgw_sigv4_parsed *p,
									  const unsigned char key[32],
									  time_t now, char *err_type,
									  size_t typelen, char *err_msg,
									  size_t msglen);

/*
 * Derive the SigV4 signing key: HMAC chain over "AWS4"+secret, date
 * (YYYYMMDD), region, service, "aws4_request".  Returns false on failure.
 */
extern bool kgw_sigv4_signing_key(const char *secret, const char *date,
								  const char *region, const char *service,
								  unsigned char out[32]);

/*
 * Optional check of the scope region against the gateway's region.
 * Returns KGW_SIGV4_OK or KGW_SIGV4_INVALID with the AWS message.
 */
extern int	kgw_sigv4_check_region(const kgw_sigv4_parsed *p,
								   const char *region, char *err_type,
								   size_t typelen, char *err_msg,
								   size_t msglen);

/* HTTP status for a return code (200, 400, or 500 for KGW_SIGV4_ERROR) */
extern int	kgw_sigv4_http_status(int rc);

/*
 * For debugging and tests: the canonical request and string to sign the
 * server computes for req/p, as malloc'd strings (NULL on out of memory).
 * The payload hash used is the X-Amz-Content-Sha256 header if present,
 * else the body's SHA-256.
 */
extern char *kgw_sigv4_canonical_request(const kgw_sigv4_request *req,
										 const kgw_sigv4_parsed *p);
extern char *kgw_sigv4_string_to_sign(const kgw_sigv4_request *req,
									  const kgw_sigv4_parsed *p);

#endif							/* KGW_SIGV4_H */
