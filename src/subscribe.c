/*-------------------------------------------------------------------------
 *
 * subscribe.c
 *		What SubscribeToShard needs beyond GetRecords: the continuation
 *		sequence number of a position in a shard.
 *
 * A SubscribeToShard event carries ContinuationSequenceNumber, the number
 * a consumer passes back as AFTER_SEQUENCE_NUMBER to go on exactly where
 * the event left off, even when the event had no records.  After records
 * it is the last record's number; without records it must name the
 * position the read stopped at, which only the next iterator knows.  The
 * number given is the counter just before that position, formatted in the
 * shard's layout (its creation time as the put time, as the shard's own
 * StartingSequenceNumber has): counter 0 for a shard never written to,
 * which is its StartingSequenceNumber, so AFTER it is its first record.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_iterator_continuation);

/*
 * kinesis._iterator_continuation(shard_iterator text) returns text
 *		The sequence number that AFTER_SEQUENCE_NUMBER turns back into the
 *		iterator's position (see the file header).  The iterator is checked
 *		as GetRecords checks it (issued by us, not expired) and its holder
 *		must be allowed to read the stream.
 */
Datum
kinesis_iterator_continuation(PG_FUNCTION_ARGS)
{
	char	   *token = text_to_cstring(PG_GETARG_TEXT_PP(0));
	KinesisIterator it;
	KinesisStream *stream;
	KinesisShard *shard;

	shard = kinesis_open_iterator(token, &it, &stream);
	PG_RETURN_TEXT_P(cstring_to_text(kinesis_format_seqnum(shard->create_epoch,
														   shard->shard_index,
														   Max(it.position - 1, 0),
														   shard->create_epoch)));
}
