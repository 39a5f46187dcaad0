/*-------------------------------------------------------------------------
 *
 * shim.h
 *		The little piece of "backend" the fuzz harnesses run the extension's
 *		C files on: palloc into a per-input arena, ereport/elog that longjmp
 *		back to the harness, and fakes for the few catalog, snapshot and
 *		clock calls that the fuzzed code paths reach.  Every other backend
 *		symbol the linked files reference is a stub that aborts, so a path
 *		that unexpectedly reaches the real backend shows up as a crash.
 *
 *-------------------------------------------------------------------------
 */
#ifndef KINESIS_FUZZ_SHIM_H
#define KINESIS_FUZZ_SHIM_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* the last ereport/elog at ERROR (or, for warnings, the last report) */
typedef struct ShimError
{
	int			elevel;			/* 0: none since the last shim_try */
	int			sqlerrcode;
	char	   *message;		/* malloc'd, NULL if no errmsg */
	char	   *hint;
	const char *filename;
	int			lineno;
	const char *funcname;
} ShimError;

extern ShimError shim_error;
extern int	shim_nonerror_reports;	/* DEBUG..WARNING reports seen */

/* GetCurrentTimestamp() */
extern TimestampTz shim_now;

/*
 * The row of kinesis.secrets that iterator.c's load_key reads: column 2 is
 * the HMAC key.  shim_secret_null makes the column NULL; shim_secret_rows
 * 0 makes the table empty.
 */
extern uint8 shim_secret[64];
extern int	shim_secret_len;
extern bool shim_secret_null;
extern int	shim_secret_rows;
extern int	shim_secret_scans;	/* how often the table was read */

/* tables, scans and snapshots opened and not yet closed */
extern int	shim_open_resources(void);

/* per fuzz input: start, and free everything palloc'd since */
extern void shim_begin(void);
extern void shim_end(void);
extern long shim_live_chunks(void);

/* pg_strong_random() is a deterministic generator seeded here */
extern void shim_seed_random(uint64 seed);

/*
 * Run fn(arg) the way a backend statement runs: an ERROR longjmps back
 * here.  Returns true if fn returned, false if it raised an ERROR (then
 * shim_error describes it).  FATAL/PANIC are treated as harness failures.
 */
typedef void (*shim_fn) (void *arg);
extern bool shim_try(shim_fn fn, void *arg);

/* count an outcome (label must be a string constant); FUZZ_STATS=1 prints them at exit */
extern void shim_count(const char *label);

/* "KN002" for an errcode() value (static buffer) */
extern const char *shim_sqlstate(int sqlerrcode);

/* a property did not hold: print and abort so libFuzzer keeps the input */
extern void shim_fail(const char *file, int line, const char *cond,
					  const char *fmt,...) pg_attribute_printf(4, 5) pg_attribute_noreturn();

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			shim_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

/* SQLSTATE of a Kinesis exception "KN0nn" as errcode() encodes it */
#define SHIM_KN(nn) MAKE_SQLSTATE('K', 'N', '0', '0' + (nn) / 10, '0' + (nn) % 10)

#endif							/* KINESIS_FUZZ_SHIM_H */
