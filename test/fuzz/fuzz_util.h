/*-------------------------------------------------------------------------
 *
 * fuzz_util.h
 *		Helpers shared by the harnesses: reading the fuzz input, and the
 *		independent "oracle" implementations that the extension's results
 *		are compared with (strict base64, decimal <-> big-endian bytes,
 *		HMAC via OpenSSL's EVP_Q_mac, the token format of iterator.c).
 *
 * The oracles are written from the format descriptions in the source
 * comments, deliberately with different algorithms than the extension
 * (base-256 long arithmetic instead of 32-bit limbs, a table-free base64),
 * so that a shared mistake is unlikely.
 *
 *-------------------------------------------------------------------------
 */
#ifndef KINESIS_FUZZ_UTIL_H
#define KINESIS_FUZZ_UTIL_H

#include "postgres.h"

#include <openssl/evp.h>

#include "shim.h"

/* ------------------------------------------------------------------------
 * the fuzz input as a stream of values; exhausted input reads as zeros
 * ------------------------------------------------------------------------
 */
typedef struct FuzzIn
{
	const uint8 *p;
	size_t		n;
} FuzzIn;

static inline uint8
fi_u8(FuzzIn *in)
{
	uint8		v = 0;

	if (in->n > 0)
	{
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint16
fi_u16(FuzzIn *in)
{
	uint16		hi = fi_u8(in);

	return (uint16) ((hi << 8) | fi_u8(in));
}

static inline uint32
fi_u32(FuzzIn *in)
{
	uint32		v = 0;
	int			i;

	for (i = 0; i < 4; i++)
		v = (v << 8) | fi_u8(in);
	return v;
}

static inline uint64
fi_u64(FuzzIn *in)
{
	return ((uint64) fi_u32(in) << 32) | fi_u32(in);
}

/* up to maxlen bytes (stops after a 0 byte, which is not included) */
static inline char *
fi_str(FuzzIn *in, size_t maxlen, size_t *lenp)
{
	char	   *s = palloc(maxlen + 1);
	size_t		len = 0;

	while (len < maxlen && in->n > 0)
	{
		uint8		c = fi_u8(in);

		if (c == 0)
			break;
		s[len++] = (char) c;
	}
	s[len] = '\0';
	if (lenp)
		*lenp = len;
	return s;
}

/* exactly len bytes into an exact-size palloc'd buffer (ASan sees overreads) */
static inline uint8 *
fi_bytes(FuzzIn *in, size_t len)
{
	uint8	   *b = palloc(len > 0 ? len : 1);
	size_t		i;

	for (i = 0; i < len; i++)
		b[i] = fi_u8(in);
	return b;
}

/* the rest of the input as a C string in an exact-size buffer */
static inline char *
fi_rest_str(FuzzIn *in)
{
	size_t		len = strnlen((const char *) in->p, in->n);
	char	   *s = palloc(len + 1);

	memcpy(s, in->p, len);
	s[len] = '\0';
	in->p += in->n;
	in->n = 0;
	return s;
}

/* ------------------------------------------------------------------------
 * decimal text <-> big-endian byte strings
 * ------------------------------------------------------------------------
 */

/*
 * Decimal digits of the big-endian number be[0..n), canonical (no leading
 * zeros, "0" for zero); palloc'd.  Schoolbook long division by 10.
 */
static inline char *
oracle_dec_from_be(const uint8 *be, int n)
{
	uint8	   *work = palloc(n > 0 ? n : 1);
	char	   *rev = palloc(n * 3 + 2);
	char	   *out;
	int			ndig = 0;
	int			i;
	bool		nonzero;

	memcpy(work, be, n);
	do
	{
		unsigned	rem = 0;

		nonzero = false;
		for (i = 0; i < n; i++)
		{
			unsigned	cur = rem * 256 + work[i];

			work[i] = (uint8) (cur / 10);
			rem = cur % 10;
			if (work[i])
				nonzero = true;
		}
		rev[ndig++] = (char) ('0' + rem);
	} while (nonzero);
	out = palloc(ndig + 1);
	for (i = 0; i < ndig; i++)
		out[i] = rev[ndig - 1 - i];
	out[ndig] = '\0';
	return out;
}

/*
 * The value of the digit string s as n big-endian bytes; false if s holds
 * a non-digit, is empty, or the value needs more than n bytes.
 */
static inline bool
oracle_be_from_dec(const char *s, uint8 *be, int n)
{
	memset(be, 0, n);
	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		unsigned	carry;
		int			i;

		if (*s < '0' || *s > '9')
			return false;
		carry = (unsigned) (*s - '0');
		for (i = n - 1; i >= 0; i--)
		{
			unsigned	cur = be[i] * 10u + carry;

			be[i] = (uint8) cur;
			carry = cur >> 8;
		}
		if (carry)
			return false;
	}
	return true;
}

/* s without its leading zeros ("0" stays "0"); points into s */
static inline const char *
oracle_strip_zeros(const char *s)
{
	while (s[0] == '0' && s[1] != '\0')
		s++;
	return s;
}

static inline bool
oracle_all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* compare two canonical decimal strings as numbers */
static inline int
oracle_dec_cmp(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* ------------------------------------------------------------------------
 * strict base64 (RFC 4648 alphabet, '=' padding): the one canonical text
 * ------------------------------------------------------------------------
 */
static inline int
oracle_b64_value(char c)
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

static inline char
oracle_b64_char(int v)
{
	if (v < 26)
		return (char) ('A' + v);
	if (v < 52)
		return (char) ('a' + v - 26);
	if (v < 62)
		return (char) ('0' + v - 52);
	return v == 62 ? '+' : '/';
}

/* palloc'd, NUL-terminated */
static inline char *
oracle_b64_encode(const uint8 *src, size_t len)
{
	char	   *out = palloc((len + 2) / 3 * 4 + 1);
	size_t		i,
				o = 0;

	for (i = 0; i < len; i += 3)
	{
		uint32		v = (uint32) src[i] << 16;
		size_t		have = len - i;

		if (have > 1)
			v |= (uint32) src[i + 1] << 8;
		if (have > 2)
			v |= src[i + 2];
		out[o++] = oracle_b64_char((v >> 18) & 63);
		out[o++] = oracle_b64_char((v >> 12) & 63);
		out[o++] = have > 1 ? oracle_b64_char((v >> 6) & 63) : '=';
		out[o++] = have > 2 ? oracle_b64_char(v & 63) : '=';
	}
	out[o] = '\0';
	return out;
}

/*
 * Decode only the canonical form: length a multiple of 4, alphabet
 * characters, '=' only as the last one or two, and zero unused bits.
 * *out is palloc'd.
 */
static inline bool
oracle_b64_decode_strict(const char *s, size_t len, uint8 **out, size_t *outlen)
{
	uint8	   *buf;
	size_t		i,
				o = 0;

	if (len % 4 != 0)
		return false;
	buf = palloc(len / 4 * 3 + 1);
	for (i = 0; i < len; i += 4)
	{
		int			v[4];
		int			pad = 0;
		int			j;
		bool		last = (i + 4 == len);

		for (j = 0; j < 4; j++)
		{
			char		c = s[i + j];

			if (c == '=' && last && j >= 2)
			{
				/* "x=" only if the final char is '=' too */
				if (j == 2 && s[i + 3] != '=')
					return false;
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				return false;
			v[j] = oracle_b64_value(c);
			if (v[j] < 0)
				return false;
		}
		buf[o++] = (uint8) ((v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			buf[o++] = (uint8) (((v[1] & 15) << 4) | (v[2] >> 2));
		else if ((v[1] & 15) != 0)
			return false;
		if (pad < 1)
			buf[o++] = (uint8) (((v[2] & 3) << 6) | v[3]);
		else if (pad == 1 && (v[2] & 3) != 0)
			return false;
	}
	*out = buf;
	*outlen = o;
	return true;
}

/* ------------------------------------------------------------------------
 * the token format of iterator.c:
 *		base64(kind || payload || first 16 bytes of HMAC-SHA256(key, kind || payload))
 * ------------------------------------------------------------------------
 */
#define ORACLE_MAC_LEN 16

static inline void
oracle_hmac16(const uint8 *key, size_t keylen, const uint8 *data, size_t len, uint8 *mac)
{
	uint8		full[EVP_MAX_MD_SIZE];
	size_t		outlen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, data, len,
				  full, sizeof(full), &outlen) == NULL || outlen != 32)
		shim_fail(__FILE__, __LINE__, "EVP_Q_mac", "OpenSSL HMAC failed");
	memcpy(mac, full, ORACLE_MAC_LEN);
}

/* a signed token for kind||payload under key, palloc'd */
static inline char *
oracle_token_sign(const uint8 *key, size_t keylen, uint8 kind, const uint8 *payload,
				  size_t len)
{
	uint8	   *raw = palloc(1 + len + ORACLE_MAC_LEN);

	raw[0] = kind;
	if (len > 0)
		memcpy(raw + 1, payload, len);
	oracle_hmac16(key, keylen, raw, 1 + len, raw + 1 + len);
	return oracle_b64_encode(raw, 1 + len + ORACLE_MAC_LEN);
}

typedef enum OracleToken
{
	TOKEN_BAD_SHAPE,			/* rejected before the key is needed */
	TOKEN_BAD_MAC,				/* well-formed, but not signed by key */
	TOKEN_GENUINE
} OracleToken;

/*
 * What token_decode must make of a token (a C string): surrounding double
 * quotes are dropped once, the rest must be 1..1024 characters of canonical
 * base64 decoding to at least kind + 16 MAC bytes.
 */
static inline OracleToken
oracle_token_check(const uint8 *key, size_t keylen, uint8 kind, const char *token,
				   const uint8 **payload, size_t *payload_len)
{
	size_t		tlen = strlen(token);
	uint8	   *raw;
	size_t		rawlen;
	uint8		mac[ORACLE_MAC_LEN];

	if (tlen >= 2 && token[0] == '"' && token[tlen - 1] == '"')
	{
		token++;
		tlen -= 2;
	}
	if (tlen == 0 || tlen > 1024)
		return TOKEN_BAD_SHAPE;
	if (!oracle_b64_decode_strict(token, tlen, &raw, &rawlen))
		return TOKEN_BAD_SHAPE;
	if (rawlen < 1 + ORACLE_MAC_LEN || raw[0] != kind)
		return TOKEN_BAD_SHAPE;
	oracle_hmac16(key, keylen, raw, rawlen - ORACLE_MAC_LEN, mac);
	if (memcmp(mac, raw + rawlen - ORACLE_MAC_LEN, ORACLE_MAC_LEN) != 0)
		return TOKEN_BAD_MAC;
	*payload = raw + 1;
	*payload_len = rawlen - 1 - ORACLE_MAC_LEN;
	return TOKEN_GENUINE;
}

/* ------------------------------------------------------------------------
 * big-endian integers in byte strings
 * ------------------------------------------------------------------------
 */
static inline uint32
oracle_get_u32(const uint8 *p)
{
	return ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
}

static inline uint64
oracle_get_u64(const uint8 *p)
{
	return ((uint64) oracle_get_u32(p) << 32) | oracle_get_u32(p + 4);
}

static inline void
oracle_put_u32(uint8 *p, uint32 v)
{
	int			i;

	for (i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8) v;
}

static inline void
oracle_put_u64(uint8 *p, uint64 v)
{
	oracle_put_u32(p, (uint32) (v >> 32));
	oracle_put_u32(p + 4, (uint32) v);
}

#endif							/* KINESIS_FUZZ_UTIL_H */
