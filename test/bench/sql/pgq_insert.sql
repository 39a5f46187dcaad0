-- PgQ: one event per transaction.
SELECT pgq.insert_event(:queue, 'put', :text);
