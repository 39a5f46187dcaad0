/*-------------------------------------------------------------------------
 *
 * throttle.c
 *		Per-shard throughput limits: the token buckets behind
 *		kinesis.enforce_throughput_limits.
 *
 * AWS limits each shard to 1,000 records and 1 MiB written per second and
 * to 5 GetRecords calls and 2 MiB read per second.  With the setting on,
 * each shard's shared in-flight entry (inflight.c) carries four buckets,
 * updated under the entry's lock that a put or a read takes anyway; with it
 * off nothing here runs.  A bucket holds at most one second's worth and
 * refills continuously.  Writes take their tokens before the record is
 * stored (a put that does not fit fails and stores nothing); reads take one
 * call and are refused while the byte bucket is empty, then pay for the
 * bytes they returned, so a large read is not cut short but delays the next.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "kinesis.h"

bool		kinesis_enforce_throughput = false;

/*
 * refill
 *		Bring a bucket up to date: rate tokens a second, at most one
 *		second's worth.  A bucket never used is full.
 */
static void
refill(KinesisTokenBucket *b, double rate, TimestampTz now)
{
	if (b->updated == 0)
		b->tokens = rate;
	else if (now > b->updated)
		b->tokens = Min(rate, b->tokens + rate * (double) (now - b->updated) / USECS_PER_SEC);
	else if (b->updated - now > USECS_PER_SEC)
	{
		/*
		 * The clock went back (a step of the system clock): start counting
		 * from now, or the bucket would stay empty until the clock caught
		 * up.  A smaller lag is a backend that read the clock just before
		 * another one took the lock, and refills nothing.
		 */
		b->updated = now;
	}
	b->updated = Max(b->updated, now);
}

/*
 * kinesis_bucket_has
 *		Whether the bucket holds at least amount tokens now.
 */
bool
kinesis_bucket_has(KinesisTokenBucket *b, double amount, double rate, TimestampTz now)
{
	refill(b, rate, now);
	return b->tokens >= amount;
}

/*
 * kinesis_bucket_take
 *		Take amount tokens, which may leave the bucket below zero (a read
 *		pays for what it returned after the fact).
 */
void
kinesis_bucket_take(KinesisTokenBucket *b, double amount, double rate, TimestampTz now)
{
	refill(b, rate, now);
	b->tokens -= amount;
}

/*
 * kinesis_throughput_exceeded
 *		ProvisionedThroughputExceededException with AWS's text.
 */
void
kinesis_throughput_exceeded(KinesisStream *stream, KinesisShard *shard)
{
	kinesis_raise(KX_PROVISIONED_THROUGHPUT_EXCEEDED, "%s",
				  kinesis_throughput_message(stream, shard));
}

/*
 * kinesis_throughput_message
 *		"Rate exceeded for shard <id> in stream <name> under account <acct>."
 */
char *
kinesis_throughput_message(KinesisStream *stream, KinesisShard *shard)
{
	return psprintf("Rate exceeded for shard %s in stream %s under account %s.",
					kinesis_shard_id(shard->shard_index), stream->name, kinesis_account_id);
}
