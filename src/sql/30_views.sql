-- Views over the catalog for people and dashboards: streams, shards and
-- the records themselves.  They are for reading (only SELECT is granted);
-- the API functions remain the way to change anything.

CREATE VIEW kinesis.streams AS
SELECT s.stream_name,
       kinesis.stream_arn(s.stream_name) AS stream_arn,
       s.stream_status,
       s.retention_period_hours,
       s.stream_creation_timestamp,
       s.encryption_type,
       s.key_id,
       (SELECT count(*)::integer FROM kinesis.shard_meta h
         WHERE h.stream_id = s.stream_id) AS shard_count,
       (SELECT count(*)::integer FROM kinesis.shard_meta h
         WHERE h.stream_id = s.stream_id AND h.closed_at IS NULL) AS open_shard_count
  FROM kinesis.stream_meta s
 WHERE kinesis.is_authorized('DescribeStream', s.stream_name);
COMMENT ON VIEW kinesis.streams IS
    'One row per stream the caller may describe (kinesis:DescribeStream): its ARN, status, settings, the number of shards it has ever had (shard_count, open and closed) and the number open now (open_shard_count).';

-- The same formulas as kinesis._shard() (DescribeStream, ListShards),
-- written out so that the view needs no function call per row.
CREATE VIEW kinesis.shards AS
SELECT s.stream_name,
       'shardId-' || lpad(h.shard_index::text, 12, '0') AS shard_id,
       h.shard_index,
       'shardId-' || lpad(h.parent_shard_index::text, 12, '0') AS parent_shard_id,
       'shardId-' || lpad(h.adjacent_parent_shard_index::text, 12, '0') AS adjacent_parent_shard_id,
       h.starting_hash_key::numeric AS starting_hash_key,
       h.ending_hash_key::numeric AS ending_hash_key,
       kinesis.format_sequence_number(h.create_epoch, h.shard_index, 0, h.create_epoch)
           AS starting_sequence_number,
       CASE WHEN h.closed_at IS NOT NULL
            THEN kinesis.format_sequence_number(h.create_epoch, h.shard_index, h.ending_counter,
                                                extract(epoch FROM h.closed_at)::bigint)
       END AS ending_sequence_number,
       h.closed_at IS NULL AS is_open,
       h.created_at,
       h.closed_at
  FROM kinesis.shard_meta h
  JOIN kinesis.stream_meta s ON s.stream_id = h.stream_id
 WHERE kinesis.is_authorized('DescribeStream', s.stream_name);
COMMENT ON VIEW kinesis.shards IS
    'One row per shard of every stream the caller may describe, open or closed by a split or merge, with the same ids, hash key range and sequence number range as DescribeStream and ListShards; the hash keys as numbers so they can be compared.';

CREATE VIEW kinesis.stream_records AS
SELECT s.stream_name,
       'shardId-' || lpad(r.shard_index::text, 12, '0') AS shard_id,
       kinesis.format_sequence_number(h.create_epoch, r.shard_index, r.seq,
                                      floor(extract(epoch FROM r.arrival))::bigint) AS sequence_number,
       r.arrival AS approximate_arrival_timestamp,
       r.partition_key,
       kinesis._kms_decrypt(r.stream_id, r.key_ref, r.shard_index, r.seq, r.data) AS data,
       CASE WHEN r.key_ref IS NULL THEN 'NONE' ELSE 'KMS' END AS encryption_type
  FROM kinesis.records r
  JOIN kinesis.stream_meta s ON s.stream_id = r.stream_id
  JOIN kinesis.shard_meta h ON h.stream_id = r.stream_id AND h.shard_index = r.shard_index
 WHERE r.arrival >= kinesis._now() - make_interval(hours => s.retention_period_hours)
   AND r.arrival >= coalesce(s.expired_before, '-infinity')
   AND kinesis.is_authorized('GetRecords', s.stream_name);
COMMENT ON VIEW kinesis.stream_records IS
    'Ad-hoc inspection of the records of every stream the caller may read (kinesis:GetRecords) within its retention period, with the sequence numbers GetRecords reports. It shows what the caller''s snapshot sees: the caller''s own uncommitted puts are included, and records of transactions still in flight elsewhere are not, so it can show gaps that later fill in below records already listed. Consumers read with kinesis.get_shard_iterator() and kinesis.get_records(), which never skip a record that commits later; order by sequence_number (compared as numeric) within a shard. data is decrypted for records stored encrypted (encryption_type KMS).';

CREATE VIEW kinesis.maintenance AS
SELECT m.stream_name,
       m.task,
       m.last_run,
       m.outcome,
       m.detail,
       s.stream_status AS stream_status_now,
       s.pending ->> 'op' AS pending_operation
  FROM kinesis.maintenance_status m
  LEFT JOIN kinesis.stream_meta s ON s.stream_id = m.stream_id
 WHERE kinesis.is_authorized('DescribeStream', m.stream_name);
COMMENT ON VIEW kinesis.maintenance IS
    'What maintenance (the worker or kinesis.run_maintenance()) last did per stream and task (create, delete, reshard, encryption, rotate, trim, consumers, metrics): when, with what outcome (done, nothing to do, skipped, error) and why; plus the stream''s status now and any transition still pending (a deleted stream''s rows remain, with NULL status).';

-- every view shows only the streams the caller may describe or read
GRANT SELECT ON kinesis.streams, kinesis.shards, kinesis.stream_records, kinesis.maintenance TO PUBLIC;
