/*-------------------------------------------------------------------------
 *
 * eventstream_tool.c
 *		Command-line driver around gateway/eventstream.c for
 *		eventstream_test.py.
 *
 * This file owns the test-only glue between Python and the C encoder and
 * decoder.
 *
 * "eventstream_tool encode" reads message descriptions from stdin and
 * writes the encoded frames to stdout, and one line "rc <n>" per message
 * to stderr.  Lines (all byte strings hex-encoded, "-" for none):
 *		header <hexname> <type> [<value>]	typed header; value is decimal
 *											for 2-5 and 8, hex for 6, 7, 9,
 *											absent for 0 and 1
 *		payload <hex>
 *		end									encode a message from the above
 *		event <hextype> <hexcontenttype|->	then payload lines, then end
 *		exception <hextype>					likewise
 *		error <hexcode> <hexmessage>		then end
 *
 * "eventstream_tool decode" reads a byte stream from stdin and prints
 * every message in it:
 *		MSG <total_len> <headers_len>
 *		H <hexname> <type> <value>			as above
 *		P <hexpayload>
 * then "END OK", "END INCOMPLETE <bytes left>" or "END CORRUPT <reason>".
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../eventstream.h"

#define MAX_H 300

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

/* Decode a hex word into a malloc'd buffer; "-" means NULL. */
static unsigned char *
unhex(const char *s, size_t *len)
{
	size_t		n = strcspn(s, " \t\r\n");
	unsigned char *out;
	size_t		i;

	if (n == 1 && s[0] == '-')
	{
		if (len)
			*len = 0;
		return NULL;
	}
	out = malloc(n / 2 + 1);
	if (out == NULL)
		exit(2);
	for (i = 0; i + 1 < n; i += 2)
	{
		int			hi = hexval(s[i]);
		int			lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
		{
			fprintf(stderr, "bad hex: %.20s\n", s);
			exit(2);
		}
		out[i / 2] = (unsigned char) (hi * 16 + lo);
	}
	out[n / 2] = '\0';
	if (len)
		*len = n / 2;
	return out;
}

/* Print n bytes as hex ("-" never: empty prints nothing). */
static void
print_hex(const unsigned char *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* The next space-separated word after s, or "" */
static char *
next_word(char *s)
{
	char	   *sp = strchr(s, ' ');

	return sp ? sp + 1 : s + strlen(s);
}

/* Encode mode: see the file header. */
static int
encode_mode(void)
{
	char	   *line = NULL;
	size_t		lcap = 0;
	kgw_evs_header hs[MAX_H];
	unsigned char *owned[2 * MAX_H + 4];
	size_t		nowned = 0;
	size_t		nh = 0;
	unsigned char *payload = NULL;
	size_t		payload_len = 0;
	int			kind = 0;		/* 0 typed, 1 event, 2 exception, 3 error */
	unsigned char *a1 = NULL,
			   *a2 = NULL;
	unsigned char *buf = NULL;
	size_t		len = 0,
				cap = 0;
	size_t		i;

	while (getline(&line, &lcap, stdin) > 0)
	{
		char	   *arg = next_word(line);

		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "header ", 7) == 0 && nh < MAX_H)
		{
			kgw_evs_header *h = &hs[nh++];
			char	   *t = next_word(arg);
			char	   *v = next_word(t);
			size_t		vlen;

			memset(h, 0, sizeof(*h));
			h->name = (const char *) unhex(arg, &h->name_len);
			owned[nowned++] = (unsigned char *) h->name;
			if (h->name == NULL)
			{
				h->name = "";
				h->name_len = 0;
			}
			else if (h->name_len == 0)
				h->name = "";
			h->type = atoi(t);
			switch (h->type)
			{
				case KGW_EVS_BYTE:
					h->v.i8 = (int8_t) atoi(v);
					break;
				case KGW_EVS_INT16:
					h->v.i16 = (int16_t) atoi(v);
					break;
				case KGW_EVS_INT32:
					h->v.i32 = (int32_t) atol(v);
					break;
				case KGW_EVS_INT64:
				case KGW_EVS_TIMESTAMP:
					h->v.i64 = (int64_t) strtoll(v, NULL, 10);
					break;
				case KGW_EVS_BYTES:
				case KGW_EVS_STRING:
					h->v.bytes.data = unhex(v, &vlen);
					h->v.bytes.len = vlen;
					owned[nowned++] = (unsigned char *) h->v.bytes.data;
					break;
				case KGW_EVS_UUID:
					{
						unsigned char *u = unhex(v, &vlen);

						if (u && vlen == 16)
							memcpy(h->v.uuid, u, 16);
						free(u);
					}
					break;
				default:
					break;
			}
		}
		else if (strncmp(line, "payload ", 8) == 0 || strcmp(line, "payload") == 0)
		{
			free(payload);
			payload = unhex(arg, &payload_len);
		}
		else if (strncmp(line, "event ", 6) == 0)
		{
			kind = 1;
			a1 = unhex(arg, NULL);
			a2 = unhex(next_word(arg), NULL);
		}
		else if (strncmp(line, "exception ", 10) == 0)
		{
			kind = 2;
			a1 = unhex(arg, NULL);
		}
		else if (strncmp(line, "error ", 6) == 0)
		{
			kind = 3;
			a1 = unhex(arg, NULL);
			a2 = unhex(next_word(arg), NULL);
			if (a2 == NULL)
				a2 = (unsigned char *) strdup("");
		}
		else if (strcmp(line, "end") == 0)
		{
			int			rc;
			size_t		before = len;

			if (kind == 1)
				rc = kgw_evs_event(&buf, &len, &cap, (const char *) a1,
								   (const char *) a2, payload, payload_len);
			else if (kind == 2)
				rc = kgw_evs_exception(&buf, &len, &cap, (const char *) a1,
									   payload, payload_len);
			else if (kind == 3)
				rc = kgw_evs_error(&buf, &len, &cap, (const char *) a1,
								   (const char *) a2);
			else
				rc = kgw_evs_encode(&buf, &len, &cap, nh, hs, payload,
									payload_len);
			fprintf(stderr, "rc %d\n", rc);
			if (rc != KGW_EVS_OK && len != before)
			{
				fprintf(stderr, "buffer changed on failure\n");
				return 2;
			}
			for (i = 0; i < nowned; i++)
				free(owned[i]);
			nowned = 0;
			nh = 0;
			free(payload);
			payload = NULL;
			payload_len = 0;
			free(a1);
			free(a2);
			a1 = a2 = NULL;
			kind = 0;
		}
	}
	if (len > 0 && fwrite(buf, 1, len, stdout) != len)
		return 2;
	free(buf);
	free(line);
	return 0;
}

/* Decode mode: see the file header. */
static int
decode_mode(void)
{
	unsigned char *data = NULL;
	size_t		len = 0,
				cap = 0,
				off = 0;
	size_t		n;
	char		err[256];

	for (;;)
	{
		if (len == cap)
		{
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			if (data == NULL)
				return 2;
		}
		n = fread(data + len, 1, cap - len, stdin);
		if (n == 0)
			break;
		len += n;
	}
	while (off < len)
	{
		kgw_evs_decoded m;
		size_t		used;
		size_t		i;
		int			rc = kgw_evs_decode(data + off, len - off, &m, &used,
										err, sizeof(err));

		if (rc == KGW_EVS_INCOMPLETE)
		{
			printf("END INCOMPLETE %zu\n", len - off);
			free(data);
			return 0;
		}
		if (rc != KGW_EVS_OK)
		{
			printf("END CORRUPT %s\n", err);
			free(data);
			return 0;
		}
		printf("MSG %" PRIu32 " %" PRIu32 "\n", m.total_len, m.headers_len);
		for (i = 0; i < m.nheaders; i++)
		{
			const kgw_evs_header *h = &m.headers[i];

			printf("H ");
			print_hex((const unsigned char *) h->name, h->name_len);
			printf(" %d", h->type);
			switch (h->type)
			{
				case KGW_EVS_BYTE:
					printf(" %d", h->v.i8);
					break;
				case KGW_EVS_INT16:
					printf(" %d", h->v.i16);
					break;
				case KGW_EVS_INT32:
					printf(" %" PRId32, h->v.i32);
					break;
				case KGW_EVS_INT64:
				case KGW_EVS_TIMESTAMP:
					printf(" %" PRId64, h->v.i64);
					break;
				case KGW_EVS_BYTES:
				case KGW_EVS_STRING:
					printf(" ");
					print_hex(h->v.bytes.data, h->v.bytes.len);
					break;
				case KGW_EVS_UUID:
					printf(" ");
					print_hex(h->v.uuid, 16);
					break;
				default:
					break;
			}
			printf("\n");
		}
		printf("P ");
		print_hex(m.payload, m.payload_len);
		printf("\n");
		off += used;
	}
	printf("END OK\n");
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "encode") == 0)
		return encode_mode();
	if (argc == 2 && strcmp(argv[1], "decode") == 0)
		return decode_mode();
	fprintf(stderr, "usage: %s encode|decode\n", argv[0]);
	return 2;
}
