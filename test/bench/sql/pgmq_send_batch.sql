-- pgmq: send_batch of 500 messages.
SELECT count(*) FROM pgmq.send_batch(:queue, ARRAY(SELECT :json::jsonb FROM generate_series(1, 500)));
