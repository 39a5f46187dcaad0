-- pgmq: one message per transaction.
SELECT pgmq.send(:queue, :json::jsonb);
