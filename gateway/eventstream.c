/*-------------------------------------------------------------------------
 *
 * eventstream.c
 *		AWS event-stream framing (application/vnd.amazon.eventstream).
 *
 * This file owns the encoder and decoder of event-stream messages, the
 * framing SubscribeToShard uses to push SubscribeToShardEvent records to
 * the client over one long HTTP response, and the CRC32 the framing
 * needs (table-driven, so there is no zlib dependency).  See
 * eventstream.h for the wire layout.
 *
 * Encoding validates everything a reader would reject (botocore's limits,
 * duplicate or empty header names, oversized values), so a message we
 * produce is always readable by the SDKs.  Decoding checks both CRCs and
 * every length before touching the headers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventstream.h"

/* CRC32, IEEE polynomial 0xEDB88320 (reflected), as zlib computes it. */
static const uint32_t crc_table[256] = {
	0x00000000, 0x77073096, 0xee0e612c, 0x990951ba,
	0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
	0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988,
	0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
	0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de,
	0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
	0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec,
	0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
	0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172,
	0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
	0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940,
	0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
	0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116,
	0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
	0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924,
	0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
	0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a,
	0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
	0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818,
	0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
	0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e,
	0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
	0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c,
	0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
	0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2,
	0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
	0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0,
	0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
	0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086,
	0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
	0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4,
	0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
	0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a,
	0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
	0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8,
	0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
	0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe,
	0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
	0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc,
	0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
	0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252,
	0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
	0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60,
	0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
	0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236,
	0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
	0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04,
	0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
	0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a,
	0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
	0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38,
	0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
	0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e,
	0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
	0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c,
	0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
	0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2,
	0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
	0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0,
	0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
	0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6,
	0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
	0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94,
	0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

uint32_t
kgw_evs_crc32(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	crc = ~crc;
	while (len-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Store v big-endian in 4 bytes at p. */
static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

/* Read a big-endian 4-byte value at p. */
static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

/* Store the low n bytes of v big-endian at p. */
static void
put_be(unsigned char *p, uint64_t v, int n)
{
	while (n-- > 0)
	{
		p[n] = (unsigned char) v;
		v >>= 8;
	}
}

/* Read an n-byte big-endian unsigned value at p. */
static uint64_t
get_be(const unsigned char *p, int n)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Name length of header h for encoding. */
static size_t
header_name_len(const kgw_evs_header *h)
{
	return h->name_len ? h->name_len : strlen(h->name);
}

/*
 * Encoded size of header h's value, or (size_t) -1 if the type is
 * unknown or the value too long for its 2-byte length.
 */
static size_t
value_size(const kgw_evs_header *h)
{
	switch (h->type)
	{
		case KGW_EVS_TRUE:
		case KGW_EVS_FALSE:
			return 0;
		case KGW_EVS_BYTE:
			return 1;
		case KGW_EVS_INT16:
			return 2;
		case KGW_EVS_INT32:
			return 4;
		case KGW_EVS_INT64:
		case KGW_EVS_TIMESTAMP:
			return 8;
		case KGW_EVS_BYTES:
		case KGW_EVS_STRING:
			if (h->v.bytes.len > 65535 ||
				(h->v.bytes.len > 0 && h->v.bytes.data == NULL))
				return (size_t) -1;
			return 2 + h->v.bytes.len;
		case KGW_EVS_UUID:
			return 16;
		default:
			return (size_t) -1;
	}
}

/* Write header h at p; returns the bytes written. */
static size_t
write_header(unsigned char *p, const kgw_evs_header *h)
{
	size_t		nlen = header_name_len(h);
	unsigned char *start = p;

	*p++ = (unsigned char) nlen;
	memcpy(p, h->name, nlen);
	p += nlen;
	*p++ = (unsigned char) h->type;
	switch (h->type)
	{
		case KGW_EVS_BYTE:
			*p++ = (unsigned char) h->v.i8;
			break;
		case KGW_EVS_INT16:
			put_be(p, (uint16_t) h->v.i16, 2);
			p += 2;
			break;
		case KGW_EVS_INT32:
			put_be(p, (uint32_t) h->v.i32, 4);
			p += 4;
			break;
		case KGW_EVS_INT64:
		case KGW_EVS_TIMESTAMP:
			put_be(p, (uint64_t) h->v.i64, 8);
			p += 8;
			break;
		case KGW_EVS_BYTES:
		case KGW_EVS_STRING:
			put_be(p, h->v.bytes.len, 2);
			p += 2;
			if (h->v.bytes.len > 0)
				memcpy(p, h->v.bytes.data, h->v.bytes.len);
			p += h->v.bytes.len;
			break;
		case KGW_EVS_UUID:
			memcpy(p, h->v.uuid, 16);
			p += 16;
			break;
		default:				/* TRUE, FALSE: no value */
			break;
	}
	return (size_t) (p - start);
}

int
kgw_evs_encode(unsigned char **buf, size_t *len, size_t *cap,
			   size_t nheaders, const kgw_evs_header *headers,
			   const unsigned char *payload, size_t payload_len)
{
	size_t		hlen = 0;
	size_t		total;
	size_t		i,
				j;
	unsigned char *p;

	if (buf == NULL || len == NULL || cap == NULL ||
		(payload_len > 0 && payload == NULL) ||
		payload_len > KGW_EVS_MAX_PAYLOAD_LEN ||
		(nheaders > 0 && headers == NULL))
		return KGW_EVS_EINVAL;

	/* validate and size the headers */
	for (i = 0; i < nheaders; i++)
	{
		size_t		nlen;
		size_t		vs;

		if (headers[i].name == NULL)
			return KGW_EVS_EINVAL;
		nlen = header_name_len(&headers[i]);
		vs = value_size(&headers[i]);
		if (nlen == 0 || nlen > 255 || vs == (size_t) -1)
			return KGW_EVS_EINVAL;
		for (j = 0; j < i; j++)
		{
			if (header_name_len(&headers[j]) == nlen &&
				memcmp(headers[j].name, headers[i].name, nlen) == 0)
				return KGW_EVS_EINVAL;
		}
		hlen += 2 + nlen + vs;
		if (hlen > KGW_EVS_MAX_HEADERS_LEN)
			return KGW_EVS_EINVAL;
	}
	total = KGW_EVS_MIN_MESSAGE_LEN + hlen + payload_len;

	/* make room */
	if (*len > SIZE_MAX - total)
		return KGW_EVS_ENOMEM;
	if (*buf == NULL || *len + total > *cap)
	{
		size_t		newcap = *cap > 0 ? *cap : 256;
		unsigned char *nb;

		while (newcap < *len + total)
		{
			if (newcap > SIZE_MAX / 2)
			{
				newcap = *len + total;
				break;
			}
			newcap *= 2;
		}
		nb = realloc(*buf, newcap);
		if (nb == NULL)
			return KGW_EVS_ENOMEM;
		*buf = nb;
		*cap = newcap;
	}

	/* prelude, headers, payload, message CRC */
	p = *buf + *len;
	put32(p, (uint32_t) total);
	put32(p + 4, (uint32_t) hlen);
	put32(p + 8, kgw_evs_crc32(0, p, 8));
	j = KGW_EVS_PRELUDE_LEN;
	for (i = 0; i < nheaders; i++)
		j += write_header(p + j, &headers[i]);
	if (payload_len > 0)
		memcpy(p + j, payload, payload_len);
	j += payload_len;
	put32(p + j, kgw_evs_crc32(0, p, j));
	*len += total;
	return KGW_EVS_OK;
}

int
kgw_evs_message(unsigned char **buf, size_t *len, size_t *cap,
				size_t nheaders, const char *const *names,
				const char *const *values,
				const unsigned char *payload, size_t payload_len)
{
	kgw_evs_header local[8];
	kgw_evs_header *hs = local;
	size_t		i;
	int			rc;

	if (nheaders > 0 && (names == NULL || values == NULL))
		return KGW_EVS_EINVAL;
	memset(local, 0, sizeof(local));
	if (nheaders > sizeof(local) / sizeof(local[0]))
	{
		hs = calloc(nheaders, sizeof(kgw_evs_header));
		if (hs == NULL)
			return KGW_EVS_ENOMEM;
	}
	for (i = 0; i < nheaders; i++)
	{
		if (names[i] == NULL || values[i] == NULL)
		{
			if (hs != local)
				free(hs);
			return KGW_EVS_EINVAL;
		}
		memset(&hs[i], 0, sizeof(hs[i]));
		hs[i].name = names[i];
		hs[i].type = KGW_EVS_STRING;
		hs[i].v.bytes.data = (const unsigned char *) values[i];
		hs[i].v.bytes.len = strlen(values[i]);
	}
	rc = kgw_evs_encode(buf, len, cap, nheaders, hs, payload, payload_len);
	if (hs != local)
		free(hs);
	return rc;
}

int
kgw_evs_event(unsigned char **buf, size_t *len, size_t *cap,
			  const char *event_type, const char *content_type,
			  const unsigned char *payload, size_t payload_len)
{
	const char *names[] = {":message-type", ":event-type", ":content-type"};
	const char *values[] = {"event", event_type, content_type};

	if (event_type == NULL)
		return KGW_EVS_EINVAL;
	return kgw_evs_message(buf, len, cap, content_type ? 3 : 2, names, values,
						   payload, payload_len);
}

int
kgw_evs_exception(unsigned char **buf, size_t *len, size_t *cap,
				  const char *exception_type,
				  const unsigned char *payload, size_t payload_len)
{
	const char *names[] = {":message-type", ":exception-type", ":content-type"};
	const char *values[] = {"exception", exception_type, "application/json"};

	if (exception_type == NULL)
		return KGW_EVS_EINVAL;
	return kgw_evs_message(buf, len, cap, 3, names, values,
						   payload, payload_len);
}

int
kgw_evs_error(unsigned char **buf, size_t *len, size_t *cap,
			  const char *code, const char *message)
{
	const char *names[] = {":message-type", ":error-code", ":error-message"};
	const char *values[] = {"error", code, message ? message : ""};

	if (code == NULL)
		return KGW_EVS_EINVAL;
	return kgw_evs_message(buf, len, cap, 3, names, values, NULL, 0);
}

/* Report a decoding failure. */
static int
corrupt(char *err, size_t errlen, const char *why)
{
	if (err && errlen > 0)
		snprintf(err, errlen, "%s", why);
	return KGW_EVS_ECORRUPT;
}

/*
 * Parse the headers section [p, end) into out->headers, checking that
 * every header fits, types are known and names are non-empty and unique.
 */
static int
decode_headers(const unsigned char *p, const unsigned char *end,
			   kgw_evs_decoded *out, char *err, size_t errlen)
{
	out->nheaders = 0;
	while (p < end)
	{
		kgw_evs_header *h;
		size_t		nlen = *p++;
		size_t		vs;
		size_t		i;

		if (out->nheaders >= KGW_EVS_MAX_DECODED_HEADERS)
			return corrupt(err, errlen, "too many headers");
		if (nlen == 0)
			return corrupt(err, errlen, "empty header name");
		if ((size_t) (end - p) < nlen + 1)
			return corrupt(err, errlen, "truncated header name");
		h = &out->headers[out->nheaders];
		memset(h, 0, sizeof(*h));
		h->name = (const char *) p;
		h->name_len = nlen;
		p += nlen;
		h->type = *p++;
		switch (h->type)
		{
			case KGW_EVS_TRUE:
			case KGW_EVS_FALSE:
				vs = 0;
				break;
			case KGW_EVS_BYTE:
				vs = 1;
				break;
			case KGW_EVS_INT16:
				vs = 2;
				break;
			case KGW_EVS_INT32:
				vs = 4;
				break;
			case KGW_EVS_INT64:
			case KGW_EVS_TIMESTAMP:
				vs = 8;
				break;
			case KGW_EVS_BYTES:
			case KGW_EVS_STRING:
				if (end - p < 2)
					return corrupt(err, errlen, "truncated header value");
				vs = 2 + (size_t) get_be(p, 2);
				break;
			case KGW_EVS_UUID:
				vs = 16;
				break;
			default:
				return corrupt(err, errlen, "unknown header value type");
		}
		if ((size_t) (end - p) < vs)
			return corrupt(err, errlen, "truncated header value");
		switch (h->type)
		{
			case KGW_EVS_BYTE:
				h->v.i8 = (int8_t) p[0];
				break;
			case KGW_EVS_INT16:
				h->v.i16 = (int16_t) (uint16_t) get_be(p, 2);
				break;
			case KGW_EVS_INT32:
				h->v.i32 = (int32_t) (uint32_t) get_be(p, 4);
				break;
			case KGW_EVS_INT64:
			case KGW_EVS_TIMESTAMP:
				h->v.i64 = (int64_t) get_be(p, 8);
				break;
			case KGW_EVS_BYTES:
			case KGW_EVS_STRING:
				h->v.bytes.data = p + 2;
				h->v.bytes.len = vs - 2;
				break;
			case KGW_EVS_UUID:
				memcpy(h->v.uuid, p, 16);
				break;
			default:
				break;
		}
		p += vs;
		for (i = 0; i < out->nheaders; i++)
		{
			if (out->headers[i].name_len == nlen &&
				memcmp(out->headers[i].name, h->name, nlen) == 0)
				return corrupt(err, errlen, "duplicate header");
		}
		out->nheaders++;
	}
	return KGW_EVS_OK;
}

int
kgw_evs_decode(const unsigned char *buf, size_t len, kgw_evs_decoded *out,
			   size_t *consumed, char *err, size_t errlen)
{
	uint32_t	total,
				hlen,
				crc;
	size_t		payload_end;
	int			rc;

	if (consumed)
		*consumed = 0;
	if (err && errlen > 0)
		err[0] = '\0';
	if (len < KGW_EVS_PRELUDE_LEN)
		return KGW_EVS_INCOMPLETE;
	total = get32(buf);
	hlen = get32(buf + 4);
	if (kgw_evs_crc32(0, buf, 8) != get32(buf + 8))
		return corrupt(err, errlen, "prelude checksum mismatch");
	if (total < KGW_EVS_MIN_MESSAGE_LEN ||
		hlen > total - KGW_EVS_MIN_MESSAGE_LEN)
		return corrupt(err, errlen, "invalid message lengths");
	if (hlen > KGW_EVS_MAX_HEADERS_LEN)
		return corrupt(err, errlen, "headers too long");
	if (total - KGW_EVS_MIN_MESSAGE_LEN - hlen > KGW_EVS_MAX_PAYLOAD_LEN)
		return corrupt(err, errlen, "payload too long");
	if (len < total)
		return KGW_EVS_INCOMPLETE;
	payload_end = total - 4;
	crc = kgw_evs_crc32(0, buf, payload_end);
	if (crc != get32(buf + payload_end))
		return corrupt(err, errlen, "message checksum mismatch");
	rc = decode_headers(buf + KGW_EVS_PRELUDE_LEN,
						buf + KGW_EVS_PRELUDE_LEN + hlen, out, err, errlen);
	if (rc != KGW_EVS_OK)
		return rc;
	out->total_len = total;
	out->headers_len = hlen;
	out->payload = buf + KGW_EVS_PRELUDE_LEN + hlen;
	out->payload_len = payload_end - KGW_EVS_PRELUDE_LEN - hlen;
	if (consumed)
		*consumed = total;
	return KGW_EVS_OK;
}

const kgw_evs_header *
kgw_evs_find_header(const kgw_evs_decoded *m, const char *name)
{
	size_t		n = strlen(name);
	size_t		i;

	for (i = 0; i < m->nheaders; i++)
	{
		if (m->headers[i].name_len == n &&
			memcmp(m->headers[i].name, name, n) == 0)
			return &m->headers[i];
	}
	return NULL;
}
