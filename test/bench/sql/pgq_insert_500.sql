-- PgQ: 500 events in one transaction.
SELECT count(pgq.insert_event(:queue, 'put', :text::text)) FROM generate_series(1, 500);
