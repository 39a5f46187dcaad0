/*-------------------------------------------------------------------------
 *
 * sigv4_kat.c
 *		Known-answer tests for gateway/sigv4.c.
 *
 * This file owns the C-side checks of the SigV4 module against values
 * published by AWS: the signing-key example of the SigV4 documentation,
 * the IAM ListUsers example (canonical request, its hash, signature) and
 * a few requests of the AWS SigV4 test suite (get-vanilla, post-vanilla,
 * get-vanilla-query-order-key-case).  It also checks the exact 15-minute
 * skew boundaries, Date-header parsing and path canonicalization, which
 * are awkward to reach from the Python test.
 *
 * Prints one line per failure and ends with "N passed, N failed"; exits
 * non-zero if anything failed.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sigv4.h"

#define EXAMPLE_SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EXAMPLE_NOW		((time_t) 1440938160)	/* 20150830T123600Z */

static int	npassed = 0;
static int	nfailed = 0;

/* Record one check; print what failed. */
static void
check(int ok, const char *what, const char *detail)
{
	if (ok)
		npassed++;
	else
	{
		nfailed++;
		printf("FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	}
}

/* Check two strings are equal, showing both if not. */
static void
check_str(const char *got, const char *want, const char *what)
{
	char		detail[4096];

	if (got != NULL && strcmp(got, want) == 0)
	{
		npassed++;
		return;
	}
	snprintf(detail, sizeof(detail), "got [%s] want [%s]",
			 got ? got : "(null)", want);
	check(0, what, detail);
}

/* Lowercase hex of n bytes into out (2n+1). */
static void
hex(const unsigned char *in, size_t n, char *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

/*
 * Parse and verify a request with the given headers against secret at
 * time now; return the rc of the first failing step and copy the error
 * type into type.
 */
static int
run(const char *method, const char *path, const char *query,
	const char *const *names, const char *const *values, size_t n,
	const char *service, const char *secret, time_t now,
	kgw_sigv4_parsed *p, char *type, char *msg)
{
	kgw_sigv4_request req;
	int			rc;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = query;
	req.nheaders = n;
	req.header_names = names;
	req.header_values = values;
	req.body = NULL;
	req.body_len = 0;
	req.service = service;
	rc = kgw_sigv4_parse(&req, p, type, 128, msg, 1024);
	if (rc != KGW_SIGV4_OK)
		return rc;
	return kgw_sigv4_verify(&req, p, secret, now, type, 128, msg, 1024);
}

/* The signing-key derivation example from the SigV4 documentation. */
static void
test_signing_key(void)
{
	unsigned char key[32];
	char		h[65];

	check(kgw_sigv4_signing_key(EXAMPLE_SECRET, "20150830", "us-east-1",
								"iam", key), "signing key derivation", NULL);
	hex(key, 32, h);
	check_str(h, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
			  "signing key (docs example)");
}

/* The IAM ListUsers example: canonical request, hash, signature. */
static void
test_iam_example(void)
{
	const char *names[] = {"Content-Type", "Host", "X-Amz-Date", "Authorization"};
	const char *values[] = {
		"application/x-www-form-urlencoded; charset=utf-8",
		"iam.amazonaws.com",
		"20150830T123600Z",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
		"SignedHeaders=content-type;host;x-amz-date, "
		"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
	};
	kgw_sigv4_request req;
	kgw_sigv4_parsed p;
	char		type[128],
				msg[1024];
	char	   *cr,
			   *sts;
	int			rc;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/";
	req.query = "Action=ListUsers&Version=2010-05-08";
	req.nheaders = 4;
	req.header_names = names;
	req.header_values = values;
	req.service = "iam";
	rc = kgw_sigv4_parse(&req, &p, type, sizeof(type), msg, sizeof(msg));
	check(rc == KGW_SIGV4_OK, "iam example parse", msg);
	check_str(p.access_key, "AKIDEXAMPLE", "iam example access key");
	check_str(p.region, "us-east-1", "iam example region");
	check_str(p.service, "iam", "iam example service");
	check_str(p.amz_date, "20150830T123600Z", "iam example amz_date");
	cr = kgw_sigv4_canonical_request(&req, &p);
	check_str(cr,
			  "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
			  "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
			  "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
			  "content-type;host;x-amz-date\n"
			  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			  "iam example canonical request");
	free(cr);
	sts = kgw_sigv4_string_to_sign(&req, &p);
	check_str(sts,
			  "AWS4-HMAC-SHA256\n20150830T123600Z\n"
			  "20150830/us-east-1/iam/aws4_request\n"
			  "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
			  "iam example string to sign");
	free(sts);
	rc = kgw_sigv4_verify(&req, &p, EXAMPLE_SECRET, EXAMPLE_NOW, type,
						  sizeof(type), msg, sizeof(msg));
	check(rc == KGW_SIGV4_OK, "iam example verify", msg);
	rc = kgw_sigv4_verify(&req, &p, EXAMPLE_SECRET "x", EXAMPLE_NOW, type,
						  sizeof(type), msg, sizeof(msg));
	check(rc == KGW_SIGV4_MISMATCH &&
		  strcmp(type, "InvalidSignatureException") == 0,
		  "iam example wrong secret", msg);
}

/* A request of the AWS SigV4 test suite (service "service"). */
static void
test_suite_case(const char *name, const char *method, const char *query,
				const char *sig)
{
	char		auth[512];
	const char *names[] = {"Host", "X-Amz-Date", "Authorization"};
	const char *values[] = {"example.amazonaws.com", "20150830T123600Z", auth};
	kgw_sigv4_parsed p;
	char		type[128] = "",
				msg[1024] = "";
	int			rc;

	snprintf(auth, sizeof(auth),
			 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
			 "SignedHeaders=host;x-amz-date, Signature=%s", sig);
	rc = run(method, "/", query, names, values, 3, "service", EXAMPLE_SECRET,
			 EXAMPLE_NOW, &p, type, msg);
	check(rc == KGW_SIGV4_OK, name, msg);
}

/* Exactly 15 minutes of skew is accepted, one second more is not. */
static void
test_skew_boundaries(void)
{
	const char *names[] = {"Host", "X-Amz-Date", "Authorization"};
	const char *values[] = {"example.amazonaws.com", "20150830T123600Z",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"};
	kgw_sigv4_parsed p;
	char		type[128],
				msg[1024];
	int			rc;

	rc = run("GET", "/", "", names, values, 3, "service", EXAMPLE_SECRET,
			 EXAMPLE_NOW + 900, &p, type, msg);
	check(rc == KGW_SIGV4_OK, "skew +900s accepted", msg);
	rc = run("GET", "/", "", names, values, 3, "service", EXAMPLE_SECRET,
			 EXAMPLE_NOW - 900, &p, type, msg);
	check(rc == KGW_SIGV4_OK, "skew -900s accepted", msg);
	rc = run("GET", "/", "", names, values, 3, "service", EXAMPLE_SECRET,
			 EXAMPLE_NOW + 901, &p, type, msg);
	check(rc == KGW_SIGV4_EXPIRED, "skew +901s rejected", msg);
	check_str(msg, "Signature expired: 20150830T123600Z is now earlier than "
			  "20150830T123601Z (20150830T125101Z - 15 min.)",
			  "expired message");
	rc = run("GET", "/", "", names, values, 3, "service", EXAMPLE_SECRET,
			 EXAMPLE_NOW - 901, &p, type, msg);
	check(rc == KGW_SIGV4_EXPIRED, "skew -901s rejected", msg);
	check_str(msg, "Signature not yet current: 20150830T123600Z is still "
			  "later than 20150830T123559Z (20150830T122059Z + 15 min.)",
			  "not yet current message");
	check_str(type, "InvalidSignatureException", "skew error type");
}

/*
 * Date header forms: the parsed request time must come out as the basic
 * format the client signed.
 */
static void
test_date_header(void)
{
	static const char *const forms[] = {
		"Sun, 30 Aug 2015 12:36:00 GMT",
		"Sun, 30 Aug 2015 12:36:00 -0000",
		"Sun, 30 Aug 2015 12:36:00 +0000",
		"Sun, 30 Aug 2015 14:36:00 +0200",
		"30 Aug 2015 12:36:00 GMT",
		"20150830T123600Z",
	};
	static const char *const bad[] = {
		"Sun, 31 Feb 2015 12:36:00 GMT",
		"Sun, 30 Aug 2015 12:36 GMT",
		"yesterday",
		"2015-08-30T12:36:00Z",
		"Sun, 30 Aug 2015 12",
		"Sun, 30 Aug 2015 12:3",
		"Sun, 30 Aug 2015 12:36:0",
		"Sun, 30 Aug 2015 12:36:00 +0",
		"Sun, 30 Aug 2015 12:36:00 +01",
		"Sun, 30 Aug 2015 12:36:00 GMT x",
		"Sun, 30 Au",
		"Sun, 30 Aug 201",
		"",
	};
	size_t		i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
	{
		const char *names[] = {"Host", "Date", "Authorization"};
		const char *values[] = {"h", forms[i],
			"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/kinesis/aws4_request, "
		"SignedHeaders=host, Signature=00"};
		kgw_sigv4_request req;
		kgw_sigv4_parsed p;
		char		msg[1024];
		int			rc;

		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.path = "/";
		req.nheaders = 3;
		req.header_names = names;
		req.header_values = values;
		rc = kgw_sigv4_parse(&req, &p, NULL, 0, msg, sizeof(msg));
		check(rc == KGW_SIGV4_OK, forms[i], msg);
		check_str(p.amz_date, "20150830T123600Z", forms[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		const char *names[] = {"Host", "Date", "Authorization"};
		const char *values[] = {"h", bad[i],
			"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/kinesis/aws4_request, "
		"SignedHeaders=host, Signature=00"};
		kgw_sigv4_request req;
		kgw_sigv4_parsed p;
		char		type[128];
		int			rc;

		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.path = "/";
		req.nheaders = 3;
		req.header_names = names;
		req.header_values = values;
		rc = kgw_sigv4_parse(&req, &p, type, sizeof(type), NULL, 0);
		check(rc == KGW_SIGV4_INCOMPLETE &&
			  strcmp(type, "IncompleteSignatureException") == 0,
			  "bad Date rejected", bad[i]);
	}
}

/* Canonical URI: normalization and double encoding, as botocore does. */
static void
test_canonical_uri(void)
{
	static const char *const cases[][2] = {
		{"", "/"},
		{"/", "/"},
		{"//", "/"},
		{"/a/b/", "/a/b/"},
		{"/a//b", "/a/b"},
		{"/a/./b/../c", "/a/c"},
		{"/../..", "/"},
		{"/example%20space/", "/example%2520space/"},
		{"/a b", "/a%20b"},
		{"/~user/x_y-z.q", "/~user/x_y-z.q"},
		{"/a:b@c!$", "/a%3Ab%40c%21%24"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		kgw_sigv4_request req;
		kgw_sigv4_parsed p;
		char	   *cr;
		char		want[256];

		memset(&req, 0, sizeof(req));
		memset(&p, 0, sizeof(p));
		req.method = "post";
		req.path = cases[i][0];
		req.query = "";
		strcpy(p.signed_headers, "host");
		cr = kgw_sigv4_canonical_request(&req, &p);
		snprintf(want, sizeof(want), "POST\n%s\n\nhost:\n\nhost\n"
				 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
				 cases[i][1]);
		check_str(cr, want, cases[i][0]);
		free(cr);
	}
}

/* Query canonicalization: decoding, re-encoding, sorting. */
static void
test_canonical_query(void)
{
	static const char *const cases[][2] = {
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"a=2&a=1&a=10", "a=1&a=10&a=2"},
		{"a=b+c", "a=b%20c"},
		{"a=b%2Bc", "a=b%2Bc"},
		{"a=%7e%41", "a=~A"},
		{"flag&x=", "flag=&x="},
		{"&&a=1&", "a=1"},
		{"a=%zz", "a=%25zz"},
		{"k*=v/v", "k%2A=v%2Fv"},
		{"a-=1&a=2", "a=2&a-=1"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		kgw_sigv4_request req;
		kgw_sigv4_parsed p;
		char	   *cr;
		char		want[256];

		memset(&req, 0, sizeof(req));
		memset(&p, 0, sizeof(p));
		req.method = "GET";
		req.path = "/";
		req.query = cases[i][0];
		strcpy(p.signed_headers, "host");
		cr = kgw_sigv4_canonical_request(&req, &p);
		snprintf(want, sizeof(want), "GET\n/\n%s\nhost:\n\nhost\n"
				 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
				 cases[i][1]);
		check_str(cr, want, cases[i][0]);
		free(cr);
	}
}

/* Header canonicalization: trimming, repeats, :authority. */
static void
test_canonical_headers(void)
{
	const char *names[] = {":authority", "X-Multi", "x-multi", "X-Sp"};
	const char *values[] = {"host.example:8443", " a  b ", "c", "\t x \t y\t"};
	kgw_sigv4_request req;
	kgw_sigv4_parsed p;
	char	   *cr;

	memset(&req, 0, sizeof(req));
	memset(&p, 0, sizeof(p));
	req.method = "GET";
	req.path = "/";
	req.nheaders = 4;
	req.header_names = names;
	req.header_values = values;
	strcpy(p.signed_headers, "host;x-multi;x-sp;x-absent");
	cr = kgw_sigv4_canonical_request(&req, &p);
	check_str(cr, "GET\n/\n\nhost:host.example:8443\nx-multi:a b,c\n"
			  "x-sp:x y\nx-absent:\n\nhost;x-multi;x-sp;x-absent\n"
			  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			  "canonical headers");
	free(cr);
}

int
main(void)
{
	test_signing_key();
	test_iam_example();
	test_suite_case("get-vanilla", "GET", "",
					"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	test_suite_case("post-vanilla", "POST", "",
					"5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
	test_suite_case("get-vanilla-query-order-key-case", "GET",
					"Param2=value2&Param1=value1",
					"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	test_skew_boundaries();
	test_date_header();
	test_canonical_uri();
	test_canonical_query();
	test_canonical_headers();
	printf("%d passed, %d failed\n", npassed, nfailed);
	return nfailed == 0 ? 0 : 1;
}
