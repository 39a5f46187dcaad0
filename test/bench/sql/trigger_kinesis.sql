-- An ordinary INSERT into a table with kinesis.capture_trigger().
\set c random(1, 100000)
\set a random(1, 100000)
INSERT INTO bench.orders_k (customer, amount, note) VALUES (:c, :a, 'ordered through the benchmark');
