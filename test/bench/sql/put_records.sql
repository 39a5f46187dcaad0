-- put_records: 500 records per call, the array built on the server.
SELECT failed_record_count
  FROM kinesis.put_records(
         records => ARRAY(SELECT ROW(:data::bytea, NULL, (random() * 1e9)::int::text)::kinesis.put_records_request_entry
                            FROM generate_series(1, 500)),
         stream_name => :stream);
