/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *		AWS Signature Version 4 verification for the Kinesis HTTP gateway.
 *
 * This file owns the server side of SigV4: finding the signature (the
 * Authorization header or the X-Amz-* parameters of a presigned URL),
 * parsing the credential scope, rebuilding the canonical request and the
 * string to sign exactly as the AWS SDKs do, deriving the signing key and
 * comparing signatures in constant time, plus the clock-skew and payload
 * hash checks.  Errors are reported with the AWS error type and message
 * that the real service sends, so SDKs behave the same against the
 * gateway as against AWS.
 *
 * The canonical request follows botocore's SigV4Auth (non-S3 services):
 *	- URI: the raw (still percent-encoded) path with dot segments and
 *	  empty segments removed, then percent-encoded once more per segment
 *	  (so "%20" becomes "%2520"), RFC 3986 unreserved characters kept;
 *	- query: each name and value percent-decoded ('+' is a space) and
 *	  re-encoded with only unreserved characters kept, sorted by name then
 *	  value, joined with '&' (X-Amz-Signature left out for presigned URLs);
 *	- headers: the signed header names, lowercased, each with all values of
 *	  that header in received order, whitespace trimmed and runs collapsed,
 *	  joined with ',';
 *	- payload: the X-Amz-Content-Sha256 header if present, otherwise the
 *	  hex SHA-256 of the body.
 *
 * Everything here is stateless and thread-safe.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "sigv4.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR	"aws4_request"
#define UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"

#define ETYPE_MISSING		"MissingAuthenticationTokenException"
#define ETYPE_INCOMPLETE	"IncompleteSignatureException"
#define ETYPE_INVALID		"InvalidSignatureException"
#define ETYPE_INTERNAL		"InternalFailure"

#define MSG_MISMATCH \
	"The request signature we calculated does not match the signature " \
	"you provided. Check your AWS Secret Access Key and signing method. " \
	"Consult the service documentation for details."

/* A growable NUL-terminated string; failed is set on out of memory. */
typedef struct sv_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} sv_buf;

/* A piece of some other string: not NUL-terminated, may hold NUL bytes. */
typedef struct sv_slice
{
	const char *p;
	size_t		n;
} sv_slice;

/* One query parameter: decoded and re-encoded forms. */
typedef struct sv_param
{
	char	   *name;			/* decoded, NUL-terminated (may embed NUL) */
	size_t		name_len;
	char	   *value;			/* decoded */
	size_t		value_len;
	char	   *enc_name;		/* canonical encoding */
	char	   *enc_value;
} sv_param;

typedef struct sv_params
{
	sv_param   *items;
	size_t		n;
} sv_params;

static const char hexdigits[] = "0123456789abcdef";


/* ----------------------------------------------------------------
 *		small utilities
 * ----------------------------------------------------------------
 */

/*
 * Make room for n more bytes (plus the terminating NUL) in b.  Once an
 * allocation failed the buffer stays failed and ignores appends, so
 * callers check b->failed once at the end.
 */
static bool
buf_reserve(sv_buf *b, size_t n)
{
	size_t		need;
	size_t		newcap;
	char	   *nd;

	if (b->failed)
		return false;
	need = b->len + n + 1;
	if (need <= b->cap)
		return true;
	newcap = b->cap ? b->cap : 256;
	while (newcap < need)
		newcap *= 2;
	nd = realloc(b->data, newcap);
	if (nd == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = nd;
	b->cap = newcap;
	return true;
}

/* Append n bytes to b. */
static void
buf_append(sv_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append a NUL-terminated string to b. */
static void
buf_appends(sv_buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* Append one character to b. */
static void
buf_appendc(sv_buf *b, char c)
{
	buf_append(b, &c, 1);
}

/* Release b's memory. */
static void
buf_free(sv_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/*
 * Fill the caller's error type and message buffers (either may be NULL)
 * and return rc, so that error paths are one statement.
 */
static int
set_error(int rc, char *err_type, size_t typelen, char *err_msg,
		  size_t msglen, const char *type, const char *fmt,...)
{
	va_list		ap;

	if (err_type && typelen > 0)
		snprintf(err_type, typelen, "%s", type);
	if (err_msg && msglen > 0)
	{
		va_start(ap, fmt);
		vsnprintf(err_msg, msglen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/*
 * Whitespace as Python's str.split() sees it in the ASCII range, which is
 * what botocore uses to trim and collapse header values.
 */
static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1f);
}

/* RFC 3986 unreserved characters: never percent-encoded. */
static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		c == '~';
}

/* Value of a hex digit, or -1. */
static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Write n bytes as lowercase hex plus a NUL into out (2n+1 bytes). */
static void
to_hex(const unsigned char *in, size_t n, char *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Percent-encode n bytes of s, keeping only unreserved characters. */
static void
uri_encode(sv_buf *b, const char *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_unreserved(c))
			buf_appendc(b, (char) c);
		else
		{
			char		e[3];

			e[0] = '%';
			e[1] = "0123456789ABCDEF"[c >> 4];
			e[2] = "0123456789ABCDEF"[c & 15];
			buf_append(b, e, 3);
		}
	}
}

/*
 * Percent-decode n bytes of s into a malloc'd NUL-terminated string
 * (*outlen gets its length, which may include NUL bytes).  '+' decodes to
 * a space, as in form encoding: botocore puts request parameters into the
 * URL with urlencode() (space as '+') but signs them as "%20".  Invalid
 * escapes are kept literally, as Python's unquote() does.
 */
static char *
pct_decode(const char *s, size_t n, size_t *outlen)
{
	char	   *out = malloc(n + 1);
	size_t		i,
				j = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
	{
		if (s[i] == '%' && i + 2 < n &&
			hexval((unsigned char) s[i + 1]) >= 0 &&
			hexval((unsigned char) s[i + 2]) >= 0)
		{
			out[j++] = (char) (hexval((unsigned char) s[i + 1]) * 16 +
							   hexval((unsigned char) s[i + 2]));
			i += 2;
		}
		else if (s[i] == '+')
			out[j++] = ' ';
		else
			out[j++] = s[i];
	}
	out[j] = '\0';
	*outlen = j;
	return out;
}

/* Does slice s equal the NUL-terminated string lit? */
static bool
slice_eq(sv_slice s, const char *lit)
{
	size_t		n = strlen(lit);

	return s.p != NULL && s.n == n && memcmp(s.p, lit, n) == 0;
}

/*
 * First value of header name (case-insensitive), or NULL.  The gateway
 * passes headers as received, so repeated headers are possible; callers
 * needing all of them iterate themselves.
 */
static const char *
find_header(const kgw_sigv4_request *req, const char *name)
{
	size_t		i;

	for (i = 0; i < req->nheaders; i++)
	{
		if (req->header_names[i] && req->header_values[i] &&
			strcasecmp(req->header_names[i], name) == 0)
			return req->header_values[i];
	}
	return NULL;
}

/* ----------------------------------------------------------------
 *		time
 * ----------------------------------------------------------------
 */

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * well-known civil-date algorithm, written out here); avoids timegm() and
 * the TZ environment.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Is (y, m, d) a real calendar date? */
static bool
valid_date(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			lim;

	if (m < 1 || m > 12 || d < 1)
		return false;
	lim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		lim = 29;
	return d <= lim;
}

/* Parse n ASCII digits at s; -1 if any is not a digit. */
static int
parse_digits(const char *s, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Epoch seconds of a validated UTC broken-down time. */
static time_t
make_time(int y, int mo, int d, int h, int mi, int s)
{
	return (time_t) (days_from_civil(y, mo, d) * 86400 +
					 h * 3600 + mi * 60 + s);
}

/*
 * Parse the ISO 8601 basic format SigV4 uses, "YYYYMMDDTHHMMSSZ",
 * strictly.  Returns false if s is anything else.
 */
static bool
parse_iso_basic(const char *s, time_t *t)
{
	int			y,
				mo,
				d,
				h,
				mi,
				sec;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	y = parse_digits(s, 4);
	mo = parse_digits(s + 4, 2);
	d = parse_digits(s + 6, 2);
	h = parse_digits(s + 9, 2);
	mi = parse_digits(s + 11, 2);
	sec = parse_digits(s + 13, 2);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0)
		return false;
	if (!valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 60)
		return false;
	*t = make_time(y, mo, d, h, mi, sec);
	return true;
}

/*
 * Parse an HTTP Date header: RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT",
 * also with a numeric zone ("-0000", as Python's formatdate() writes, or
 * "+0200"), the day name optional.  The SigV4 basic format is accepted
 * too.  Returns false if unparseable.
 */
static bool
parse_http_date(const char *s, time_t *t)
{
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec"};
	const char *p = s;
	int			d = 0,
				mo = 0,
				y,
				h,
				mi,
				sec,
				nd = 0,
				i;
	long		off = 0;

	while (*p == ' ')
		p++;
	if (parse_iso_basic(p, t))
		return true;
	/* optional day name and comma */
	if (isalpha((unsigned char) *p))
	{
		while (isalpha((unsigned char) *p))
			p++;
		if (*p != ',')
			return false;
		p++;
	}
	while (*p == ' ')
		p++;
	while (nd < 2 && *p >= '0' && *p <= '9')
	{
		d = d * 10 + (*p++ - '0');
		nd++;
	}
	if (nd == 0 || *p++ != ' ')
		return false;
	for (i = 0; i < 12; i++)
	{
		if (strncasecmp(p, months[i], 3) == 0)
		{
			mo = i + 1;
			break;
		}
	}
	if (mo == 0 || p[3] != ' ')
		return false;
	p += 4;
	y = parse_digits(p, 4);
	if (y < 0 || p[4] != ' ')
		return false;
	p += 5;
	/* one field at a time: never look past the terminating NUL */
	h = parse_digits(p, 2);
	if (h < 0 || p[2] != ':')
		return false;
	mi = parse_digits(p + 3, 2);
	if (mi < 0 || p[5] != ':')
		return false;
	sec = parse_digits(p + 6, 2);
	if (sec < 0)
		return false;
	p += 8;
	if (!valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 60)
		return false;
	while (*p == ' ')
		p++;
	if (*p == '+' || *p == '-')
	{
		int			zh = parse_digits(p + 1, 2);
		int			zm = zh < 0 ? -1 : parse_digits(p + 3, 2);

		if (zh < 0 || zm < 0 || zm > 59)
			return false;
		off = (zh * 3600L + zm * 60L) * (*p == '-' ? -1 : 1);
		p += 5;
	}
	else if (strncmp(p, "GMT", 3) == 0 || strncmp(p, "UTC", 3) == 0)
		p += 3;
	else if (strncmp(p, "UT", 2) == 0)
		p += 2;
	else if (*p == 'Z')
		p++;
	else
		return false;
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return false;
	*t = make_time(y, mo, d, h, mi, sec) - off;
	return true;
}

/* Write v as n decimal digits (zero-padded) at out. */
static void
put_digits(char *out, int v, int n)
{
	while (n-- > 0)
	{
		out[n] = (char) ('0' + v % 10);
		v /= 10;
	}
}

/* Format epoch seconds t as "YYYYMMDDTHHMMSSZ" into out[17]. */
static void
format_iso_basic(time_t t, char out[17])
{
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
		tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
	{
		strcpy(out, "00000000T000000Z");
		return;
	}
	put_digits(out, tm.tm_year + 1900, 4);
	put_digits(out + 4, tm.tm_mon + 1, 2);
	put_digits(out + 6, tm.tm_mday, 2);
	out[8] = 'T';
	put_digits(out + 9, tm.tm_hour, 2);
	put_digits(out + 11, tm.tm_min, 2);
	put_digits(out + 13, tm.tm_sec, 2);
	out[15] = 'Z';
	out[16] = '\0';
}

/* ----------------------------------------------------------------
 *		query string
 * ----------------------------------------------------------------
 */

/* Free everything parse_query() allocated. */
static void
free_params(sv_params *ps)
{
	size_t		i;

	for (i = 0; i < ps->n; i++)
	{
		free(ps->items[i].name);
		free(ps->items[i].value);
		free(ps->items[i].enc_name);
		free(ps->items[i].enc_value);
	}
	free(ps->items);
	ps->items = NULL;
	ps->n = 0;
}

/* Percent-encode n bytes into a fresh malloc'd string (NULL on OOM). */
static char *
encode_dup(const char *s, size_t n)
{
	sv_buf		b = {0};

	if (buf_reserve(&b, n))
		b.data[0] = '\0';
	uri_encode(&b, s, n);
	if (b.failed)
	{
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

/*
 * Split a raw query string into parameters, each decoded and re-encoded
 * canonically.  Empty segments ("a=1&&b=2", a trailing '&') are skipped;
 * a segment without '=' is a name with an empty value.  Returns false on
 * out of memory.
 */
static bool
parse_query(const char *query, sv_params *out)
{
	const char *p = query ? query : "";
	size_t		cap = 0;

	out->items = NULL;
	out->n = 0;
	while (*p)
	{
		const char *amp = strchr(p, '&');
		size_t		seglen = amp ? (size_t) (amp - p) : strlen(p);
		const char *eq;
		size_t		nlen;
		sv_param   *it;

		if (seglen > 0)
		{
			if (out->n == cap)
			{
				size_t		ncap = cap ? cap * 2 : 8;
				sv_param   *ni = realloc(out->items, ncap * sizeof(sv_param));

				if (ni == NULL)
					goto oom;
				out->items = ni;
				cap = ncap;
			}
			it = &out->items[out->n];
			memset(it, 0, sizeof(*it));
			out->n++;
			eq = memchr(p, '=', seglen);
			nlen = eq ? (size_t) (eq - p) : seglen;
			it->name = pct_decode(p, nlen, &it->name_len);
			if (eq)
				it->value = pct_decode(eq + 1, seglen - nlen - 1,
									   &it->value_len);
			else
				it->value = pct_decode("", 0, &it->value_len);
			if (it->name == NULL || it->value == NULL)
				goto oom;
			it->enc_name = encode_dup(it->name, it->name_len);
			it->enc_value = encode_dup(it->value, it->value_len);
			if (it->enc_name == NULL || it->enc_value == NULL)
				goto oom;
		}
		p += seglen;
		if (*p == '&')
			p++;
	}
	return true;

oom:
	free_params(out);
	return false;
}

/* First parameter whose decoded name is exactly name, or NULL. */
static const sv_param *
find_param(const sv_params *ps, const char *name)
{
	size_t		i;
	size_t		n = strlen(name);

	for (i = 0; i < ps->n; i++)
	{
		if (ps->items[i].name_len == n &&
			memcmp(ps->items[i].name, name, n) == 0)
			return &ps->items[i];
	}
	return NULL;
}

/* qsort comparator: by encoded name, then encoded value (bytewise). */
static int
param_cmp(const void *a, const void *b)
{
	const sv_param *pa = *(const sv_param *const *) a;
	const sv_param *pb = *(const sv_param *const *) b;
	int			c = strcmp(pa->enc_name, pb->enc_name);

	if (c != 0)
		return c;
	return strcmp(pa->enc_value, pb->enc_value);
}

/*
 * Append the canonical query string: parameters sorted by encoded name
 * then value, "name=value" joined with '&'.  For presigned URLs the
 * X-Amz-Signature parameter is not part of what was signed.
 */
static void
canonical_query(sv_buf *b, const char *query, bool presigned)
{
	sv_params	ps;
	const sv_param **v;
	size_t		i,
				n = 0;

	if (!parse_query(query, &ps))
	{
		b->failed = true;
		return;
	}
	if (ps.n == 0)
		return;
	v = malloc(ps.n * sizeof(*v));
	if (v == NULL)
	{
		b->failed = true;
		free_params(&ps);
		return;
	}
	for (i = 0; i < ps.n; i++)
	{
		if (presigned && strcmp(ps.items[i].name, "X-Amz-Signature") == 0 &&
			ps.items[i].name_len == strlen("X-Amz-Signature"))
			continue;
		v[n++] = &ps.items[i];
	}
	qsort(v, n, sizeof(*v), param_cmp);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			buf_appendc(b, '&');
		buf_appends(b, v[i]->enc_name);
		buf_appendc(b, '=');
		buf_appends(b, v[i]->enc_value);
	}
	free(v);
	free_params(&ps);
}

/* ----------------------------------------------------------------
 *		canonical request
 * ----------------------------------------------------------------
 */

/*
 * Append the canonical URI for a raw request path, as botocore computes
 * it for every service but S3: remove "." and ".." segments and empty
 * segments (consecutive slashes), keep a leading and (if anything is
 * left) a trailing slash, then percent-encode each segment again.  An
 * empty path is "/".
 */
static void
canonical_uri(sv_buf *b, const char *path)
{
	size_t		plen = path ? strlen(path) : 0;
	sv_slice   *segs;
	size_t		nseg = 0,
				i;
	const char *p;

	if (plen == 0)
	{
		buf_appendc(b, '/');
		return;
	}
	segs = malloc((plen / 2 + 2) * sizeof(sv_slice));
	if (segs == NULL)
	{
		b->failed = true;
		return;
	}
	p = path;
	while (p <= path + plen)
	{
		const char *slash = memchr(p, '/', (size_t) (path + plen - p));
		size_t		n = slash ? (size_t) (slash - p) : (size_t) (path + plen - p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
		{
			if (nseg > 0)
				nseg--;
		}
		else if (n > 0 && !(n == 1 && p[0] == '.'))
		{
			segs[nseg].p = p;
			segs[nseg].n = n;
			nseg++;
		}
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (path[0] == '/')
		buf_appendc(b, '/');
	for (i = 0; i < nseg; i++)
	{
		if (i > 0)
			buf_appendc(b, '/');
		uri_encode(b, segs[i].p, segs[i].n);
	}
	if (path[plen - 1] == '/' && nseg > 0)
		buf_appendc(b, '/');
	free(segs);
}

/* Append v with leading/trailing whitespace dropped and runs collapsed. */
static void
append_trimmed(sv_buf *b, const char *v)
{
	bool		any = false;
	bool		pending = false;

	for (; *v; v++)
	{
		if (is_ws((unsigned char) *v))
		{
			if (any)
				pending = true;
			continue;
		}
		if (pending)
			buf_appendc(b, ' ');
		pending = false;
		buf_appendc(b, *v);
		any = true;
	}
}

/*
 * Append "name:value\n" for one signed header: all values of the header
 * in received order, each trimmed, joined with ','.  A signed "host"
 * missing from the request is taken from an HTTP/2 ":authority".  A
 * signed header absent from the request gets an empty value (and the
 * signature will not match).
 */
static void
canonical_header(sv_buf *b, const kgw_sigv4_request *req,
				 const char *name, size_t nlen)
{
	size_t		i;
	int			pass;
	bool		first = true;

	for (i = 0; i < nlen; i++)
		buf_appendc(b, (char) tolower((unsigned char) name[i]));
	buf_appendc(b, ':');
	for (pass = 0; pass < 2 && first; pass++)
	{
		const char *want = name;
		size_t		wlen = nlen;

		if (pass == 1)
		{
			if (!(nlen == 4 && strncasecmp(name, "host", 4) == 0))
				break;
			want = ":authority";
			wlen = strlen(want);
		}
		for (i = 0; i < req->nheaders; i++)
		{
			const char *hn = req->header_names[i];

			if (hn == NULL || req->header_values[i] == NULL)
				continue;
			if (strlen(hn) != wlen || strncasecmp(hn, want, wlen) != 0)
				continue;
			if (!first)
				buf_appendc(b, ',');
			append_trimmed(b, req->header_values[i]);
			first = false;
		}
	}
	buf_appendc(b, '\n');
}

/*
 * The payload hash that goes into the canonical request: the
 * X-Amz-Content-Sha256 header verbatim if present (as botocore does),
 * else the hex SHA-256 of the body.  out must hold 65 bytes; returns the
 * header value or out.
 */
static const char *
payload_hash(const kgw_sigv4_request *req, char out[65])
{
	const char *h = find_header(req, "x-amz-content-sha256");
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (h != NULL)
		return h;
	SHA256(req->body ? req->body : (const unsigned char *) "",
		   req->body_len, md);
	to_hex(md, sizeof(md), out);
	return out;
}

/*
 * Build the canonical request into b:
 *	METHOD \n URI \n QUERY \n HEADERS... \n SIGNED_HEADERS \n PAYLOAD_HASH
 */
static void
build_canonical(sv_buf *b, const kgw_sigv4_request *req,
				const kgw_sigv4_parsed *p)
{
	const char *m;
	const char *sh;
	char		hbuf[65];

	for (m = req->method ? req->method : ""; *m; m++)
		buf_appendc(b, (char) toupper((unsigned char) *m));
	buf_appendc(b, '\n');
	canonical_uri(b, req->path);
	buf_appendc(b, '\n');
	canonical_query(b, req->query, p->auth_kind == KGW_SIGV4_AUTH_QUERY);
	buf_appendc(b, '\n');
	sh = p->signed_headers;
	while (*sh)
	{
		const char *semi = strchr(sh, ';');
		size_t		n = semi ? (size_t) (semi - sh) : strlen(sh);

		canonical_header(b, req, sh, n);
		sh += n;
		if (*sh == ';')
			sh++;
	}
	buf_appendc(b, '\n');
	buf_appends(b, p->signed_headers);
	buf_appendc(b, '\n');
	buf_appends(b, payload_hash(req, hbuf));
}

/*
 * Build the string to sign into b:
 *	AWS4-HMAC-SHA256 \n AMZ_DATE \n SCOPE \n hex(SHA256(canonical request))
 */
static void
build_string_to_sign(sv_buf *b, const kgw_sigv4_request *req,
					 const kgw_sigv4_parsed *p)
{
	sv_buf		cr = {0};
	unsigned char md[SHA256_DIGEST_LENGTH];
	char		hex[65];

	build_canonical(&cr, req, p);
	if (cr.failed)
	{
		b->failed = true;
		buf_free(&cr);
		return;
	}
	SHA256((const unsigned char *) cr.data, cr.len, md);
	buf_free(&cr);
	to_hex(md, sizeof(md), hex);
	buf_appends(b, SIGV4_ALGORITHM "\n");
	buf_appends(b, p->amz_date);
	buf_appendc(b, '\n');
	buf_appends(b, p->date);
	buf_appendc(b, '/');
	buf_appends(b, p->region);
	buf_appendc(b, '/');
	buf_appends(b, p->service);
	buf_appends(b, "/" SIGV4_TERMINATOR "\n");
	buf_appends(b, hex);
}

char *
kgw_sigv4_canonical_request(const kgw_sigv4_request *req,
							const kgw_sigv4_parsed *p)
{
	sv_buf		b = {0};

	build_canonical(&b, req, p);
	if (b.failed)
	{
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

char *
kgw_sigv4_string_to_sign(const kgw_sigv4_request *req,
						 const kgw_sigv4_parsed *p)
{
	sv_buf		b = {0};

	build_string_to_sign(&b, req, p);
	if (b.failed)
	{
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* ----------------------------------------------------------------
 *		keys
 * ----------------------------------------------------------------
 */

/* out = HMAC-SHA256(key, msg); false on failure. */
static bool
hmac256(const unsigned char *key, size_t keylen, const void *msg,
		size_t msglen, unsigned char out[32])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), key, (int) keylen, msg, msglen, out,
			 &outlen) == NULL || outlen != 32)
		return false;
	return true;
}

/*
 * Derive the signing key.  The intermediate keys and the "AWS4"+secret
 * copy are wiped afterwards.
 */
bool
kgw_sigv4_signing_key(const char *secret, const char *date,
					  const char *region, const char *service,
					  unsigned char out[32])
{
	size_t		slen = strlen(secret);
	unsigned char *k0 = malloc(slen + 4);
	unsigned char k1[32],
				k2[32],
				k3[32];
	bool		ok;

	if (k0 == NULL)
		return false;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, slen);
	ok = hmac256(k0, slen + 4, date, strlen(date), k1) &&
		hmac256(k1, 32, region, strlen(region), k2) &&
		hmac256(k2, 32, service, strlen(service), k3) &&
		hmac256(k3, 32, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), out);
	OPENSSL_cleanse(k0, slen + 4);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(k3, sizeof(k3));
	free(k0);
	return ok;
}

/* ----------------------------------------------------------------
 *		parse
 * ----------------------------------------------------------------
 */

/*
 * Find the Credential, SignedHeaders and Signature components of an
 * Authorization header value "ALG Credential=..., SignedHeaders=...,
 * Signature=...".  Components are separated by ',' with optional
 * whitespace; the first occurrence of each wins.  The algorithm is the
 * first whitespace-delimited token.
 */
static void
split_auth_header(const char *auth, sv_slice *alg, sv_slice *cred,
				  sv_slice *sh, sv_slice *sig)
{
	const char *p = auth;

	while (is_ws((unsigned char) *p))
		p++;
	alg->p = p;
	while (*p && !is_ws((unsigned char) *p))
		p++;
	alg->n = (size_t) (p - alg->p);
	while (*p)
	{
		const char *end;
		const char *eq;
		sv_slice	key,
					val;

		while (is_ws((unsigned char) *p) || *p == ',')
			p++;
		end = p;
		while (*end && *end != ',')
			end++;
		eq = memchr(p, '=', (size_t) (end - p));
		if (eq != NULL)
		{
			key.p = p;
			key.n = (size_t) (eq - p);
			while (key.n > 0 && is_ws((unsigned char) key.p[key.n - 1]))
				key.n--;
			val.p = eq + 1;
			val.n = (size_t) (end - val.p);
			while (val.n > 0 && is_ws((unsigned char) *val.p))
			{
				val.p++;
				val.n--;
			}
			while (val.n > 0 && is_ws((unsigned char) val.p[val.n - 1]))
				val.n--;
			if (slice_eq(key, "Credential") && cred->p == NULL)
				*cred = val;
			else if (slice_eq(key, "SignedHeaders") && sh->p == NULL)
				*sh = val;
			else if (slice_eq(key, "Signature") && sig->p == NULL)
				*sig = val;
		}
		p = end;
	}
	/* an empty component counts as absent */
	if (cred->p && cred->n == 0)
		cred->p = NULL;
	if (sh->p && sh->n == 0)
		sh->p = NULL;
	if (sig->p && sig->n == 0)
		sig->p = NULL;
}

/* Copy slice s into a buffer of size cap; false if it does not fit. */
static bool
copy_slice(char *dst, size_t cap, sv_slice s)
{
	if (s.n >= cap || memchr(s.p, '\0', s.n) != NULL)
		return false;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return true;
}

/*
 * The checks shared by header and query authentication, once the pieces
 * are found: credential scope, request date, signed headers, signature.
 * date_src is the raw X-Amz-Date (or Date, if is_http_date) text.
 */
static int
parse_common(const kgw_sigv4_request *req, kgw_sigv4_parsed *out,
			 sv_slice cred, sv_slice sh, sv_slice sig,
			 const char *date_src, bool is_http_date,
			 char *err_type, size_t typelen, char *err_msg, size_t msglen)
{
	sv_slice	parts[5];
	int			nparts = 0;
	size_t		i,
				start = 0;
	const char *expected_service;
	bool		has_host = false;
	const char *h;

	/* Credential: AKID/date/region/service/aws4_request */
	for (i = 0; i <= cred.n; i++)
	{
		if (i == cred.n || cred.p[i] == '/')
		{
			if (nparts < 5)
			{
				parts[nparts].p = cred.p + start;
				parts[nparts].n = i - start;
			}
			nparts++;
			start = i + 1;
		}
	}
	if (nparts != 5)
		return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen, err_msg,
						 msglen, ETYPE_INCOMPLETE,
						 "Credential must have exactly 5 slash-delimited "
						 "elements, e.g. keyid/date/region/service/term, "
						 "got '%.*s'", (int) cred.n, cred.p);

	/* request time */
	if (is_http_date)
	{
		if (!parse_http_date(date_src, &out->request_time))
			return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen,
							 err_msg, msglen, ETYPE_INCOMPLETE,
							 "Date must be in ISO-8601 'basic format' or "
							 "RFC 1123 format. Got '%s'.", date_src);
	}
	else if (!parse_iso_basic(date_src, &out->request_time))
		return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen, err_msg,
						 msglen, ETYPE_INCOMPLETE,
						 "Date must be in ISO-8601 'basic format'. Got '%s'. "
						 "See http://en.wikipedia.org/wiki/ISO_8601",
						 date_src);
	format_iso_basic(out->request_time, out->amz_date);

	if (!slice_eq(parts[4], SIGV4_TERMINATOR))
		return set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "Credential should be scoped with a valid "
						 "terminator: 'aws4_request', not '%.*s'. ",
						 (int) parts[4].n, parts[4].p);
	if (parts[1].n != 8 || memcmp(parts[1].p, out->amz_date, 8) != 0)
		return set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "Date in Credential scope does not match YYYYMMDD "
						 "from ISO-8601 version of date from HTTP: '%.*s' != "
						 "'%.8s', from '%s'.", (int) parts[1].n, parts[1].p,
						 out->amz_date, out->amz_date);
	memcpy(out->date, out->amz_date, 8);
	out->date[8] = '\0';

	expected_service = req->service ? req->service : KGW_SIGV4_DEFAULT_SERVICE;
	if (!slice_eq(parts[3], expected_service) ||
		!copy_slice(out->service, sizeof(out->service), parts[3]))
		return set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "Credential should be scoped to correct service: "
						 "'%s'. ", expected_service);
	if (parts[2].n == 0 ||
		!copy_slice(out->region, sizeof(out->region), parts[2]))
		return set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "Credential should be scoped to a valid region, "
						 "not '%.*s'. ", (int) parts[2].n, parts[2].p);
	if (parts[0].n == 0 ||
		!copy_slice(out->access_key, sizeof(out->access_key), parts[0]))
		return set_error(KGW_SIGV4_UNRECOGNIZED, err_type, typelen, err_msg,
						 msglen, KGW_SIGV4_UNRECOGNIZED_CLIENT_TYPE, "%s",
						 KGW_SIGV4_UNRECOGNIZED_CLIENT_MSG);

	/* signed headers: must fit, and must include host */
	if (!copy_slice(out->signed_headers, sizeof(out->signed_headers), sh))
		return set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "SignedHeaders is too long or malformed.");
	h = out->signed_headers;
	while (*h)
	{
		const char *semi = strchr(h, ';');
		size_t		n = semi ? (size_t) (semi - h) : strlen(h);

		if ((n == 4 && strncasecmp(h, "host", 4) == 0) ||
			(n == 10 && strncasecmp(h, ":authority", 10) == 0))
			has_host = true;
		h += n;
		if (*h == ';')
			h++;
	}
	if (!has_host)
		return set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "'Host' or ':authority' must be a 'SignedHeader' "
						 "in the AWS Authorization.");

	/* signature: keep it even when malformed; verify reports a mismatch */
	out->signature_ok = (sig.n == 64);
	for (i = 0; i < sig.n && i < 64; i++)
	{
		unsigned char c = (unsigned char) sig.p[i];

		if (hexval(c) < 0)
			out->signature_ok = false;
		out->signature[i] = (char) tolower(c);
	}
	out->signature[i] = '\0';
	return KGW_SIGV4_OK;
}

/* Authorization header authentication. */
static int
parse_header_auth(const kgw_sigv4_request *req, const char *auth,
				  kgw_sigv4_parsed *out, char *err_type, size_t typelen,
				  char *err_msg, size_t msglen)
{
	sv_slice	alg = {NULL, 0},
				cred = {NULL, 0},
				sh = {NULL, 0},
				sig = {NULL, 0};
	const char *amzdate = find_header(req, "x-amz-date");
	const char *date = find_header(req, "date");

	split_auth_header(auth, &alg, &cred, &sh, &sig);
	if (cred.p == NULL || sh.p == NULL || sig.p == NULL ||
		(amzdate == NULL && date == NULL))
	{
		sv_buf		m = {0};
		int			rc;

		if (cred.p == NULL)
			buf_appends(&m, "Authorization header requires 'Credential' "
						"parameter. ");
		if (sig.p == NULL)
			buf_appends(&m, "Authorization header requires 'Signature' "
						"parameter. ");
		if (sh.p == NULL)
			buf_appends(&m, "Authorization header requires 'SignedHeaders' "
						"parameter. ");
		if (amzdate == NULL && date == NULL)
			buf_appends(&m, "Authorization header requires existence of "
						"either a 'X-Amz-Date' or a 'Date' header. ");
		buf_appends(&m, "Authorization=");
		buf_appends(&m, auth);
		if (m.failed)
			rc = set_error(KGW_SIGV4_ERROR, err_type, typelen, err_msg,
						   msglen, ETYPE_INTERNAL, "out of memory");
		else
			rc = set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen, err_msg,
						   msglen, ETYPE_INCOMPLETE, "%s", m.data);
		buf_free(&m);
		return rc;
	}
	if (!slice_eq(alg, SIGV4_ALGORITHM))
		return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen, err_msg,
						 msglen, ETYPE_INCOMPLETE,
						 "Unsupported AWS 'algorithm': '%.*s'. Only '"
						 SIGV4_ALGORITHM "' is supported.",
						 (int) alg.n, alg.p);
	out->auth_kind = KGW_SIGV4_AUTH_HEADER;
	out->has_security_token =
		(find_header(req, "x-amz-security-token") != NULL);
	if (amzdate != NULL)
		return parse_common(req, out, cred, sh, sig, amzdate, false,
							err_type, typelen, err_msg, msglen);
	return parse_common(req, out, cred, sh, sig, date, true,
						err_type, typelen, err_msg, msglen);
}

/* Presigned URL (query string) authentication. */
static int
parse_query_auth(const kgw_sigv4_request *req, const sv_params *ps,
				 kgw_sigv4_parsed *out, char *err_type, size_t typelen,
				 char *err_msg, size_t msglen)
{
	const sv_param *alg = find_param(ps, "X-Amz-Algorithm");
	const sv_param *cred = find_param(ps, "X-Amz-Credential");
	const sv_param *sig = find_param(ps, "X-Amz-Signature");
	const sv_param *sh = find_param(ps, "X-Amz-SignedHeaders");
	const sv_param *date = find_param(ps, "X-Amz-Date");
	const sv_param *exp = find_param(ps, "X-Amz-Expires");
	sv_slice	scred,
				ssh,
				ssig;

	if (cred == NULL || sig == NULL || sh == NULL || date == NULL)
	{
		sv_buf		m = {0};
		int			rc;

		if (cred == NULL)
			buf_appends(&m, "AWS query-string parameters must include "
						"'X-Amz-Credential'. ");
		if (sig == NULL)
			buf_appends(&m, "AWS query-string parameters must include "
						"'X-Amz-Signature'. ");
		if (sh == NULL)
			buf_appends(&m, "AWS query-string parameters must include "
						"'X-Amz-SignedHeaders'. ");
		if (date == NULL)
			buf_appends(&m, "AWS query-string parameters must include "
						"'X-Amz-Date'. ");
		buf_appends(&m, "Re-examine the query-string parameters.");
		if (m.failed)
			rc = set_error(KGW_SIGV4_ERROR, err_type, typelen, err_msg,
						   msglen, ETYPE_INTERNAL, "out of memory");
		else
			rc = set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen, err_msg,
						   msglen, ETYPE_INCOMPLETE, "%s", m.data);
		buf_free(&m);
		return rc;
	}
	if (strcmp(alg->value, SIGV4_ALGORITHM) != 0 ||
		alg->value_len != strlen(SIGV4_ALGORITHM))
		return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen, err_msg,
						 msglen, ETYPE_INCOMPLETE,
						 "X-Amz-Algorithm only supports \"" SIGV4_ALGORITHM
						 "\"");
	if (exp != NULL)
	{
		size_t		i;
		long		v = 0;

		if (exp->value_len == 0)
			return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen,
							 err_msg, msglen, ETYPE_INCOMPLETE,
							 "X-Amz-Expires should be a number");
		if (exp->value[0] == '-')
			return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen,
							 err_msg, msglen, ETYPE_INCOMPLETE,
							 "X-Amz-Expires must be non-negative");
		for (i = 0; i < exp->value_len; i++)
		{
			if (exp->value[i] < '0' || exp->value[i] > '9')
				return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen,
								 err_msg, msglen, ETYPE_INCOMPLETE,
								 "X-Amz-Expires should be a number");
			if (v <= KGW_SIGV4_MAX_EXPIRES)
				v = v * 10 + (exp->value[i] - '0');
		}
		if (v > KGW_SIGV4_MAX_EXPIRES)
			return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen,
							 err_msg, msglen, ETYPE_INCOMPLETE,
							 "X-Amz-Expires must be less than a week (in "
							 "seconds) that is %d", KGW_SIGV4_MAX_EXPIRES);
		out->expires = v;
	}
	out->auth_kind = KGW_SIGV4_AUTH_QUERY;
	out->has_security_token =
		(find_param(ps, "X-Amz-Security-Token") != NULL);
	scred.p = cred->value;
	scred.n = cred->value_len;
	ssh.p = sh->value;
	ssh.n = sh->value_len;
	ssig.p = sig->value;
	ssig.n = sig->value_len;
	if (memchr(date->value, '\0', date->value_len) != NULL)
		return set_error(KGW_SIGV4_INCOMPLETE, err_type, typelen, err_msg,
						 msglen, ETYPE_INCOMPLETE,
						 "Date must be in ISO-8601 'basic format'.");
	return parse_common(req, out, scred, ssh, ssig, date->value, false,
						err_type, typelen, err_msg, msglen);
}

int
kgw_sigv4_parse(const kgw_sigv4_request *req, kgw_sigv4_parsed *out,
				char *err_type, size_t typelen, char *err_msg, size_t msglen)
{
	const char *auth;
	sv_params	ps;
	bool		has_qalg;
	int			rc;

	memset(out, 0, sizeof(*out));
	out->expires = -1;
	if (err_type && typelen > 0)
		err_type[0] = '\0';
	if (err_msg && msglen > 0)
		err_msg[0] = '\0';

	auth = find_header(req, "authorization");
	if (!parse_query(req->query, &ps))
		return set_error(KGW_SIGV4_ERROR, err_type, typelen, err_msg,
						 msglen, ETYPE_INTERNAL, "out of memory");
	has_qalg = (find_param(&ps, "X-Amz-Algorithm") != NULL);

	if (auth != NULL && has_qalg)
		rc = set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg, msglen,
					   ETYPE_INVALID,
					   "Found both 'X-Amz-Algorithm' as a query-string param "
					   "and 'Authorization' as HTTP header.");
	else if (auth == NULL && !has_qalg)
		rc = set_error(KGW_SIGV4_MISSING, err_type, typelen, err_msg, msglen,
					   ETYPE_MISSING, "Missing Authentication Token");
	else if (auth != NULL)
		rc = parse_header_auth(req, auth, out, err_type, typelen,
							   err_msg, msglen);
	else
		rc = parse_query_auth(req, &ps, out, err_type, typelen,
							  err_msg, msglen);
	free_params(&ps);
	return rc;
}

/* ----------------------------------------------------------------
 *		verify
 * ----------------------------------------------------------------
 */

/*
 * Check the request time against now.  Header-signed requests may be 15
 * minutes early or late; a presigned URL is valid from 15 minutes before
 * X-Amz-Date until X-Amz-Expires seconds after it (15 minutes if the
 * parameter is absent).
 */
static int
check_time(const kgw_sigv4_parsed *p, time_t now, char *err_type,
		   size_t typelen, char *err_msg, size_t msglen)
{
	char		nowstr[17],
				limstr[17];
	long		back = KGW_SIGV4_MAX_SKEW;

	if (p->auth_kind == KGW_SIGV4_AUTH_QUERY && p->expires >= 0)
		back = p->expires;
	format_iso_basic(now, nowstr);
	if ((int64_t) p->request_time < (int64_t) now - back)
	{
		format_iso_basic(now - back, limstr);
		if (back == KGW_SIGV4_MAX_SKEW)
			return set_error(KGW_SIGV4_EXPIRED, err_type, typelen, err_msg,
							 msglen, ETYPE_INVALID,
							 "Signature expired: %s is now earlier than %s "
							 "(%s - 15 min.)", p->amz_date, limstr, nowstr);
		return set_error(KGW_SIGV4_EXPIRED, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "Signature expired: %s is now earlier than %s "
						 "(%s - %ld sec.)", p->amz_date, limstr, nowstr, back);
	}
	if ((int64_t) p->request_time > (int64_t) now + KGW_SIGV4_MAX_SKEW)
	{
		format_iso_basic(now + KGW_SIGV4_MAX_SKEW, limstr);
		return set_error(KGW_SIGV4_EXPIRED, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "Signature not yet current: %s is still later than "
						 "%s (%s + 15 min.)", p->amz_date, limstr, nowstr);
	}
	return KGW_SIGV4_OK;
}

/*
 * If the client sent X-Amz-Content-Sha256 (other than UNSIGNED-PAYLOAD),
 * it signed that value instead of hashing the body itself, so the body
 * must be checked against it here.
 */
static int
check_payload(const kgw_sigv4_request *req, char *err_type, size_t typelen,
			  char *err_msg, size_t msglen)
{
	const char *h = find_header(req, "x-amz-content-sha256");
	unsigned char md[SHA256_DIGEST_LENGTH];
	char		hex[65];

	if (h == NULL || strcmp(h, UNSIGNED_PAYLOAD) == 0)
		return KGW_SIGV4_OK;
	SHA256(req->body ? req->body : (const unsigned char *) "",
		   req->body_len, md);
	to_hex(md, sizeof(md), hex);
	if (strlen(h) != 64 || strncasecmp(h, hex, 64) != 0)
		return set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID,
						 "The provided 'x-amz-content-sha256' header does "
						 "not match what was computed.");
	return KGW_SIGV4_OK;
}

int
kgw_sigv4_verify_with_key(const kgw_sigv4_request *req,
						  const kgw_sigv4_parsed *p,
						  const unsigned char key[32], time_t now,
						  char *err_type, size_t typelen,
						  char *err_msg, size_t msglen)
{
	sv_buf		sts = {0};
	unsigned char mac[32];
	char		hex[65];
	int			rc;
	bool		ok;

	if (err_type && typelen > 0)
		err_type[0] = '\0';
	if (err_msg && msglen > 0)
		err_msg[0] = '\0';
	rc = check_time(p, now, err_type, typelen, err_msg, msglen);
	if (rc != KGW_SIGV4_OK)
		return rc;
	rc = check_payload(req, err_type, typelen, err_msg, msglen);
	if (rc != KGW_SIGV4_OK)
		return rc;

	build_string_to_sign(&sts, req, p);
	if (sts.failed || !hmac256(key, 32, sts.data, sts.len, mac))
	{
		buf_free(&sts);
		return set_error(KGW_SIGV4_ERROR, err_type, typelen, err_msg,
						 msglen, ETYPE_INTERNAL,
						 "could not compute the request signature");
	}
	buf_free(&sts);
	to_hex(mac, sizeof(mac), hex);
	/* the length check leaks only whether the signature is well formed */
	ok = p->signature_ok && CRYPTO_memcmp(hex, p->signature, 64) == 0;
	if (!ok)
		return set_error(KGW_SIGV4_MISMATCH, err_type, typelen, err_msg,
						 msglen, ETYPE_INVALID, "%s", MSG_MISMATCH);
	return KGW_SIGV4_OK;
}

int
kgw_sigv4_verify(const kgw_sigv4_request *req, const kgw_sigv4_parsed *p,
				 const char *secret, time_t now, char *err_type,
				 size_t typelen, char *err_msg, size_t msglen)
{
	unsigned char key[32];
	int			rc;

	if (!kgw_sigv4_signing_key(secret, p->date, p->region, p->service, key))
		return set_error(KGW_SIGV4_ERROR, err_type, typelen, err_msg,
						 msglen, ETYPE_INTERNAL,
						 "could not derive the signing key");
	rc = kgw_sigv4_verify_with_key(req, p, key, now, err_type, typelen,
								   err_msg, msglen);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
kgw_sigv4_check_region(const kgw_sigv4_parsed *p, const char *region,
					   char *err_type, size_t typelen, char *err_msg,
					   size_t msglen)
{
	if (region == NULL || strcmp(p->region, region) == 0)
		return KGW_SIGV4_OK;
	return set_error(KGW_SIGV4_INVALID, err_type, typelen, err_msg, msglen,
					 ETYPE_INVALID,
					 "Credential should be scoped to a valid region, "
					 "not '%s'. ", p->region);
}

int
kgw_sigv4_http_status(int rc)
{
	if (rc == KGW_SIGV4_OK)
		return 200;
	if (rc == KGW_SIGV4_ERROR)
		return 500;
	return 400;
}
