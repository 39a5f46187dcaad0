/*-------------------------------------------------------------------------
 *
 * eventstream.h
 *		AWS event-stream framing (application/vnd.amazon.eventstream).
 *
 * This module owns the binary message format that SubscribeToShard
 * responses are streamed in: encoding messages into a growable byte
 * buffer, and decoding (with both CRCs checked) for tests and for any
 * code that must read such a stream.  It knows nothing about HTTP or
 * Kinesis beyond the three conventional message kinds (event, exception,
 * error).
 *
 * A message is:
 *		total length (4 bytes, big-endian, whole message)
 *		headers length (4)
 *		prelude CRC (4): CRC32 of the 8 bytes above
 *		headers: name length (1), name, type (1), value
 *		payload
 *		message CRC (4): CRC32 of everything before it
 * CRC32 is the IEEE / zlib one.  Encoders append to a caller-owned
 * malloc'd buffer (*buf, *len, *cap; start with NULL, 0, 0) which they
 * grow with realloc; on failure the buffer content is unchanged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef KGW_EVENTSTREAM_H
#define KGW_EVENTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes */
#define KGW_EVS_OK			0
#define KGW_EVS_INCOMPLETE	1	/* decode: need more bytes */
#define KGW_EVS_EINVAL		2	/* encode: bad argument or too large */
#define KGW_EVS_ENOMEM		3	/* encode: out of memory */
#define KGW_EVS_ECORRUPT	4	/* decode: bad CRC, lengths or headers */

/* Header value types (wire values) */
#define KGW_EVS_TRUE		0
#define KGW_EVS_FALSE		1
#define KGW_EVS_BYTE		2
#define KGW_EVS_INT16		3
#define KGW_EVS_INT32		4
#define KGW_EVS_INT64		5
#define KGW_EVS_BYTES		6
#define KGW_EVS_STRING		7
#define KGW_EVS_TIMESTAMP	8	/* int64 milliseconds since the epoch */
#define KGW_EVS_UUID		9

#define KGW_EVS_PRELUDE_LEN		12
#define KGW_EVS_MIN_MESSAGE_LEN	16	/* prelude + message CRC */
/* Limits readers enforce (botocore's); encoders refuse to exceed them */
#define KGW_EVS_MAX_HEADERS_LEN	(128 * 1024)
#define KGW_EVS_MAX_PAYLOAD_LEN	(16 * 1024 * 1024)
#define KGW_EVS_MAX_DECODED_HEADERS	64

/*
 * One header.  For encoding, name is NUL-terminated (name_len 0) or
 * name_len bytes long.  After decoding, name points into the frame and is
 * NOT NUL-terminated: use name_len.  STRING and BYTES values are
 * (data, len), for decoded messages again pointing into the frame.
 */
typedef struct kgw_evs_header
{
	const char *name;
	size_t		name_len;
	int			type;
	union
	{
		int8_t		i8;
		int16_t		i16;
		int32_t		i32;
		int64_t		i64;		/* KGW_EVS_INT64 and KGW_EVS_TIMESTAMP */
		struct
		{
			const unsigned char *data;
			size_t		len;
		}			bytes;		/* KGW_EVS_STRING and KGW_EVS_BYTES */
		unsigned char uuid[16];
	}			v;
} kgw_evs_header;

/* A decoded message; pointers refer into the decoded buffer. */
typedef struct kgw_evs_decoded
{
	uint32_t	total_len;
	uint32_t	headers_len;
	size_t		nheaders;
	kgw_evs_header headers[KGW_EVS_MAX_DECODED_HEADERS];
	const unsigned char *payload;
	size_t		payload_len;
} kgw_evs_decoded;

/* CRC32 (IEEE, as zlib's crc32(crc, data, len); start with crc = 0) */
extern uint32_t kgw_evs_crc32(uint32_t crc, const void *data, size_t len);

/* Append one message with typed headers. */
extern int	kgw_evs_encode(unsigned char **buf, size_t *len, size_t *cap,
						   size_t nheaders, const kgw_evs_header *headers,
						   const unsigned char *payload, size_t payload_len);

/* Append one message whose headers are all strings (names[i]=values[i]). */
extern int	kgw_evs_message(unsigned char **buf, size_t *len, size_t *cap,
							size_t nheaders, const char *const *names,
							const char *const *values,
							const unsigned char *payload, size_t payload_len);

/*
 * Append an event: ":message-type"="event", ":event-type"=event_type and,
 * unless content_type is NULL, ":content-type"=content_type.
 */
extern int	kgw_evs_event(unsigned char **buf, size_t *len, size_t *cap,
						  const char *event_type, const char *content_type,
						  const unsigned char *payload, size_t payload_len);

/*
 * Append a modeled exception: ":message-type"="exception",
 * ":exception-type"=exception_type, ":content-type"="application/json";
 * payload is the JSON body (e.g. {"message":"..."}).
 */
extern int	kgw_evs_exception(unsigned char **buf, size_t *len, size_t *cap,
							  const char *exception_type,
							  const unsigned char *payload,
							  size_t payload_len);

/*
 * Append an unmodeled error: ":message-type"="error", ":error-code"=code,
 * ":error-message"=message, no payload.
 */
extern int	kgw_evs_error(unsigned char **buf, size_t *len, size_t *cap,
						  const char *code, const char *message);

/*
 * Decode the message at the start of buf (len bytes available).  Returns
 * KGW_EVS_OK with *out filled and *consumed = its length, KGW_EVS_INCOMPLETE
 * if more bytes are needed (the prelude, once complete, is already
 * checked), or KGW_EVS_ECORRUPT with a reason in err (may be NULL).
 */
extern int	kgw_evs_decode(const unsigned char *buf, size_t len,
						   kgw_evs_decoded *out, size_t *consumed,
						   char *err, size_t errlen);

/* The decoded header called name, or NULL. */
extern const kgw_evs_header *kgw_evs_find_header(const kgw_evs_decoded *m,
												 const char *name);

#endif							/* KGW_EVENTSTREAM_H */
