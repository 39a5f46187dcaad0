-- Server-side encryption: StartStreamEncryption and StopStreamEncryption
-- with every KeyId form, the local key store, records stored encrypted at
-- rest and decrypted for readers, per-record and per-put EncryptionType,
-- the KMS exceptions, and what a role that can read the storage sees.
\set VERBOSITY terse

-- key GUIDs are random: errors that name one are shown with it masked
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN regexp_replace(SQLSTATE || ' ' || SQLERRM, '[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}', '<guid>', 'g');
END
$$;
CREATE FUNCTION pg_temp.masked(j jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(j::text, '[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}', '<guid>', 'g')
$$;

SELECT kinesis.create_stream('en', 2);
SELECT kinesis.create_stream('en_other', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT shard_id, encryption_type FROM kinesis.put_record('en', 'plain before', 'a');

-- ---------------------------------------------------------------------
-- Validation and errors (nothing changes on a failed call)
-- ---------------------------------------------------------------------
SELECT kinesis.start_stream_encryption(NULL, NULL, NULL);
SELECT kinesis.start_stream_encryption('en', 'AES', '');
SELECT kinesis.api('StartStreamEncryption', jsonb_build_object('StreamName', 'en', 'EncryptionType', 'KMS',
                   'KeyId', repeat('k', 2049))) ->> 'message' LIKE '%Member must have length less than or equal to 2048' AS too_long;
SELECT kinesis.start_stream_encryption('no_such', 'KMS', 'alias/aws/kinesis');
SELECT kinesis.start_stream_encryption('en', 'NONE', 'alias/aws/kinesis');
SELECT kinesis.stop_stream_encryption('en', 'NONE', 'alias/aws/kinesis');
SELECT kinesis.start_stream_encryption('en', 'KMS', 'alias/missing');
SELECT kinesis.start_stream_encryption('en', 'KMS', 'arn:aws:kms:us-east-1:000000000000:alias/missing');
SELECT kinesis.start_stream_encryption('en', 'KMS', '12345678-1234-1234-1234-123456789012');
SELECT kinesis.start_stream_encryption('en', 'KMS', 'arn:aws:kms:us-east-1:000000000000:key/12345678-1234-1234-1234-123456789012');
-- another account's or region's key is not in this store
SELECT kinesis.start_stream_encryption('en', 'KMS', 'arn:aws:kms:eu-west-1:000000000000:alias/aws/kinesis');
SELECT kinesis.start_stream_encryption('en', 'KMS', 'not a key id');
SELECT stream_status, encryption_type, key_id FROM kinesis.streams WHERE stream_name = 'en';
-- no key was created by the failed calls
SELECT count(*) AS keys FROM kinesis.kms_keys;
-- a CREATING stream cannot change its encryption
SELECT kinesis.create_stream('en_new', 1);
SELECT kinesis.start_stream_encryption('en_new', 'KMS', 'alias/aws/kinesis');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
-- stopping the encryption of a stream that is not encrypted is accepted:
-- UPDATING, then ACTIVE and still NONE
SELECT kinesis.stop_stream_encryption('en_new', 'KMS', 'alias/aws/kinesis');
SELECT stream_status, encryption_type FROM kinesis.streams WHERE stream_name = 'en_new';
SELECT stream_name, task, outcome, detail FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT stream_status, encryption_type, key_id FROM kinesis.streams WHERE stream_name = 'en_new';

-- ---------------------------------------------------------------------
-- StartStreamEncryption with the AWS-managed key: UPDATING, then ACTIVE
-- ---------------------------------------------------------------------
SELECT kinesis.start_stream_encryption('en', 'KMS', 'alias/aws/kinesis');
SELECT stream_status, encryption_type, key_id FROM kinesis.streams WHERE stream_name = 'en';
-- the AWS-managed key was created on first use
SELECT aliases, key_state, key_manager, streams FROM kinesis.kms_keys;
-- puts go on while UPDATING, still in plaintext; a second change must wait
SELECT shard_id, encryption_type FROM kinesis.put_record('en', 'plain while updating', 'a');
SELECT kinesis.stop_stream_encryption('en', 'KMS', 'alias/aws/kinesis');
SELECT stream_name, task, outcome, detail FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT stream_status, encryption_type, key_id FROM kinesis.streams WHERE stream_name = 'en';
SELECT aliases, streams FROM kinesis.kms_keys;
SELECT kinesis.api('DescribeStreamSummary', '{"StreamName": "en"}') -> 'StreamDescriptionSummary'
       -> 'EncryptionType' AS type,
       kinesis.api('DescribeStreamSummary', '{"StreamName": "en"}') -> 'StreamDescriptionSummary'
       -> 'KeyId' AS key;
SELECT kinesis.api('DescribeStream', '{"StreamName": "en"}') -> 'StreamDescription' -> 'KeyId' AS key;

-- every put now reports KMS and is stored encrypted
SELECT shard_id, encryption_type FROM kinesis.put_record('en', 'secret one', 'a');
SELECT failed_record_count, encryption_type,
       (SELECT array_agg(r.shard_id ORDER BY r.shard_id) FROM unnest(p.records) r) AS shards
  FROM kinesis.put_records(ARRAY[ROW('secret two', NULL, 'a')::kinesis.put_records_request_entry,
                                 ROW('secret three', NULL, 'b')::kinesis.put_records_request_entry,
                                 ROW('', NULL, 'b')::kinesis.put_records_request_entry], 'en') p;
SELECT kinesis.api('PutRecord', '{"StreamName": "en", "Data": "c2VjcmV0IGZvdXI=", "PartitionKey": "a"}')
       - 'SequenceNumber';
SELECT jsonb_path_query_array(
           kinesis.api('PutRecords', '{"StreamName": "en", "Records": [{"Data": "eA==", "PartitionKey": "a"}]}'),
           '$.EncryptionType') AS put_records_type;

-- the storage holds no plaintext for them: format byte, IV, ciphertext, tag
SELECT s.stream_name, r.shard_index, r.seq, r.key_ref IS NOT NULL AS encrypted,
       length(r.data) AS stored_bytes,
       position('secret'::bytea IN r.data) > 0 AS plaintext_visible
  FROM kinesis.records r JOIN kinesis.stream_meta s USING (stream_id)
 WHERE s.stream_name = 'en' ORDER BY 2, 3;

-- readers get the data back, each record with its own EncryptionType
SELECT convert_from(r.data, 'UTF8') AS data, r.encryption_type
  FROM kinesis.get_records(kinesis.get_shard_iterator('en', 'shardId-000000000000', 'TRIM_HORIZON')) g,
       unnest(g.records) r;
SELECT convert_from(r.data, 'UTF8') AS data, r.encryption_type
  FROM kinesis.get_records(kinesis.get_shard_iterator('en', 'shardId-000000000001', 'TRIM_HORIZON')) g,
       unnest(g.records) r;
SELECT convert_from(data, 'UTF8') AS data, encryption_type, next_shard_iterator IS NOT NULL AS closing_row
  FROM kinesis.read_records(kinesis.get_shard_iterator('en', 'shardId-000000000001', 'TRIM_HORIZON'));
SELECT r ->> 'Data' AS data, r ->> 'EncryptionType' AS type
  FROM jsonb_array_elements(kinesis.api('GetRecords', jsonb_build_object('ShardIterator',
           kinesis.get_shard_iterator('en', 'shardId-000000000001', 'TRIM_HORIZON'))) -> 'Records') r;
SELECT shard_id, convert_from(data, 'UTF8') AS data, encryption_type
  FROM kinesis.stream_records WHERE stream_name = 'en' ORDER BY shard_id, sequence_number::numeric;
-- a record larger than a TOAST chunk round-trips too
SELECT encryption_type FROM kinesis.put_record('en_other', 'x', 'a');
SELECT kinesis.start_stream_encryption('en_other', 'KMS', 'alias/aws/kinesis');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT encryption_type FROM kinesis.put_record('en_other', decode(repeat('00ff', 300000), 'hex'), 'a');
SELECT r.data = decode(repeat('00ff', 300000), 'hex') AS same, r.encryption_type
  FROM kinesis.get_records(kinesis.get_shard_iterator('en_other', 'shardId-000000000000', 'TRIM_HORIZON')) g,
       unnest(g.records) r WHERE length(r.data) > 1;

-- ---------------------------------------------------------------------
-- Customer keys: GUID, key ARN, alias, alias ARN; disabled keys
-- ---------------------------------------------------------------------
SELECT key_id AS k1, key_arn AS k1_arn FROM kinesis.create_kms_key('first key', 'alias/first') \gset
SELECT key_id AS k2 FROM kinesis.create_kms_key('second key') \gset
SELECT kinesis.create_kms_alias('alias/second/one', :'k2');
SELECT kinesis.create_kms_alias('alias/first', :'k2');
SELECT kinesis.create_kms_alias('alias/aws/mine', :'k2');
SELECT kinesis.create_kms_alias('bad', :'k2');
SELECT kinesis.create_kms_alias('alias/third', 'alias/missing');
SELECT aliases, key_state, key_manager, description, key_arn = 'arn:aws:kms:us-east-1:000000000000:key/' || key_id AS arn_ok
  FROM kinesis.kms_keys ORDER BY created_at;

SELECT kinesis.start_stream_encryption('en', 'KMS', :'k1_arn');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT key_id = :'k1_arn' AS key_is_the_arn FROM kinesis.streams WHERE stream_name = 'en';
SELECT encryption_type FROM kinesis.put_record('en', 'under first', 'a');
SELECT kinesis.start_stream_encryption('en', 'KMS', upper(:'k2'));
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT encryption_type FROM kinesis.put_record('en', 'under second', 'a');
SELECT kinesis.start_stream_encryption('en', 'KMS', 'arn:aws:kms:us-east-1:000000000000:alias/second/one');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT key_id FROM kinesis.streams WHERE stream_name = 'en';
SELECT kinesis.start_stream_encryption('en', 'KMS', 'alias/first');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT aliases, streams FROM kinesis.kms_keys ORDER BY created_at;

-- disabling the stream's key refuses puts, and reads of the records it
-- encrypted ('under first' is on shard 0) ...
SELECT kinesis.disable_kms_key('alias/first');
SELECT pg_temp.try($$SELECT kinesis.put_record('en', 'refused', 'a')$$);
SELECT pg_temp.masked(kinesis.api('PutRecords', '{"StreamName": "en", "Records": [{"Data": "eA==", "PartitionKey": "a"}]}'));
SELECT pg_temp.try($$SELECT count(*) FROM kinesis.get_records(kinesis.get_shard_iterator('en', 'shardId-000000000000', 'TRIM_HORIZON'))$$);
SELECT pg_temp.masked(kinesis.api('GetRecords', jsonb_build_object('ShardIterator',
           kinesis.get_shard_iterator('en', 'shardId-000000000000', 'TRIM_HORIZON'))));
-- ... but not of records under other keys (shard 1 has none under it)
SELECT convert_from(r.data, 'UTF8') AS data, r.encryption_type
  FROM kinesis.get_records(kinesis.get_shard_iterator('en', 'shardId-000000000001', 'TRIM_HORIZON')) g,
       unnest(g.records) r;
-- starting encryption with a disabled key fails; AWS-managed keys cannot
-- be disabled or enabled
SELECT pg_temp.try(format('SELECT kinesis.start_stream_encryption(%L, %L, %L)', 'en_other', 'KMS', :'k1'));
SELECT pg_temp.try($$SELECT kinesis.enable_kms_key('alias/aws/kinesis')$$);
SELECT kinesis.enable_kms_key(:'k1_arn');
SELECT convert_from(r.data, 'UTF8') AS data, r.encryption_type
  FROM kinesis.get_records(kinesis.get_shard_iterator('en', 'shardId-000000000000', 'TRIM_HORIZON')) g,
       unnest(g.records) r;

-- ---------------------------------------------------------------------
-- StopStreamEncryption: new records in plaintext, old ones still readable
-- ---------------------------------------------------------------------
SELECT kinesis.api('StopStreamEncryption', '{"StreamName": "en", "EncryptionType": "KMS", "KeyId": "alias/first"}');
SELECT stream_status FROM kinesis.streams WHERE stream_name = 'en';
SELECT stream_name, task, outcome, detail FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT (kinesis.api('DescribeStreamSummary', '{"StreamName": "en"}') -> 'StreamDescriptionSummary')
       - 'StreamCreationTimestamp'::text - 'StreamARN'::text - 'OpenShardCount'::text
       - 'EnhancedMonitoring'::text AS summary;
SELECT encryption_type FROM kinesis.put_record('en', 'plain after', 'a');
SELECT convert_from(r.data, 'UTF8') AS data, r.encryption_type
  FROM kinesis.get_records(kinesis.get_shard_iterator('en', 'shardId-000000000001', 'TRIM_HORIZON')) g,
       unnest(g.records) r;
SELECT kinesis.api('StartStreamEncryption', '{"StreamName": "en", "EncryptionType": "KMS", "KeyId": 5}');
SELECT kinesis.api('StartStreamEncryption', '{"StreamName": "en", "EncryptionType": "KMS"}');

-- 25 changes per stream in 24 hours
UPDATE kinesis.stream_meta SET encryption_history = array_fill(clock_timestamp(), ARRAY[25])
 WHERE stream_name = 'en';
SELECT kinesis.start_stream_encryption('en', 'KMS', 'alias/first');
UPDATE kinesis.stream_meta SET encryption_history = array_fill(clock_timestamp() - interval '25 hours', ARRAY[25])
 WHERE stream_name = 'en';
SELECT kinesis.start_stream_encryption('en', 'KMS', 'alias/first');
SELECT cardinality(encryption_history) FROM kinesis.stream_meta WHERE stream_name = 'en';
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- ---------------------------------------------------------------------
-- Tampering: a stored ciphertext altered or moved is refused, not decrypted
-- ---------------------------------------------------------------------
SELECT kinesis.put_record('en', 'tamper me', 'a') IS NOT NULL AS put;
SELECT format('kinesis.records_%s_0', stream_id) AS bucket FROM kinesis.stream_meta WHERE stream_name = 'en' \gset
SELECT max(seq) AS last FROM :bucket WHERE shard_index = 1 \gset
UPDATE :bucket SET data = set_byte(data, 39, get_byte(data, 39) # 255) WHERE shard_index = 1 AND seq = :last;
SELECT count(*) FROM kinesis.get_records(kinesis.get_shard_iterator('en', 'shardId-000000000001', 'TRIM_HORIZON'));
UPDATE :bucket b SET data = (SELECT c.data FROM :bucket c WHERE c.shard_index = 1 AND c.seq = :last - 1)
 WHERE b.shard_index = 1 AND b.seq = :last;
SELECT count(*) FROM kinesis.get_records(kinesis.get_shard_iterator('en', 'shardId-000000000001', 'TRIM_HORIZON'));
DELETE FROM :bucket WHERE shard_index = 1 AND seq = :last;

-- ---------------------------------------------------------------------
-- A role that can read the storage sees only ciphertext, and cannot reach
-- the keys; the decrypting view shows it nothing, as it may not read the
-- streams (kinesis:GetRecords), and the decryption function refuses
-- ---------------------------------------------------------------------
CREATE ROLE en_reader;
GRANT USAGE ON SCHEMA kinesis TO en_reader;
GRANT SELECT ON kinesis.records TO en_reader;
SELECT stream_id AS en_id FROM kinesis.stream_meta WHERE stream_name = 'en' \gset
SET ROLE en_reader;
SELECT count(*) AS rows_seen,
       count(*) FILTER (WHERE position('secret'::bytea IN data) > 0) AS plaintext_seen
  FROM kinesis.records WHERE key_ref IS NOT NULL;
SELECT * FROM kinesis.kms_key_store;
SELECT * FROM kinesis.kms_keys;
SELECT * FROM kinesis.kms_aliases;
SELECT count(*) FROM kinesis.stream_records;
SELECT pg_temp.try(format('SELECT kinesis._kms_decrypt(%s, 1, 0, 1, %L)', :en_id, '\x00'));
SELECT kinesis._kms_resolve('alias/aws/kinesis');
SELECT kinesis.create_kms_key();
SELECT kinesis.disable_kms_key('alias/first');
RESET ROLE;
DROP OWNED BY en_reader;
DROP ROLE en_reader;

-- the tags' HMAC-SHA256 (src/hmac.c): RFC 4231's first test case, and
-- agreement with pgcrypto's hmac() for keys and messages of every length
-- around the block size
SELECT encode(kinesis._hmac_sha256('\x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b', 'Hi There'), 'hex') AS rfc4231_1;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT extnamespace::regnamespace AS crypto FROM pg_extension WHERE extname = 'pgcrypto' \gset
SELECT count(*) AS cases,
       count(*) FILTER (WHERE kinesis._hmac_sha256(k, m) = :crypto.hmac(m, k, 'sha256')) AS agree
  FROM generate_series(0, 130, 13) kl, generate_series(0, 200, 7) ml,
       LATERAL (SELECT decode(repeat(lpad(to_hex(kl % 256), 2, '0'), kl), 'hex') AS k,
                       decode(repeat(lpad(to_hex((ml * 7) % 256), 2, '0'), ml), 'hex') AS m) x;

-- the error codes of the KMS exceptions
SELECT * FROM kinesis.error_codes() WHERE exception LIKE 'KMS%' ORDER BY sqlstate;

SELECT kinesis.delete_kms_alias('alias/second/one');
SELECT kinesis.delete_kms_alias('alias/second/one');
SELECT kinesis.delete_stream('en');
SELECT kinesis.delete_stream('en_other');
SELECT kinesis.delete_stream('en_new');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
-- keys outlive the streams that used them
SELECT aliases, key_state, streams FROM kinesis.kms_keys ORDER BY created_at;
