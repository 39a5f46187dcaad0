-- kinesis.api(): the AWS JSON 1.1 front door.  Responses carry sequence
-- numbers, iterators and timestamps that change from run to run, so they
-- are printed through mask(), which replaces each such value by a tag that
-- says it has the right form (<seq56>, <token>, <now>, <behind>) or by
-- BAD:<value>; show() prints a masked response as indented JSON.
\set VERBOSITY terse
\pset format unaligned

CREATE FUNCTION pg_temp.mask(j jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    k text;
    v jsonb;
    result jsonb := '{}';
BEGIN
    IF jsonb_typeof(j) = 'array' THEN
        RETURN coalesce((SELECT jsonb_agg(pg_temp.mask(e) ORDER BY i)
                           FROM jsonb_array_elements(j) WITH ORDINALITY AS x(e, i)), '[]');
    ELSIF jsonb_typeof(j) <> 'object' THEN
        RETURN j;
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(j) LOOP
        IF k IN ('SequenceNumber', 'StartingSequenceNumber', 'EndingSequenceNumber') THEN
            v := to_jsonb(CASE WHEN v #>> '{}' ~ '^\d{56}$' AND jsonb_typeof(v) = 'string'
                               THEN '<seq56>' ELSE 'BAD:' || v::text END);
        ELSIF k IN ('ShardIterator', 'NextShardIterator', 'NextToken') THEN
            v := to_jsonb(CASE WHEN jsonb_typeof(v) = 'string' AND v #>> '{}' ~ '^[A-Za-z0-9+/=_-]{16,}$' AND length(v #>> '{}') <= 512
                               THEN '<token>' ELSE 'BAD:' || v::text END);
        ELSIF k = 'MillisBehindLatest' THEN
            v := CASE WHEN jsonb_typeof(v) = 'number' AND v::numeric > 0 AND v::numeric = trunc(v::numeric)
                      THEN '"<behind>"' ELSE v END;
        ELSIF k IN ('ApproximateArrivalTimestamp', 'StreamCreationTimestamp') THEN
            -- epoch seconds, millisecond precision, taken during this test
            v := to_jsonb(CASE WHEN jsonb_typeof(v) = 'number'
                                    AND v::numeric = trunc(v::numeric, 3)
                                    AND abs(v::numeric - extract(epoch FROM now())) < 600
                               THEN '<now>' ELSE 'BAD:' || v::text END);
        ELSE
            v := pg_temp.mask(v);
        END IF;
        result := result || jsonb_build_object(k, v);
    END LOOP;
    RETURN result;
END
$$;
CREATE FUNCTION pg_temp.show(j jsonb) RETURNS text
LANGUAGE sql AS $$ SELECT jsonb_pretty(pg_temp.mask(j)) $$;

-- =====================================================================
-- CreateStream
-- =====================================================================
SELECT kinesis.api('CreateStream', '{"StreamName": "zz_api_a", "ShardCount": 2}');
-- a fraction is floored, JSON null counts as absent, unknown keys are ignored
SELECT kinesis.api('CreateStream', '{"StreamName": "zz_api_b", "ShardCount": 1.9, "Bogus": [1], "StreamModeDetails": null}');
SELECT kinesis.api('CreateStream', '{"StreamName": "zz_api_c", "ShardCount": null}');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.api('CreateStream', '{"StreamName": "zz_api_a", "ShardCount": 1}');
SELECT kinesis.api('CreateStream', '{"StreamName": "", "ShardCount": 0}');
-- (the account's current shard count depends on what else ran: N)
SELECT regexp_replace(kinesis.api('CreateStream', '{"StreamName": "zz_api_big", "ShardCount": 100000}')::text,
                      'account: \d+', 'account: N') AS api;
-- numbers beyond the integer range saturate, as AWS's do
SELECT regexp_replace(kinesis.api('CreateStream', '{"StreamName": "zz_api_big", "ShardCount": 1e30}')::text,
                      'account: \d+', 'account: N') AS api;
SELECT kinesis.api('CreateStream', '{"StreamName": null, "ShardCount": 1}');

-- =====================================================================
-- DescribeStream, DescribeStreamSummary
-- =====================================================================
SELECT pg_temp.show(kinesis.api('DescribeStream', '{"StreamName": "zz_api_a"}'));
SELECT pg_temp.show(kinesis.api('DescribeStream', '{"StreamName": "zz_api_a", "Limit": 1.99}'));
SELECT pg_temp.show(kinesis.api('DescribeStream',
                                '{"StreamName": "zz_api_a", "ExclusiveStartShardId": "shardId-000000000000"}'));
SELECT pg_temp.show(kinesis.api('DescribeStreamSummary', '{"StreamName": "zz_api_b"}'));
SELECT kinesis.api('DescribeStreamSummary', '{"StreamName": "zz_api_c"}') #> '{StreamDescriptionSummary,OpenShardCount}'
       AS default_shard_count;
-- the creation time is the same number in both and in ListShards' filter
SELECT kinesis.api('DescribeStream', '{"StreamName": "zz_api_a"}') #> '{StreamDescription,StreamCreationTimestamp}'
     = kinesis.api('DescribeStreamSummary', '{"StreamName": "zz_api_a"}') #> '{StreamDescriptionSummary,StreamCreationTimestamp}'
       AS same_creation_time;
SELECT kinesis.api('DescribeStream', '{"StreamName": "zz_api_nope"}');
SELECT kinesis.api('DescribeStream', '{}');
SELECT kinesis.api('DescribeStream', '{"StreamName": "a", "Limit": 0, "ExclusiveStartShardId": ""}');
SELECT kinesis.api('DescribeStreamSummary', '{"StreamName": "zz_api_nope"}');

-- =====================================================================
-- ListStreams (names sort last: the zz_ prefix)
-- =====================================================================
SELECT kinesis.api('ListStreams', '{"ExclusiveStartStreamName": "zz_api_"}');
SELECT kinesis.api('ListStreams', '{"ExclusiveStartStreamName": "zz_api_", "Limit": 2}');
SELECT kinesis.api('ListStreams', '{"ExclusiveStartStreamName": "zz_api_c"}');
-- NextToken, as AWS's later API pages: it goes on after the page's last name
SELECT kinesis.api('ListStreams', jsonb_build_object('NextToken',
           kinesis.api('ListStreams', '{"ExclusiveStartStreamName": "zz_api_", "Limit": 1}') ->> 'NextToken'));
SELECT kinesis.api('ListStreams', '{"NextToken": "bm90IGEgdG9rZW4="}');
SELECT kinesis.api('ListStreams', '{"NextToken": "!!", "ExclusiveStartStreamName": "a"}');
SELECT kinesis.api('ListStreams', '{"Limit": 0}');
-- no body members at all, and the request parameter left out
SELECT jsonb_typeof(kinesis.api('ListStreams', '{}') -> 'StreamNames') AS names,
       jsonb_typeof(kinesis.api('ListStreams') -> 'HasMoreStreams') AS has_more;

-- =====================================================================
-- ListShards
-- =====================================================================
SELECT pg_temp.show(kinesis.api('ListShards', '{"StreamName": "zz_api_a"}'));
SELECT pg_temp.show(kinesis.api('ListShards', '{"StreamName": "zz_api_a", "MaxResults": 1}'));
SELECT kinesis.api('ListShards', '{"StreamName": "zz_api_a", "MaxResults": 1}') ->> 'NextToken' AS token \gset
SELECT pg_temp.show(kinesis.api('ListShards', jsonb_build_object('NextToken', :'token')));
SELECT pg_temp.show(kinesis.api('ListShards', jsonb_build_object('NextToken', :'token', 'MaxResults', 5)));
SELECT kinesis.api('ListShards', '{"StreamName": "zz_api_a", "ExclusiveStartShardId": "shardId-000000000000"}')
       #>> '{Shards,0,ShardId}' AS after_first;
-- StreamCreationTimestamp: the number DescribeStreamSummary gives, or the
-- same instant as an ISO-8601 string; another time does not match
SELECT kinesis.api('DescribeStreamSummary', '{"StreamName": "zz_api_a"}')
       #> '{StreamDescriptionSummary,StreamCreationTimestamp}' AS created \gset
SELECT jsonb_array_length(kinesis.api('ListShards',
           jsonb_build_object('StreamName', 'zz_api_a', 'StreamCreationTimestamp', :'created'::numeric)) -> 'Shards')
       AS by_number;
SELECT jsonb_array_length(kinesis.api('ListShards',
           jsonb_build_object('StreamName', 'zz_api_a', 'StreamCreationTimestamp',
                              to_char(to_timestamp(:'created'::numeric) AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) -> 'Shards')
       AS by_iso_string;
SELECT kinesis.api('ListShards',
           jsonb_build_object('StreamName', 'zz_api_a', 'StreamCreationTimestamp', :'created'::numeric - 3600));
SELECT kinesis.api('ListShards', '{}');
SELECT kinesis.api('ListShards', '{"StreamName": "zz_api_a", "NextToken": "abc"}');
SELECT kinesis.api('ListShards', '{"NextToken": "not-a-token"}');

-- =====================================================================
-- DescribeLimits
-- =====================================================================
SELECT kinesis.api('DescribeLimits', '{}') -> 'ShardLimit' AS shard_limit,
       (kinesis.api('DescribeLimits', '{}') ->> 'OpenShardCount')::integer
       = (SELECT count(*) FROM kinesis.shard_meta WHERE closed_at IS NULL) AS open_shard_count_matches,
       array(SELECT jsonb_object_keys(kinesis.api('DescribeLimits')) ORDER BY 1) AS keys;

-- =====================================================================
-- PutRecord: blobs are base64 both ways, binary bytes included
-- =====================================================================
SELECT pg_temp.show(kinesis.api('PutRecord',
           '{"StreamName": "zz_api_b", "PartitionKey": "k", "Data": "AP8A/w=="}'));
SELECT kinesis.api('PutRecord', '{"StreamName": "zz_api_b", "PartitionKey": "k", "Data": "AA=="}')
       ->> 'SequenceNumber' AS seq_zero \gset
SELECT kinesis.api('PutRecord', jsonb_build_object('StreamName', 'zz_api_b', 'PartitionKey', 'k',
           'Data', 'aGVsbG8=', 'SequenceNumberForOrdering', :'seq_zero')) ->> 'SequenceNumber' AS seq_hello \gset
SELECT :'seq_hello'::numeric > :'seq_zero'::numeric AS ordered;
-- ExplicitHashKey picks the shard: the last hash key is in the last shard
SELECT kinesis.api('PutRecord', '{"StreamName": "zz_api_a", "PartitionKey": "k", "Data": "",
           "ExplicitHashKey": "340282366920938463463374607431768211455"}') ->> 'ShardId' AS shard;
SELECT kinesis.api('PutRecord', '{"StreamName": "zz_api_a", "PartitionKey": "k", "Data": "",
           "ExplicitHashKey": "340282366920938463463374607431768211456"}');
SELECT kinesis.api('PutRecord', '{"StreamName": "zz_api_nope", "PartitionKey": "k", "Data": ""}');
SELECT kinesis.api('PutRecord', '{}');
SELECT kinesis.api('PutRecord', '{"StreamName": "", "PartitionKey": "", "Data": "",
           "ExplicitHashKey": "", "SequenceNumberForOrdering": ""}');
SELECT kinesis.api('PutRecord', '{"StreamName": "zz_api_b", "PartitionKey": "k", "Data": "",
           "SequenceNumberForOrdering": "12345"}');

-- =====================================================================
-- PutRecords
-- =====================================================================
SELECT pg_temp.show(kinesis.api('PutRecords', '{"StreamName": "zz_api_a", "Records": [
           {"PartitionKey": "p", "Data": "", "ExplicitHashKey": "0"},
           {"PartitionKey": "p", "Data": "/w==", "ExplicitHashKey": "340282366920938463463374607431768211455"},
           {"PartitionKey": "p", "Data": "AQID", "ExplicitHashKey": null}]}'));
SELECT kinesis.api('PutRecords', '{"StreamName": "zz_api_a", "Records": []}');
SELECT kinesis.api('PutRecords', '{"StreamName": "zz_api_a"}');
SELECT kinesis.api('PutRecords', '{"StreamName": "zz_api_a", "Records": [null]}');
SELECT kinesis.api('PutRecords', '{"StreamName": "zz_api_a", "Records": [{"PartitionKey": "", "Data": "", "ExplicitHashKey": ""}]}');
SELECT kinesis.api('PutRecords', '{"StreamName": "zz_api_nope", "Records": [{"PartitionKey": "p", "Data": ""}]}');

-- =====================================================================
-- GetShardIterator, GetRecords
-- =====================================================================
SELECT pg_temp.show(kinesis.api('GetShardIterator',
           '{"StreamName": "zz_api_b", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}'));
SELECT kinesis.api('GetShardIterator',
           '{"StreamName": "zz_api_b", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}')
       ->> 'ShardIterator' AS it \gset
SELECT pg_temp.show(kinesis.api('GetRecords', jsonb_build_object('ShardIterator', :'it')));
-- Limit, then the next iterator picks up where the last call stopped
SELECT kinesis.api('GetRecords', jsonb_build_object('ShardIterator', :'it', 'Limit', 1)) AS page1 \gset
SELECT pg_temp.show(:'page1');
SELECT pg_temp.show(kinesis.api('GetRecords',
           jsonb_build_object('ShardIterator', :'page1'::jsonb ->> 'NextShardIterator')));
-- positions by sequence number
SELECT kinesis.api('GetRecords', jsonb_build_object('ShardIterator',
           kinesis.api('GetShardIterator', jsonb_build_object('StreamName', 'zz_api_b',
               'ShardId', 'shardId-000000000000', 'ShardIteratorType', 'AT_SEQUENCE_NUMBER',
               'StartingSequenceNumber', :'seq_zero')) ->> 'ShardIterator'))
       #>> '{Records,0,Data}' AS at_zero;
SELECT kinesis.api('GetRecords', jsonb_build_object('ShardIterator',
           kinesis.api('GetShardIterator', jsonb_build_object('StreamName', 'zz_api_b',
               'ShardId', 'shardId-000000000000', 'ShardIteratorType', 'AFTER_SEQUENCE_NUMBER',
               'StartingSequenceNumber', :'seq_zero')) ->> 'ShardIterator'))
       #>> '{Records,0,Data}' AS after_zero;
-- AT_TIMESTAMP with a record's own ApproximateArrivalTimestamp starts at or
-- before that record; a time ahead of every record returns nothing
SELECT kinesis.api('GetRecords', jsonb_build_object('ShardIterator', :'it')) #> '{Records,2}' AS hello \gset
SELECT (kinesis.api('GetRecords', jsonb_build_object('ShardIterator',
           kinesis.api('GetShardIterator', jsonb_build_object('StreamName', 'zz_api_b',
               'ShardId', 'shardId-000000000000', 'ShardIteratorType', 'AT_TIMESTAMP',
               'Timestamp', :'hello'::jsonb -> 'ApproximateArrivalTimestamp')) ->> 'ShardIterator'))
        -> 'Records') @> jsonb_build_array(:'hello'::jsonb) AS at_timestamp_includes;
SELECT kinesis.api('GetRecords', jsonb_build_object('ShardIterator',
           kinesis.api('GetShardIterator', jsonb_build_object('StreamName', 'zz_api_b',
               'ShardId', 'shardId-000000000000', 'ShardIteratorType', 'AT_TIMESTAMP',
               'Timestamp', (:'hello'::jsonb ->> 'ApproximateArrivalTimestamp')::numeric + 0.001)) ->> 'ShardIterator'))
       -> 'Records' AS later_than_all;
SELECT kinesis.api('GetShardIterator', '{"StreamName": "zz_api_b", "ShardId": "shardId-000000000000",
           "ShardIteratorType": "LATEST", "StartingSequenceNumber": "5"}');
SELECT kinesis.api('GetShardIterator', '{"StreamName": "zz_api_b", "ShardId": "shardId-000000000009",
           "ShardIteratorType": "LATEST"}');
-- a Timestamp far in the future saturates and is refused like any other
SELECT kinesis.api('GetShardIterator', '{"StreamName": "zz_api_b", "ShardId": "shardId-000000000000",
           "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1e30}') ->> '__type' AS far_future;
SELECT kinesis.api('GetShardIterator', '{"StreamName": "zz_api_b", "ShardId": "shardId-000000000000",
           "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": "2001-02-03T04:05:06.789+01:00"}') ? 'ShardIterator' AS iso_timestamp;
SELECT kinesis.api('GetShardIterator', '{"StreamName": "zz_api_b", "ShardId": "shardId-000000000000",
           "ShardIteratorType": "AT_TIMESTAMP"}');
SELECT kinesis.api('GetShardIterator', '{}');
SELECT kinesis.api('GetRecords', '{"ShardIterator": "bm90IGFuIGl0ZXJhdG9y"}');
SELECT kinesis.api('GetRecords', '{}');
SELECT kinesis.api('GetRecords', '{"ShardIterator": "x", "Limit": 0}');

-- =====================================================================
-- A produce/consume round trip through kinesis.api() only
-- =====================================================================
SELECT kinesis.api('CreateStream', '{"StreamName": "zz_api_rt", "ShardCount": 3}');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
-- 40 records of 13 to 520 bytes: all 256 byte values among them, and
-- payloads long enough that base64 would wrap lines if it were allowed to
CREATE TEMP TABLE sent AS
SELECT i, 'key-' || i AS partition_key,
       (SELECT decode(string_agg(lpad(to_hex((i * 37 + k) % 256), 2, '0'), '' ORDER BY k), 'hex')
          FROM generate_series(0, i * 13 - 1) AS k) AS data
  FROM generate_series(1, 40) AS i;
SELECT count(DISTINCT get_byte(data, k)) AS byte_values
  FROM sent, generate_series(0, length(data) - 1) AS k;
CREATE TEMP TABLE put_result AS
SELECT kinesis.api('PutRecords', jsonb_build_object('StreamName', 'zz_api_rt', 'Records',
           (SELECT jsonb_agg(jsonb_build_object('PartitionKey', partition_key,
                                                'Data', translate(encode(data, 'base64'), E'\n', ''))
                             ORDER BY i) FROM sent))) AS r;
SELECT r -> 'FailedRecordCount' AS failed, jsonb_array_length(r -> 'Records') AS results,
       r ->> 'EncryptionType' AS encryption FROM put_result;
-- read every shard from TRIM_HORIZON, three records a call, following
-- NextShardIterator until a call returns nothing
CREATE TEMP TABLE received (shard_id text, n integer, rec jsonb);
DO $$
DECLARE
    shard jsonb;
    iterator text;
    page jsonb;
    n integer;
BEGIN
    FOR shard IN SELECT jsonb_array_elements(kinesis.api('ListShards', '{"StreamName": "zz_api_rt"}') -> 'Shards') LOOP
        iterator := kinesis.api('GetShardIterator', jsonb_build_object('StreamName', 'zz_api_rt',
                        'ShardId', shard ->> 'ShardId', 'ShardIteratorType', 'TRIM_HORIZON')) ->> 'ShardIterator';
        n := 0;
        LOOP
            page := kinesis.api('GetRecords', jsonb_build_object('ShardIterator', iterator, 'Limit', 3));
            EXIT WHEN jsonb_array_length(page -> 'Records') = 0;
            IF page ->> 'NextShardIterator' = iterator THEN
                RAISE EXCEPTION 'NextShardIterator did not move';
            END IF;
            INSERT INTO received
            SELECT shard ->> 'ShardId', n + i::integer, rec
              FROM jsonb_array_elements(page -> 'Records') WITH ORDINALITY AS x(rec, i);
            n := n + jsonb_array_length(page -> 'Records');
            iterator := page ->> 'NextShardIterator';
        END LOOP;
    END LOOP;
END
$$;
-- every record came back once, with its bytes, key, shard and sequence number
SELECT count(*) AS received, count(DISTINCT rec ->> 'SequenceNumber') AS distinct_seqs FROM received;
SELECT count(*) AS matching
  FROM sent s
  JOIN put_result p ON true
  JOIN received r ON r.rec ->> 'SequenceNumber' = p.r #>> ARRAY['Records', (s.i - 1)::text, 'SequenceNumber']
 WHERE decode(r.rec ->> 'Data', 'base64') = s.data
   AND r.rec ->> 'PartitionKey' = s.partition_key
   AND r.shard_id = p.r #>> ARRAY['Records', (s.i - 1)::text, 'ShardId']
   AND position(E'\n' IN r.rec ->> 'Data') = 0;
-- per shard, in increasing sequence-number order; each record has these keys
SELECT bool_and(ordered) AS in_order FROM (
    SELECT (rec ->> 'SequenceNumber')::numeric > lag((rec ->> 'SequenceNumber')::numeric, 1, 0)
               OVER (PARTITION BY shard_id ORDER BY n) AS ordered
      FROM received) AS o;
SELECT DISTINCT array(SELECT jsonb_object_keys(rec) ORDER BY 1) AS record_keys,
       jsonb_typeof(rec -> 'ApproximateArrivalTimestamp') AS arrival_type
  FROM received;
SELECT kinesis.api('DeleteStream', '{"StreamName": "zz_api_rt"}');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.api('DescribeStreamSummary', '{"StreamName": "zz_api_rt"}');

-- =====================================================================
-- SerializationException: AWS's type errors, key "Message"
-- =====================================================================
-- String
SELECT kinesis.api('DescribeStream', '{"StreamName": 5}');
SELECT kinesis.api('DescribeStream', '{"StreamName": 34.56}');
SELECT kinesis.api('DescribeStream', '{"StreamName": true}');
SELECT kinesis.api('DescribeStream', '{"StreamName": []}');
SELECT kinesis.api('DescribeStream', '{"StreamName": {}}');
-- Integer
SELECT kinesis.api('DescribeStream', '{"StreamName": "s", "Limit": "23"}');
SELECT kinesis.api('DescribeStream', '{"StreamName": "s", "Limit": false}');
SELECT kinesis.api('DescribeStream', '{"StreamName": "s", "Limit": [1]}');
SELECT kinesis.api('DescribeStream', '{"StreamName": "s", "Limit": {"a": 1}}');
-- Boolean
SELECT kinesis.api('DeleteStream', '{"StreamName": "s", "EnforceConsumerDeletion": 1}');
SELECT kinesis.api('DeleteStream', '{"StreamName": "s", "EnforceConsumerDeletion": "yes"}');
SELECT kinesis.api('DeleteStream', '{"StreamName": "s", "EnforceConsumerDeletion": []}');
SELECT kinesis.api('DeleteStream', '{"StreamName": "s", "EnforceConsumerDeletion": {}}');
-- Blob
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": true}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": 23}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": []}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": {}}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "23456"}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "=+/="}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "ab=c"}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "aGVs bG8="}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "aGVs bG8"}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "aGVsbG8_"}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "+/+="}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "ab=="}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "a==="}');
SELECT kinesis.api('PutRecord', '{"StreamName": "s", "PartitionKey": "k", "Data": "===="}');
-- Timestamp
SELECT kinesis.api('ListShards', '{"StreamName": "s", "StreamCreationTimestamp": true}');
SELECT kinesis.api('ListShards', '{"StreamName": "s", "StreamCreationTimestamp": "yesterday"}');
SELECT kinesis.api('ListShards', '{"StreamName": "s", "StreamCreationTimestamp": "2024-13-01T00:00:00Z"}');
SELECT kinesis.api('ListShards', '{"StreamName": "s", "StreamCreationTimestamp": [0]}');
SELECT kinesis.api('ListShards', '{"StreamName": "s", "StreamCreationTimestamp": {}}');
-- List and its Structure members
SELECT kinesis.api('PutRecords', '{"StreamName": "s", "Records": "r"}');
SELECT kinesis.api('PutRecords', '{"StreamName": "s", "Records": 1}');
SELECT kinesis.api('PutRecords', '{"StreamName": "s", "Records": {}}');
SELECT kinesis.api('PutRecords', '{"StreamName": "s", "Records": [true]}');
SELECT kinesis.api('PutRecords', '{"StreamName": "s", "Records": [[]]}');
SELECT kinesis.api('PutRecords', '{"StreamName": "s", "Records": [{"PartitionKey": "k", "Data": "AA=="}, {"PartitionKey": 1, "Data": "A"}]}');
-- AWS's order of members: with every member of the wrong type (each with a
-- different message), the first in AWS's order is reported; then without it
SELECT kinesis.api('CreateStream', '{"StreamName": 1, "ShardCount": "1"}');
SELECT kinesis.api('DeleteStream', '{"StreamName": 1, "EnforceConsumerDeletion": 1}');
SELECT kinesis.api('DescribeStream', '{"StreamName": 1, "ExclusiveStartShardId": true, "Limit": "1"}');
SELECT kinesis.api('DescribeStream', '{"StreamName": 1, "ExclusiveStartShardId": true}');
SELECT kinesis.api('ListStreams', '{"ExclusiveStartStreamName": 1, "Limit": "1"}');
SELECT kinesis.api('ListStreams', '{"ExclusiveStartStreamName": 1}');
SELECT kinesis.api('ListShards', '{"StreamName": 1, "StreamCreationTimestamp": "x", "NextToken": [],
           "MaxResults": "1", "ExclusiveStartShardId": true}');
SELECT kinesis.api('ListShards', '{"StreamName": 1, "StreamCreationTimestamp": "x", "NextToken": [], "MaxResults": "1"}');
SELECT kinesis.api('ListShards', '{"StreamName": 1, "StreamCreationTimestamp": "x", "NextToken": []}');
SELECT kinesis.api('ListShards', '{"StreamName": 1, "StreamCreationTimestamp": "x"}');
SELECT kinesis.api('PutRecord', '{"StreamName": 1, "Data": 1, "ExplicitHashKey": true, "PartitionKey": {},
           "SequenceNumberForOrdering": []}');
SELECT kinesis.api('PutRecord', '{"StreamName": 1, "Data": 1, "ExplicitHashKey": true, "PartitionKey": {}}');
SELECT kinesis.api('PutRecord', '{"StreamName": 1, "Data": 1, "ExplicitHashKey": true}');
SELECT kinesis.api('PutRecord', '{"StreamName": 1, "Data": 1}');
SELECT kinesis.api('PutRecords', '{"StreamName": true, "Records": [{"Data": 1, "ExplicitHashKey": [], "PartitionKey": {}}]}');
SELECT kinesis.api('PutRecords', '{"StreamName": true, "Records": [{"Data": 1, "ExplicitHashKey": []}]}');
SELECT kinesis.api('PutRecords', '{"StreamName": true, "Records": [{"Data": 1}]}');
SELECT kinesis.api('PutRecords', '{"StreamName": true, "Records": [{"Data": ""}, "x"]}');
SELECT kinesis.api('PutRecords', '{"StreamName": true, "Records": [{"Data": ""}]}');
SELECT kinesis.api('GetShardIterator', '{"StreamName": 1, "ShardId": true, "ShardIteratorType": [],
           "StartingSequenceNumber": {}, "Timestamp": "x"}');
SELECT kinesis.api('GetShardIterator', '{"StreamName": 1, "ShardIteratorType": [], "StartingSequenceNumber": {}, "Timestamp": "x"}');
SELECT kinesis.api('GetShardIterator', '{"StreamName": 1, "StartingSequenceNumber": {}, "Timestamp": "x"}');
SELECT kinesis.api('GetShardIterator', '{"StreamName": 1, "Timestamp": "x"}');
SELECT kinesis.api('GetShardIterator', '{"Timestamp": "x"}');
SELECT kinesis.api('GetRecords', '{"ShardIterator": 1, "Limit": "1"}');
-- a body that is not a JSON object
SELECT kinesis.api('ListStreams', '[]');
SELECT kinesis.api('ListStreams', '"x"');
SELECT kinesis.api('ListStreams', 'null');
SELECT kinesis.api('ListStreams', NULL);
SELECT kinesis.api('DescribeLimits', NULL);

-- =====================================================================
-- UnknownOperationException: a bare __type
-- =====================================================================
SELECT kinesis.api('GetStreamRecords', '{}');
-- (SubscribeToShard is an operation since 1.1: its validation, as AWS lists it)
SELECT kinesis.api('SubscribeToShard', '{}');
SELECT kinesis.api('createStream', '{"StreamName": "zz_api_x"}');
SELECT kinesis.api('Kinesis_20131202.CreateStream', '{"StreamName": "zz_api_x"}');
SELECT kinesis.api(NULL, '{}');
SELECT kinesis.api('Nope', NULL);
SELECT kinesis.api('Nope', '[1]');

-- =====================================================================
-- The error body of every Kinesis exception, prefix stripped
-- =====================================================================
SELECT e.exception, kinesis._api_error(e.sqlstate, e.exception || ': Some text.') AS body
  FROM kinesis.error_codes() AS e ORDER BY e.sqlstate;

-- =====================================================================
-- A failed call changes nothing; other errors propagate
-- =====================================================================
-- a Kinesis error raised after CreateStream has written: its rows go too
CREATE FUNCTION pg_temp.fail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kinesis._raise('LimitExceededException', 'Injected after the stream row was written.');
    RETURN NULL;
END
$$;
CREATE TRIGGER api_test_fail AFTER INSERT ON kinesis.stream_meta
    FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.fail();
BEGIN;
SELECT kinesis.api('CreateStream', '{"StreamName": "zz_api_fail", "ShardCount": 1}');
-- the transaction goes on
SELECT count(*) AS stream_rows FROM kinesis.stream_meta WHERE stream_name = 'zz_api_fail';
SELECT kinesis.api('DescribeStreamSummary', '{"StreamName": "zz_api_b"}') #>> '{StreamDescriptionSummary,StreamStatus}' AS status;
COMMIT;
DROP TRIGGER api_test_fail ON kinesis.stream_meta;
SELECT kinesis.api('DescribeStream', '{"StreamName": "zz_api_fail"}');
-- not a Kinesis error: raised, not returned
BEGIN TRANSACTION READ ONLY;
SELECT kinesis.api('CreateStream', '{"StreamName": "zz_api_ro", "ShardCount": 1}');
ROLLBACK;

-- =====================================================================
-- DeleteStream
-- =====================================================================
SELECT kinesis.api('DeleteStream', '{"StreamName": "zz_api_a"}');
SELECT kinesis.api('DeleteStream', '{"StreamName": "zz_api_b", "EnforceConsumerDeletion": true}');
SELECT kinesis.api('DeleteStream', '{"StreamName": "zz_api_c", "EnforceConsumerDeletion": null}');
SELECT kinesis.api('DeleteStream', '{"StreamName": "zz_api_a"}');
SELECT kinesis.api('DeleteStream', '{"StreamName": "bad name"}');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.api('ListStreams', '{"ExclusiveStartStreamName": "zz_api_"}');
