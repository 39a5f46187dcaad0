/*-------------------------------------------------------------------------
 *
 * memory.c
 *		What a reading backend keeps of the memory of one GetRecords call
 *		for the next: the GUC kinesis.reader_memory_keep.
 *
 * A GetRecords call of 10,000 records materializes its answer several
 * times over, in allocations of megabytes: the record array and the result
 * row that carries it, the function scan's tuplestore, the rows of an
 * unnest.  glibc serves such sizes with fresh mmap()s, or from the top of
 * the heap, which free() gives back to the kernel once more than a couple
 * of them are free at once.  Every call then takes a page fault, and the
 * kernel zeroes a page, for every 4 kB of its answer, each time: about a
 * third of a one-consumer drain's server time was spent so
 * (test/bench/profile.sh drain).
 *
 * So a backend that reads raises glibc's two thresholds once, at its first
 * read: allocations up to half the setting (at most 32 MB, glibc's limit)
 * come from the heap, and the heap keeps up to the setting free at its top
 * instead of trimming it.  The next call then reuses pages that are
 * already mapped.  The price is that such a backend's resident size stays
 * at its peak (bounded by the setting above what it uses) until it exits.
 * Backends that never read are left alone, and 0 turns it off (a backend
 * that had raised the thresholds gets glibc's static defaults back and
 * trims at once).  Without glibc the setting is accepted and does nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "kinesis.h"

/* kinesis.reader_memory_keep, in kB */
int			kinesis_reader_memory_keep = 64 * 1024;

/* the setting this backend's malloc was last tuned for (kB; 0: untouched) */
static int	applied_keep = 0;

/*
 * kinesis_reader_memory_prepare
 *		Called at the start of every read (get_records, read_records and the
 *		API's GetRecords, which goes through them): tune malloc for the
 *		current setting if it changed since the last call.  Cheap when it
 *		did not.
 */
void
kinesis_reader_memory_prepare(void)
{
	int			keep = kinesis_reader_memory_keep;

	if (keep == applied_keep)
		return;
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
	if (keep > 0)
	{
		Size		keep_bytes = (Size) keep * 1024;
		Size		mmap_bytes = Min(keep_bytes / 2, (Size) 32 * 1024 * 1024);

		(void) mallopt(M_MMAP_THRESHOLD, (int) mmap_bytes);
		(void) mallopt(M_TRIM_THRESHOLD, (int) keep_bytes);
	}
	else
	{
		/* glibc's static defaults; its dynamic thresholds cannot come back */
		(void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);
		(void) mallopt(M_TRIM_THRESHOLD, 128 * 1024);
		(void) malloc_trim(0);
	}
#endif
	applied_keep = keep;
}
