/*-------------------------------------------------------------------------
 *
 * cbor_tool.c
 *		Command-line driver of gateway/cbor.c, for cbor_cross.py and for
 *		trying bodies by hand:
 *
 *			cbor_tool -c2j <request.cbor >request.json
 *			cbor_tool -j2c <response.json >response.cbor
 *
 *		Reads all of stdin, writes the converted body to stdout and exits
 *		0; on a conversion error prints the reason to stderr and exits 1
 *		(2 on a usage or I/O error).
 *
 *		cc -std=gnu11 -Wall -Wextra -Werror -O2 -I.. cbor_tool.c ../cbor.c -ljansson -lm -o cbor_tool
 *
 * gateway/test/cbor_tool.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"

/* all of stdin, malloc'd; NULL on error */
static unsigned char *
read_all(FILE *f, size_t *len)
{
	size_t		cap = 65536;
	size_t		n = 0;
	unsigned char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	for (;;)
	{
		size_t		got;

		if (n == cap)
		{
			unsigned char *p = realloc(buf, cap * 2);

			if (p == NULL)
			{
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
	{
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

int
main(int argc, char **argv)
{
	unsigned char *in;
	size_t		len = 0;
	char		err[256];
	int			rc;
	void	   *out = NULL;
	size_t		out_len = 0;

	if (argc != 2 || (strcmp(argv[1], "-c2j") != 0 && strcmp(argv[1], "-j2c") != 0))
	{
		fprintf(stderr, "usage: %s -c2j|-j2c <in >out\n", argv[0]);
		return 2;
	}
	in = read_all(stdin, &len);
	if (in == NULL)
	{
		fprintf(stderr, "%s: cannot read stdin\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "-c2j") == 0)
		rc = kgw_cbor_to_json(in, len, (char **) &out, &out_len, err, sizeof(err));
	else
		rc = kgw_json_to_cbor((const char *) in, len, (unsigned char **) &out, &out_len,
							  err, sizeof(err));
	free(in);
	if (rc != 0)
	{
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0)
	{
		free(out);
		return 2;
	}
	free(out);
	return 0;
}
