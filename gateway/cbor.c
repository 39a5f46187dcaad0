/*-------------------------------------------------------------------------
 *
 * cbor.c
 *		AWS CBOR 1.1 <-> AWS JSON 1.1 body conversion (see cbor.h): a
 *		strict, bounded CBOR decoder that writes JSON text, and a CBOR
 *		encoder for the JSON documents jansson parses.
 *
 * CBOR -> JSON writes the JSON text directly rather than through a json_t,
 * because jansson cannot print a timestamp such as 1700000000.123 exactly
 * (it prints doubles with a fixed number of significant digits).  The
 * output is compact and keeps the map order of the input.
 *
 * The member tables below name the members whose two encodings differ.
 * They apply by member name at any depth, to the member's value itself
 * (not to the elements of an array held there), and the same way in both
 * directions:
 *
 *	- a timestamp member holds tag 1 with epoch milliseconds in CBOR (an
 *	  integer, as the Java SDK sends; a float is accepted too, taken as
 *	  milliseconds as well and rounded to the nearest one), and a number of
 *	  epoch seconds in JSON.  A plain (untagged) number found there in CBOR
 *	  is read as JSON would read it, as seconds, and rounded to the
 *	  millisecond.  Tag 1 anywhere else is still a timestamp and becomes
 *	  seconds.  A timestamp value that is not a number (an ISO-8601 string,
 *	  null) is passed through, for the database to judge;
 *	- a blob member holds a byte string in CBOR and padded base64 in JSON.
 *	  Any CBOR byte string, wherever it is, becomes base64 text; in the
 *	  other direction only a blob member's string is decoded, and only if
 *	  it is canonical base64 (otherwise it stays text, for the database to
 *	  report).
 *
 * Seconds are printed exactly: the integer milliseconds divided by 1000 in
 * decimal, trailing zeros of the fraction dropped, as the database prints
 * them (1700000000.12, 1700000000).  Other floats are printed with the
 * fewest digits that read back as the same double, with ".0" added to an
 * integral value so that it stays a JSON real; printing, reading and
 * printing again gives the same text.  Timestamps are limited to
 * +-8.64e15 ms: in that range seconds -> milliseconds is exact in double
 * arithmetic, and a timestamp read back as a plain double prints the same.
 *
 * Integers are limited to int64 in CBOR -> JSON (larger ones are refused;
 * jansson could not read them back), and so is JSON -> CBOR by jansson.
 *
 * gateway/cbor.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor.h"

/* members that are timestamps: tag 1 (ms) in CBOR, seconds in JSON */
static const char *const timestamp_members[] = {
	"ApproximateArrivalTimestamp",
	"StreamCreationTimestamp",
	"ConsumerCreationTimestamp",
	"Timestamp",
};

/* members that are blobs: byte strings in CBOR, base64 in JSON */
static const char *const blob_members[] = {
	"Data",
};

#define lengthof(a) (sizeof(a) / sizeof((a)[0]))

/* timestamps: |ms| <= 8.64e15 (the ECMAScript date range) */
#define MAX_TS_MS	INT64_C(8640000000000000)
#define MAX_TS_S	(MAX_TS_MS / 1000)

typedef enum MemberKind
{
	MEMBER_PLAIN,
	MEMBER_TIMESTAMP,
	MEMBER_BLOB
} MemberKind;

/*
 * What the member named name[0..len) is.  The CBOR decoder passes the
 * key as it has written it to JSON, escaped; the table names need no
 * escaping, so a key equals a name exactly when its escaped text does.
 */
static MemberKind
member_kind(const char *name, size_t len)
{
	size_t		i;

	for (i = 0; i < lengthof(timestamp_members); i++)
		if (strlen(timestamp_members[i]) == len &&
			memcmp(timestamp_members[i], name, len) == 0)
			return MEMBER_TIMESTAMP;
	for (i = 0; i < lengthof(blob_members); i++)
		if (strlen(blob_members[i]) == len &&
			memcmp(blob_members[i], name, len) == 0)
			return MEMBER_BLOB;
	return MEMBER_PLAIN;
}

/* ------------------------------------------------------------------------
 * growable output buffer
 * ------------------------------------------------------------------------
 */
typedef struct Buf
{
	unsigned char *data;
	size_t		len;
	size_t		cap;
	bool		failed;			/* out of memory: further writes are no-ops */
} Buf;

/*
 * Make room for more bytes.  Growth follows the output actually written,
 * never a length read from the input.  False (and failed set) when out of
 * memory; len and data stay consistent then.
 */
static bool
buf_reserve(Buf *b, size_t more)
{
	size_t		need;
	size_t		cap;
	unsigned char *p;

	if (b->failed)
		return false;
	if (more > SIZE_MAX - b->len)
	{
		b->failed = true;
		return false;
	}
	need = b->len + more;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = (cap > SIZE_MAX / 2) ? need : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

static void
buf_add(Buf *b, const void *p, size_t n)
{
	if (n > 0 && buf_reserve(b, n))
	{
		memcpy(b->data + b->len, p, n);
		b->len += n;
	}
}

static void
buf_byte(Buf *b, unsigned char c)
{
	if (buf_reserve(b, 1))
		b->data[b->len++] = c;
}

static void
buf_str(Buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* set the caller's error text */
static void
set_err(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------
 * base64 (RFC 4648 standard alphabet, '=' padding)
 * ------------------------------------------------------------------------
 */
static const char b64_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* append the padded base64 of src[0..len) */
static void
b64_encode(Buf *b, const unsigned char *src, size_t len)
{
	size_t		i;

	if (len == 0 || !buf_reserve(b, (len / 3 + 1) * 4))
		return;
	for (i = 0; i + 2 < len; i += 3)
	{
		uint32_t	v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8) | src[i + 2];

		b->data[b->len++] = b64_alphabet[(v >> 18) & 63];
		b->data[b->len++] = b64_alphabet[(v >> 12) & 63];
		b->data[b->len++] = b64_alphabet[(v >> 6) & 63];
		b->data[b->len++] = b64_alphabet[v & 63];
	}
	if (i < len)
	{
		uint32_t	v = (uint32_t) src[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t) src[i + 1] << 8;
		b->data[b->len++] = b64_alphabet[(v >> 18) & 63];
		b->data[b->len++] = b64_alphabet[(v >> 12) & 63];
		b->data[b->len++] = (i + 1 < len) ? b64_alphabet[(v >> 6) & 63] : '=';
		b->data[b->len++] = '=';
	}
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * If s[0..len) is canonical base64 (length a multiple of 4, alphabet
 * characters, one or two '=' only at the end, unused bits zero), the
 * length of what it decodes to; otherwise -1.  Canonical only, so that
 * decoding and encoding again gives back the same text.
 */
static long long
b64_decoded_len(const char *s, size_t len)
{
	size_t		pad = 0;
	size_t		i;
	int			last;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && s[len - 1] == '=')
		pad = (len > 1 && s[len - 2] == '=') ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (b64_value((unsigned char) s[i]) < 0)
			return -1;
	if (pad > 0)
	{
		last = b64_value((unsigned char) s[len - pad - 1]);
		if ((pad == 2 && (last & 15) != 0) || (pad == 1 && (last & 3) != 0))
			return -1;
	}
	return (long long) (len / 4 * 3 - pad);
}

/* decode canonical base64 (checked by b64_decoded_len) into dst */
static void
b64_decode(const char *s, size_t len, unsigned char *dst)
{
	size_t		i;
	size_t		o = 0;

	for (i = 0; i < len; i += 4)
	{
		uint32_t	v = 0;
		int			j;
		int			n = 0;

		for (j = 0; j < 4; j++)
		{
			v <<= 6;
			if (s[i + j] != '=')
			{
				v |= (uint32_t) b64_value((unsigned char) s[i + j]);
				n++;
			}
		}
		dst[o++] = (unsigned char) (v >> 16);
		if (n > 2)
			dst[o++] = (unsigned char) (v >> 8);
		if (n > 3)
			dst[o++] = (unsigned char) v;
	}
}

/* ------------------------------------------------------------------------
 * numbers
 * ------------------------------------------------------------------------
 */

/*
 * Epoch seconds (a JSON number, or an untagged CBOR number at a
 * timestamp member) -> milliseconds, rounded to the nearest.  The integer
 * and fractional parts are split first, both exactly, so that the only
 * rounding is that of the fraction times 1000: within the range, a number
 * with 3 decimals always gives its exact milliseconds.  False if out of
 * range.
 */
static bool
seconds_to_ms(double s, int64_t *ms)
{
	double		ip;
	double		fr;
	int64_t		v;

	if (!isfinite(s) || fabs(s) > (double) MAX_TS_S + 1.0)
		return false;
	ip = trunc(s);
	fr = s - ip;
	v = (int64_t) ip * 1000 + (int64_t) round(fr * 1000.0);
	if (v < -MAX_TS_MS || v > MAX_TS_MS)
		return false;
	*ms = v;
	return true;
}

/*
 * Append milliseconds as exact decimal seconds: "1700000000.123",
 * "1700000000.12", "1700000000", "-0.001".
 */
static void
emit_ms_as_seconds(Buf *b, int64_t ms)
{
	uint64_t	a = ms < 0 ? (uint64_t) 0 - (uint64_t) ms : (uint64_t) ms;
	char		tmp[48];
	int			n;
	unsigned	frac = (unsigned) (a % 1000);

	n = snprintf(tmp, sizeof(tmp), "%s%" PRIu64, ms < 0 ? "-" : "", a / 1000);
	if (frac != 0)
	{
		n += snprintf(tmp + n, sizeof(tmp) - n, ".%03u", frac);
		while (tmp[n - 1] == '0')
			n--;
	}
	buf_add(b, tmp, (size_t) n);
}

static void
emit_int(Buf *b, int64_t v)
{
	char		tmp[32];
	int			n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	buf_add(b, tmp, (size_t) n);
}

/*
 * Append a finite double as a JSON number: printf's correctly rounded
 * decimal with the fewest significant digits (at most 17) that reads
 * back as the same double, positional for decimal exponents
 * -7..20 (with ".0" if integral, so that it reads back as a real),
 * otherwise in exponent form ("1e21", "2.5e-8").
 */
static void
emit_double(Buf *b, double v)
{
	char		sci[40];
	char		digits[24];
	char		out[64];
	int			prec;
	int			ndig = 0;
	int			exp10;
	int			o = 0;
	int			i;
	const char *p;

	/*
	 * 15 significant digits first: if they are not enough, only 16 or 17
	 * are left to try (three conversions, not seventeen, for the floats
	 * that need them all).
	 */
	snprintf(sci, sizeof(sci), "%.14e", v);
	if (strtod(sci, NULL) == v)
		prec = 0;
	else
		prec = 15;
	for (; prec < 16; prec++)
	{
		snprintf(sci, sizeof(sci), "%.*e", prec, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	if (prec == 16)
		snprintf(sci, sizeof(sci), "%.16e", v);
	/* sci is "[-]d[.ddd]e[+-]xx" */
	p = sci;
	if (*p == '-')
		out[o++] = *p++;
	for (; *p != 'e'; p++)
		if (*p != '.')
			digits[ndig++] = *p;
	exp10 = atoi(p + 1);
	while (ndig > 1 && digits[ndig - 1] == '0')
		ndig--;

	if (exp10 >= -7 && exp10 < 21)
	{
		if (exp10 >= 0)
		{
			for (i = 0; i <= exp10; i++)
				out[o++] = i < ndig ? digits[i] : '0';
			out[o++] = '.';
			if (ndig > exp10 + 1)
				for (i = exp10 + 1; i < ndig; i++)
					out[o++] = digits[i];
			else
				out[o++] = '0';
		}
		else
		{
			out[o++] = '0';
			out[o++] = '.';
			for (i = 0; i < -exp10 - 1; i++)
				out[o++] = '0';
			for (i = 0; i < ndig; i++)
				out[o++] = digits[i];
		}
	}
	else
	{
		out[o++] = digits[0];
		if (ndig > 1)
		{
			out[o++] = '.';
			for (i = 1; i < ndig; i++)
				out[o++] = digits[i];
		}
		o += snprintf(out + o, sizeof(out) - o, "e%d", exp10);
	}
	buf_add(b, out, (size_t) o);
}

/* IEEE 754 half precision bits -> double (finite or not) */
static double
half_to_double(uint16_t h)
{
	int			exp = (h >> 10) & 0x1f;
	int			mant = h & 0x3ff;
	double		v;

	if (exp == 0)
		v = ldexp((double) mant, -24);
	else if (exp != 31)
		v = ldexp((double) (mant + 1024), exp - 25);
	else
		v = (mant == 0) ? INFINITY : NAN;
	return (h & 0x8000) ? -v : v;
}

/* ------------------------------------------------------------------------
 * CBOR -> JSON
 * ------------------------------------------------------------------------
 */
typedef struct Decoder
{
	const unsigned char *in;
	size_t		len;
	size_t		pos;			/* next byte to read */
	int			depth;			/* arrays, maps and tags open */
	Buf			out;			/* the JSON text */
	char	   *err;
	size_t		errlen;
} Decoder;

/* the head of a data item: major type and argument */
typedef struct Head
{
	int			major;
	int			ai;				/* additional information (low 5 bits) */
	uint64_t	val;			/* argument (float bits for major 7) */
	bool		indefinite;		/* ai 31: indefinite length, or break */
	size_t		start;			/* offset of the initial byte */
} Head;

/* one map key written to the output: offset and length of its escaped text */
typedef struct KeyEntry
{
	size_t		off;
	size_t		len;
	uint64_t	hash;
} KeyEntry;

/* the keys of one map so far, for the duplicate check */
typedef struct KeySet
{
	KeyEntry   *keys;
	size_t		nkeys;
	size_t		maxkeys;
	size_t	   *slots;			/* open addressing: key index + 1, 0 = empty */
	size_t		nslots;			/* a power of 2, > 2 * nkeys */
} KeySet;

static bool decode_item(Decoder *d, MemberKind kind);
static bool decode_from_head(Decoder *d, const Head *h, MemberKind kind);

/* record an error at the current position; returns false */
static bool
dec_fail(Decoder *d, const char *what)
{
	set_err(d->err, d->errlen, "invalid CBOR: %s at byte %zu", what, d->pos);
	return false;
}

static bool
dec_oom(Decoder *d)
{
	set_err(d->err, d->errlen, "out of memory");
	return false;
}

/*
 * Read the head of the next data item.  The argument's width is checked
 * against the input; the argument itself is not (the caller knows what it
 * means).  ai 28..30 are reserved; ai 31 is only for strings, arrays,
 * maps and the break code.
 */
static bool
read_head(Decoder *d, Head *h)
{
	unsigned char ib;
	size_t		nbytes;
	size_t		i;

	if (d->pos >= d->len)
		return dec_fail(d, "unexpected end of input");
	h->start = d->pos;
	ib = d->in[d->pos++];
	h->major = ib >> 5;
	h->ai = ib & 0x1f;
	h->val = 0;
	h->indefinite = false;
	if (h->ai < 24)
	{
		h->val = (uint64_t) h->ai;
		return true;
	}
	if (h->ai == 31)
	{
		d->pos = h->start;
		if (h->major == 0 || h->major == 1 || h->major == 6)
			return dec_fail(d, "indefinite length on an integer or tag");
		d->pos++;
		h->indefinite = true;
		return true;
	}
	if (h->ai > 27)
	{
		d->pos = h->start;
		return dec_fail(d, "reserved additional information");
	}
	nbytes = (size_t) 1 << (h->ai - 24);
	if (d->len - d->pos < nbytes)
		return dec_fail(d, "unexpected end of input");
	for (i = 0; i < nbytes; i++)
		h->val = (h->val << 8) | d->in[d->pos++];
	return true;
}

/* one level deeper (array, map or tag), or refuse */
static bool
dec_enter(Decoder *d)
{
	if (d->depth >= KGW_CBOR_MAX_DEPTH)
		return dec_fail(d, "nesting too deep");
	d->depth++;
	return true;
}

/*
 * Append bytes p[0..n) of a text string to the JSON string being
 * written, escaped, checking that they are well-formed UTF-8 (no
 * overlong forms, surrogates or code points above U+10FFFF).  A map key
 * may not hold U+0000 (jansson refuses it there).
 */
static bool
escape_utf8(Decoder *d, const unsigned char *p, size_t n, bool is_key)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = p[i];
		size_t		more;
		unsigned char lo = 0x80,
					hi = 0xbf;
		size_t		j;

		if (c < 0x80)
		{
			char		esc[8];

			if (c == 0 && is_key)
				return dec_fail(d, "U+0000 in a map key");
			switch (c)
			{
				case '"':
					buf_str(&d->out, "\\\"");
					break;
				case '\\':
					buf_str(&d->out, "\\\\");
					break;
				case '\b':
					buf_str(&d->out, "\\b");
					break;
				case '\f':
					buf_str(&d->out, "\\f");
					break;
				case '\n':
					buf_str(&d->out, "\\n");
					break;
				case '\r':
					buf_str(&d->out, "\\r");
					break;
				case '\t':
					buf_str(&d->out, "\\t");
					break;
				default:
					if (c < 0x20)
					{
						snprintf(esc, sizeof(esc), "\\u%04x", c);
						buf_str(&d->out, esc);
					}
					else
						buf_byte(&d->out, c);
			}
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef)
		{
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;		/* overlong */
			else if (c == 0xed)
				hi = 0x9f;		/* surrogates */
		}
		else if (c >= 0xf0 && c <= 0xf4)
		{
			more = 3;
			if (c == 0xf0)
				lo = 0x90;		/* overlong */
			else if (c == 0xf4)
				hi = 0x8f;		/* above U+10FFFF */
		}
		else
			return dec_fail(d, "invalid UTF-8 in a text string");
		if (n - i <= more)
			return dec_fail(d, "invalid UTF-8 in a text string");
		if (p[i + 1] < lo || p[i + 1] > hi)
			return dec_fail(d, "invalid UTF-8 in a text string");
		for (j = 2; j <= more; j++)
			if ((p[i + j] & 0xc0) != 0x80)
				return dec_fail(d, "invalid UTF-8 in a text string");
		buf_add(&d->out, p + i, more + 1);
		i += more + 1;
	}
	return true;
}

/*
 * A text string (head already read) as a JSON string.  Each chunk of an
 * indefinite-length string must be a definite-length text string and
 * valid UTF-8 by itself (RFC 8949 3.2.3).
 */
static bool
decode_text(Decoder *d, const Head *h, bool is_key)
{
	buf_byte(&d->out, '"');
	if (!h->indefinite)
	{
		if (h->val > d->len - d->pos)
			return dec_fail(d, "text string longer than the input");
		if (!escape_utf8(d, d->in + d->pos, (size_t) h->val, is_key))
			return false;
		d->pos += (size_t) h->val;
	}
	else
	{
		for (;;)
		{
			Head		c;

			if (!read_head(d, &c))
				return false;
			if (c.major == 7 && c.indefinite)
				break;
			if (c.major != 3 || c.indefinite)
			{
				d->pos = c.start;
				return dec_fail(d, "bad chunk in an indefinite-length text string");
			}
			if (c.val > d->len - d->pos)
				return dec_fail(d, "text string longer than the input");
			if (!escape_utf8(d, d->in + d->pos, (size_t) c.val, is_key))
				return false;
			d->pos += (size_t) c.val;
		}
	}
	buf_byte(&d->out, '"');
	return true;
}

/* a byte string (head already read) as a JSON string of padded base64 */
static bool
decode_bytes(Decoder *d, const Head *h)
{
	buf_byte(&d->out, '"');
	if (!h->indefinite)
	{
		if (h->val > d->len - d->pos)
			return dec_fail(d, "byte string longer than the input");
		b64_encode(&d->out, d->in + d->pos, (size_t) h->val);
		d->pos += (size_t) h->val;
	}
	else
	{
		Buf			all = {0};	/* the chunks joined; no larger than the input */

		for (;;)
		{
			Head		c;

			if (!read_head(d, &c))
			{
				free(all.data);
				return false;
			}
			if (c.major == 7 && c.indefinite)
				break;
			if (c.major != 2 || c.indefinite)
			{
				free(all.data);
				d->pos = c.start;
				return dec_fail(d, "bad chunk in an indefinite-length byte string");
			}
			if (c.val > d->len - d->pos)
			{
				free(all.data);
				return dec_fail(d, "byte string longer than the input");
			}
			buf_add(&all, d->in + d->pos, (size_t) c.val);
			d->pos += (size_t) c.val;
		}
		if (all.failed)
			return dec_oom(d);
		b64_encode(&d->out, all.data, all.len);
		free(all.data);
	}
	buf_byte(&d->out, '"');
	return true;
}

/* an array (head already read) */
static bool
decode_array(Decoder *d, const Head *h)
{
	uint64_t	i;

	if (!dec_enter(d))
		return false;
	buf_byte(&d->out, '[');
	if (!h->indefinite)
	{
		/* each element takes at least one byte */
		if (h->val > d->len - d->pos)
			return dec_fail(d, "array longer than the input");
		for (i = 0; i < h->val; i++)
		{
			if (i > 0)
				buf_byte(&d->out, ',');
			if (!decode_item(d, MEMBER_PLAIN))
				return false;
			if (d->out.failed)
				return dec_oom(d);
		}
	}
	else
	{
		for (i = 0;; i++)
		{
			Head		e;

			if (!read_head(d, &e))
				return false;
			if (e.major == 7 && e.indefinite)
				break;
			if (i > 0)
				buf_byte(&d->out, ',');
			if (!decode_from_head(d, &e, MEMBER_PLAIN))
				return false;
			if (d->out.failed)
				return dec_oom(d);
		}
	}
	buf_byte(&d->out, ']');
	d->depth--;
	return true;
}

/* FNV-1a */
static uint64_t
key_hash(const unsigned char *p, size_t n)
{
	uint64_t	h = UINT64_C(14695981039346656037);
	size_t		i;

	for (i = 0; i < n; i++)
	{
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/*
 * Add the key whose escaped text is out[off..off+len) to the set.
 * Returns 1 if added, 0 if the map already has it, -1 if out of memory.
 * Escaping is one-to-one, so equal texts mean equal keys.
 */
static int
keyset_add(KeySet *ks, const Buf *out, size_t off, size_t len)
{
	uint64_t	h = key_hash(out->data + off, len);
	size_t		mask;
	size_t		s;

	if (ks->nkeys + 1 > ks->maxkeys)
	{
		size_t		n = ks->maxkeys ? ks->maxkeys * 2 : 8;
		KeyEntry   *k = realloc(ks->keys, n * sizeof(KeyEntry));

		if (k == NULL)
			return -1;
		ks->keys = k;
		ks->maxkeys = n;
	}
	if (2 * (ks->nkeys + 1) >= ks->nslots)
	{
		size_t		n = ks->nslots ? ks->nslots * 2 : 16;
		size_t	   *sl = calloc(n, sizeof(size_t));
		size_t		i;

		if (sl == NULL)
			return -1;
		for (i = 0; i < ks->nkeys; i++)
		{
			s = (size_t) ks->keys[i].hash & (n - 1);
			while (sl[s] != 0)
				s = (s + 1) & (n - 1);
			sl[s] = i + 1;
		}
		free(ks->slots);
		ks->slots = sl;
		ks->nslots = n;
	}
	mask = ks->nslots - 1;
	for (s = (size_t) h & mask; ks->slots[s] != 0; s = (s + 1) & mask)
	{
		const KeyEntry *k = &ks->keys[ks->slots[s] - 1];

		if (k->hash == h && k->len == len &&
			memcmp(out->data + k->off, out->data + off, len) == 0)
			return 0;
	}
	ks->keys[ks->nkeys].off = off;
	ks->keys[ks->nkeys].len = len;
	ks->keys[ks->nkeys].hash = h;
	ks->slots[s] = ++ks->nkeys;
	return 1;
}

/*
 * One map entry: a text string key (no tags), unique in its map, then
 * the value, converted as the member table says for that key.
 */
static bool
decode_entry(Decoder *d, const Head *kh, KeySet *ks, bool first)
{
	size_t		off;
	size_t		klen;
	int			added;

	if (kh->major != 3)
	{
		d->pos = kh->start;
		return dec_fail(d, "map key is not a text string");
	}
	if (!first)
		buf_byte(&d->out, ',');
	off = d->out.len + 1;		/* after the opening quote */
	if (!decode_text(d, kh, true))
		return false;
	if (d->out.failed)
		return dec_oom(d);
	klen = d->out.len - 1 - off;
	added = keyset_add(ks, &d->out, off, klen);
	if (added < 0)
		return dec_oom(d);
	if (added == 0)
	{
		d->pos = kh->start;
		return dec_fail(d, "duplicate map key");
	}
	buf_byte(&d->out, ':');
	return decode_item(d, member_kind((const char *) d->out.data + off, klen));
}

/* a map (head already read) */
static bool
decode_map(Decoder *d, const Head *h)
{
	KeySet		ks = {0};
	uint64_t	i;
	bool		ok = true;

	if (!dec_enter(d))
		return false;
	buf_byte(&d->out, '{');
	if (!h->indefinite)
	{
		/* each entry takes at least two bytes */
		if (h->val > (d->len - d->pos) / 2)
			ok = dec_fail(d, "map longer than the input");
		for (i = 0; ok && i < h->val; i++)
		{
			Head		kh;

			ok = read_head(d, &kh) && decode_entry(d, &kh, &ks, i == 0);
			if (ok && d->out.failed)
				ok = dec_oom(d);
		}
	}
	else
	{
		for (i = 0; ok; i++)
		{
			Head		kh;

			if (!read_head(d, &kh))
				ok = false;
			else if (kh.major == 7 && kh.indefinite)
				break;
			else
				ok = decode_entry(d, &kh, &ks, i == 0);
			if (ok && d->out.failed)
				ok = dec_oom(d);
		}
	}
	free(ks.keys);
	free(ks.slots);
	if (!ok)
		return false;
	buf_byte(&d->out, '}');
	d->depth--;
	return true;
}

/*
 * The content of tag 1: epoch milliseconds, an integer or a float (the
 * Java SDK sends integers; a float is taken as milliseconds too and
 * rounded to the nearest one), written as seconds.
 */
static bool
decode_timestamp(Decoder *d)
{
	Head		h;
	int64_t		ms;

	if (!read_head(d, &h))
		return false;
	if (h.major == 0 || h.major == 1)
	{
		/* -1 - val for major type 1 */
		if (h.val > (uint64_t) (h.major == 0 ? MAX_TS_MS : MAX_TS_MS - 1))
		{
			d->pos = h.start;
			return dec_fail(d, "timestamp out of range");
		}
		ms = (h.major == 0) ? (int64_t) h.val : -1 - (int64_t) h.val;
	}
	else if (h.major == 7 && h.ai >= 25 && h.ai <= 27)
	{
		double		f;

		if (h.ai == 25)
			f = half_to_double((uint16_t) h.val);
		else if (h.ai == 26)
		{
			uint32_t	bits = (uint32_t) h.val;
			float		fl;

			memcpy(&fl, &bits, sizeof(fl));
			f = fl;
		}
		else
			memcpy(&f, &h.val, sizeof(f));
		if (!isfinite(f) || fabs(f) > (double) MAX_TS_MS)
		{
			d->pos = h.start;
			return dec_fail(d, "timestamp out of range");
		}
		ms = (int64_t) round(f);
	}
	else
	{
		d->pos = h.start;
		return dec_fail(d, "tag 1 (timestamp) does not hold a number");
	}
	emit_ms_as_seconds(&d->out, ms);
	return true;
}

/* a float or simple value (major type 7, head already read) */
static bool
decode_simple(Decoder *d, const Head *h, MemberKind kind)
{
	double		f;

	switch (h->ai)
	{
		case 20:
			buf_str(&d->out, "false");
			return true;
		case 21:
			buf_str(&d->out, "true");
			return true;
		case 22:
		case 23:				/* undefined */
			buf_str(&d->out, "null");
			return true;
		case 25:
			f = half_to_double((uint16_t) h->val);
			break;
		case 26:
			{
				uint32_t	bits = (uint32_t) h->val;
				float		fl;

				memcpy(&fl, &bits, sizeof(fl));
				f = fl;
				break;
			}
		case 27:
			memcpy(&f, &h->val, sizeof(f));
			break;
		case 31:
			d->pos = h->start;
			return dec_fail(d, "unexpected break");
		default:
			d->pos = h->start;
			return dec_fail(d, "unsupported simple value");
	}
	if (!isfinite(f))
	{
		d->pos = h->start;
		return dec_fail(d, "NaN or infinity");
	}
	if (kind == MEMBER_TIMESTAMP)
	{
		int64_t		ms;

		if (!seconds_to_ms(f, &ms))
		{
			d->pos = h->start;
			return dec_fail(d, "timestamp out of range");
		}
		emit_ms_as_seconds(&d->out, ms);
	}
	else
		emit_double(&d->out, f);
	return true;
}

/* the data item whose head h has been read; kind is its member's kind */
static bool
decode_from_head(Decoder *d, const Head *h, MemberKind kind)
{
	bool		ok;

	switch (h->major)
	{
		case 0:
		case 1:
			{
				int64_t		v;

				if (h->val > (uint64_t) INT64_MAX)
				{
					d->pos = h->start;
					return dec_fail(d, "integer out of range");
				}
				v = (h->major == 0) ? (int64_t) h->val : -1 - (int64_t) h->val;
				if (kind == MEMBER_TIMESTAMP)
				{
					/* a plain number of seconds */
					if (v < -MAX_TS_S || v > MAX_TS_S)
					{
						d->pos = h->start;
						return dec_fail(d, "timestamp out of range");
					}
					emit_ms_as_seconds(&d->out, v * 1000);
				}
				else
					emit_int(&d->out, v);
				return true;
			}
		case 2:
			return decode_bytes(d, h);
		case 3:
			return decode_text(d, h, false);
		case 4:
			return decode_array(d, h);
		case 5:
			return decode_map(d, h);
		case 6:
			if (h->val == 1)
				return decode_timestamp(d);
			/* any other tag: its content, as if untagged */
			if (!dec_enter(d))
				return false;
			ok = decode_item(d, kind);
			d->depth--;
			return ok;
		default:
			return decode_simple(d, h, kind);
	}
}

static bool
decode_item(Decoder *d, MemberKind kind)
{
	Head		h;

	if (!read_head(d, &h))
		return false;
	return decode_from_head(d, &h, kind);
}

/*
 * CBOR request body -> JSON text.  The body must be exactly one
 * well-formed data item (see cbor.h for what is refused).  Memory use is
 * bounded by a small multiple of len: every length in the input is
 * checked against the bytes left before it is used, and the output only
 * grows as it is written.
 */
int
kgw_cbor_to_json(const unsigned char *in, size_t len, char **json,
				 size_t *json_len, char *err, size_t errlen)
{
	Decoder		d = {0};

	*json = NULL;
	*json_len = 0;
	if (in == NULL && len > 0)
	{
		set_err(err, errlen, "no input");
		return -1;
	}
	d.in = in;
	d.len = len;
	d.err = err;
	d.errlen = errlen;
	if (!decode_item(&d, MEMBER_PLAIN))
	{
		free(d.out.data);
		return -1;
	}
	if (d.pos != d.len)
	{
		dec_fail(&d, "trailing bytes after the data item");
		free(d.out.data);
		return -1;
	}
	buf_byte(&d.out, '\0');
	if (d.out.failed)
	{
		free(d.out.data);
		dec_oom(&d);
		return -1;
	}
	*json = (char *) d.out.data;
	*json_len = d.out.len - 1;
	return 0;
}

/* ------------------------------------------------------------------------
 * JSON -> CBOR
 * ------------------------------------------------------------------------
 */

/* append a head: major type and argument, in the shortest form */
static void
put_head(Buf *b, int major, uint64_t val)
{
	unsigned char hdr[9];
	int			n;
	int			i;

	if (val < 24)
	{
		buf_byte(b, (unsigned char) ((major << 5) | (int) val));
		return;
	}
	if (val <= 0xff)
	{
		hdr[0] = (unsigned char) ((major << 5) | 24);
		n = 1;
	}
	else if (val <= 0xffff)
	{
		hdr[0] = (unsigned char) ((major << 5) | 25);
		n = 2;
	}
	else if (val <= 0xffffffff)
	{
		hdr[0] = (unsigned char) ((major << 5) | 26);
		n = 4;
	}
	else
	{
		hdr[0] = (unsigned char) ((major << 5) | 27);
		n = 8;
	}
	for (i = n; i >= 1; i--, val >>= 8)
		hdr[i] = (unsigned char) (val & 0xff);
	buf_add(b, hdr, (size_t) n + 1);
}

static void
put_int(Buf *b, int64_t v)
{
	if (v >= 0)
		put_head(b, 0, (uint64_t) v);
	else
		put_head(b, 1, (uint64_t) (-(v + 1)));
}

/* tag 1 and the milliseconds */
static void
put_timestamp(Buf *b, int64_t ms)
{
	buf_byte(b, 0xc1);
	put_int(b, ms);
}

/*
 * Append the CBOR of v, a member of kind kind (MEMBER_PLAIN for array
 * elements and the top level).  False with err set on a timestamp out of
 * range.
 */
static bool
encode_value(Buf *b, json_t *v, MemberKind kind, char *err, size_t errlen)
{
	switch (json_typeof(v))
	{
		case JSON_OBJECT:
			{
				const char *key;
				json_t	   *val;

				buf_byte(b, 0xbf);
				json_object_foreach(v, key, val)
				{
					size_t		klen = strlen(key);

					put_head(b, 3, klen);
					buf_add(b, key, klen);
					if (!encode_value(b, val, member_kind(key, klen), err, errlen))
						return false;
				}
				buf_byte(b, 0xff);
				return true;
			}
		case JSON_ARRAY:
			{
				size_t		i;
				json_t	   *val;

				buf_byte(b, 0x9f);
				json_array_foreach(v, i, val)
				{
					if (!encode_value(b, val, MEMBER_PLAIN, err, errlen))
						return false;
				}
				buf_byte(b, 0xff);
				return true;
			}
		case JSON_STRING:
			{
				const char *s = json_string_value(v);
				size_t		n = json_string_length(v);
				long long	blen;

				if (kind == MEMBER_BLOB && (blen = b64_decoded_len(s, n)) >= 0)
				{
					put_head(b, 2, (uint64_t) blen);
					if (blen > 0 && buf_reserve(b, (size_t) blen))
					{
						b64_decode(s, n, b->data + b->len);
						b->len += (size_t) blen;
					}
				}
				else
				{
					put_head(b, 3, n);
					buf_add(b, s, n);
				}
				return true;
			}
		case JSON_INTEGER:
			{
				json_int_t	i = json_integer_value(v);

				if (kind != MEMBER_TIMESTAMP)
					put_int(b, (int64_t) i);
				else if (i < -MAX_TS_S || i > MAX_TS_S)
				{
					set_err(err, errlen, "timestamp out of range: %" JSON_INTEGER_FORMAT, i);
					return false;
				}
				else
					put_timestamp(b, (int64_t) i * 1000);
				return true;
			}
		case JSON_REAL:
			{
				double		f = json_real_value(v);

				if (kind == MEMBER_TIMESTAMP)
				{
					int64_t		ms;

					if (!seconds_to_ms(f, &ms))
					{
						set_err(err, errlen, "timestamp out of range: %g", f);
						return false;
					}
					put_timestamp(b, ms);
				}
				else
				{
					uint64_t	bits;
					unsigned char hdr[9];
					int			i;

					memcpy(&bits, &f, sizeof(bits));
					hdr[0] = 0xfb;
					for (i = 8; i >= 1; i--, bits >>= 8)
						hdr[i] = (unsigned char) (bits & 0xff);
					buf_add(b, hdr, sizeof(hdr));
				}
				return true;
			}
		case JSON_TRUE:
			buf_byte(b, 0xf5);
			return true;
		case JSON_FALSE:
			buf_byte(b, 0xf4);
			return true;
		case JSON_NULL:
			buf_byte(b, 0xf6);
			return true;
	}
	set_err(err, errlen, "unknown JSON value type");
	return false;
}

/*
 * JSON text -> CBOR, maps and arrays with indefinite lengths as AWS
 * writes them.  Any JSON value is accepted at the top level (the
 * database's responses are objects).  U+0000 is allowed in string values.
 */
int
kgw_json_to_cbor(const char *json, size_t len, unsigned char **out,
				 size_t *out_len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	   *root;
	Buf			b = {0};
	bool		ok;

	*out = NULL;
	*out_len = 0;
	if (json == NULL)
	{
		set_err(err, errlen, "no input");
		return -1;
	}
	root = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (root == NULL)
	{
		set_err(err, errlen, "invalid JSON: %s at byte %d", jerr.text, jerr.position);
		return -1;
	}
	ok = encode_value(&b, root, MEMBER_PLAIN, err, errlen);
	json_decref(root);
	if (ok && b.failed)
	{
		set_err(err, errlen, "out of memory");
		ok = false;
	}
	if (!ok)
	{
		free(b.data);
		return -1;
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}
