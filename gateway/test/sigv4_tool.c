/*-------------------------------------------------------------------------
 *
 * sigv4_tool.c
 *		Batch driver around gateway/sigv4.c for sigv4_test.py.
 *
 * This file owns the test-only glue that lets Python feed requests to the
 * C verifier: it reads request descriptions from stdin, runs them through
 * kgw_sigv4_parse / kgw_sigv4_verify the way the gateway will (including
 * the access-key lookup and the optional region check) and prints one
 * result line per request.
 *
 * Input: one item per line, "<key> <hex>" with every value hex-encoded so
 * any bytes can pass; a request ends with a line "end".
 *		method <hex>		path <hex>		query <hex>		body <hex>
 *		header <hexname> <hexvalue>		(repeatable, order kept)
 *		secret <hex>		the secret of the known access key
 *		keyid <hex>			the known access key (absent: any key is known)
 *		region <hex>		the gateway's region (absent: any is accepted)
 *		service <hex>		expected scope service (absent: kinesis)
 *		now <decimal epoch seconds>
 *
 * Output, one line per request:
 *		OK <access_key> <region> <header|query>
 *		ERR <rc> <ErrorType> <message>
 * With -v, the canonical request and string to sign of every failed
 * verification go to stderr.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sigv4.h"

#define MAX_HEADERS 256

typedef struct tool_req
{
	char	   *method;
	char	   *path;
	char	   *query;
	char	   *secret;
	char	   *keyid;
	char	   *region;
	char	   *service;
	unsigned char *body;
	size_t		body_len;
	size_t		nheaders;
	char	   *names[MAX_HEADERS];
	char	   *values[MAX_HEADERS];
	long long	now;
} tool_req;

/* Value of one hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex text (up to whitespace or end) into a malloc'd NUL-terminated buffer. */
static char *
unhex(const char *s, size_t *len)
{
	size_t		n = strcspn(s, " \t\r\n");
	char	   *out = malloc(n / 2 + 1);
	size_t		i;

	if (out == NULL)
	{
		perror("malloc");
		exit(2);
	}
	for (i = 0; i + 1 < n; i += 2)
	{
		int			hi = hexval(s[i]);
		int			lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
		{
			fprintf(stderr, "bad hex: %.20s\n", s);
			exit(2);
		}
		out[i / 2] = (char) (hi * 16 + lo);
	}
	out[n / 2] = '\0';
	if (len)
		*len = n / 2;
	return out;
}

/* Release everything a tool_req holds and reset it. */
static void
reset(tool_req *r)
{
	size_t		i;

	free(r->method);
	free(r->path);
	free(r->query);
	free(r->secret);
	free(r->keyid);
	free(r->region);
	free(r->service);
	free(r->body);
	for (i = 0; i < r->nheaders; i++)
	{
		free(r->names[i]);
		free(r->values[i]);
	}
	memset(r, 0, sizeof(*r));
}

/* Run one request as the gateway would and print the result line. */
static void
process(tool_req *r, int verbose)
{
	kgw_sigv4_request req;
	kgw_sigv4_parsed p;
	char		type[256],
				msg[8192];
	int			rc;

	memset(&req, 0, sizeof(req));
	req.method = r->method ? r->method : "POST";
	req.path = r->path ? r->path : "/";
	req.query = r->query ? r->query : "";
	req.nheaders = r->nheaders;
	req.header_names = (const char *const *) r->names;
	req.header_values = (const char *const *) r->values;
	req.body = r->body;
	req.body_len = r->body_len;
	req.service = r->service;

	rc = kgw_sigv4_parse(&req, &p, type, sizeof(type), msg, sizeof(msg));
	if (rc == KGW_SIGV4_OK && r->keyid && strcmp(r->keyid, p.access_key) != 0)
	{
		rc = KGW_SIGV4_UNRECOGNIZED;
		snprintf(type, sizeof(type), "%s", KGW_SIGV4_UNRECOGNIZED_CLIENT_TYPE);
		snprintf(msg, sizeof(msg), "%s", KGW_SIGV4_UNRECOGNIZED_CLIENT_MSG);
	}
	if (rc == KGW_SIGV4_OK && r->region)
		rc = kgw_sigv4_check_region(&p, r->region, type, sizeof(type),
									msg, sizeof(msg));
	if (rc == KGW_SIGV4_OK)
	{
		rc = kgw_sigv4_verify(&req, &p, r->secret ? r->secret : "",
							  (time_t) r->now, type, sizeof(type),
							  msg, sizeof(msg));
		if (rc != KGW_SIGV4_OK && verbose)
		{
			char	   *cr = kgw_sigv4_canonical_request(&req, &p);
			char	   *sts = kgw_sigv4_string_to_sign(&req, &p);

			fprintf(stderr, "--- canonical request\n%s\n--- string to sign\n%s\n---\n",
					cr ? cr : "(null)", sts ? sts : "(null)");
			free(cr);
			free(sts);
		}
	}
	if (rc == KGW_SIGV4_OK)
		printf("OK %s %s %s\n", p.access_key, p.region,
			   p.auth_kind == KGW_SIGV4_AUTH_QUERY ? "query" : "header");
	else
		printf("ERR %d %s %s\n", rc, type, msg);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	char	   *line = NULL;
	size_t		cap = 0;
	tool_req	r;
	int			verbose = (argc > 1 && strcmp(argv[1], "-v") == 0);

	memset(&r, 0, sizeof(r));
	while (getline(&line, &cap, stdin) > 0)
	{
		char	   *arg = strchr(line, ' ');
		char	   *key = line;

		line[strcspn(line, "\r\n")] = '\0';
		if (arg)
			*arg++ = '\0';
		else
			arg = line + strlen(line);
		if (strcmp(key, "end") == 0)
		{
			process(&r, verbose);
			reset(&r);
		}
		else if (strcmp(key, "method") == 0)
			r.method = unhex(arg, NULL);
		else if (strcmp(key, "path") == 0)
			r.path = unhex(arg, NULL);
		else if (strcmp(key, "query") == 0)
			r.query = unhex(arg, NULL);
		else if (strcmp(key, "secret") == 0)
			r.secret = unhex(arg, NULL);
		else if (strcmp(key, "keyid") == 0)
			r.keyid = unhex(arg, NULL);
		else if (strcmp(key, "region") == 0)
			r.region = unhex(arg, NULL);
		else if (strcmp(key, "service") == 0)
			r.service = unhex(arg, NULL);
		else if (strcmp(key, "body") == 0)
			r.body = (unsigned char *) unhex(arg, &r.body_len);
		else if (strcmp(key, "now") == 0)
			r.now = atoll(arg);
		else if (strcmp(key, "header") == 0)
		{
			char	   *v = strchr(arg, ' ');

			if (r.nheaders >= MAX_HEADERS)
			{
				fprintf(stderr, "too many headers\n");
				return 2;
			}
			r.names[r.nheaders] = unhex(arg, NULL);
			r.values[r.nheaders] = unhex(v ? v + 1 : "", NULL);
			r.nheaders++;
		}
		else if (key[0] != '\0')
		{
			fprintf(stderr, "unknown line: %s\n", key);
			return 2;
		}
	}
	free(line);
	reset(&r);
	return 0;
}
