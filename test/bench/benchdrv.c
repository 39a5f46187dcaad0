/*
 * benchdrv: the client side of the benchmarks that pgbench cannot drive.
 *
 *   benchdrv drain KIND CONSUMERS TARGET...
 *       Read everything from each TARGET in batches of 10,000 and report
 *       rows/s.  CONSUMERS = 1: one connection reads the targets one after
 *       the other.  CONSUMERS = number of targets: one process and
 *       connection per target, started together after all have connected.
 *       KIND and TARGET:
 *         kinesis  STREAM,SHARD_ID   get_shard_iterator(TRIM_HORIZON), then
 *                                    get_records(limit 10000) following
 *                                    next_shard_iterator, records unnested
 *                                    so that every field reaches the client
 *         rows     STREAM,SHARD_ID   the same with read_records(limit 10000),
 *                                    the row form (a closing row carries
 *                                    the next iterator)
 *         base     SHARD_INDEX       WHERE stream_id = 1 AND shard_index = $1
 *                                    AND seq > $2 ORDER BY seq LIMIT 10000 on
 *                                    bench.drain_base
 *         base_array SHARD_INDEX     the same range scan answered in
 *                                    get_records' shape (one array of
 *                                    composites, bench.drain_base_batch),
 *                                    unnested as get_records' answer is
 *         pgq      QUEUE,CONSUMER    next_batch, get_batch_events,
 *                                    finish_batch
 *         pgmq     QUEUE             read(queue, 30, 10000), then delete the
 *                                    ids read
 *       A target is done when a call returns nothing.
 *
 *   benchdrv loop SECONDS SQL
 *       Run SQL over and over on one connection; report calls/s.
 *
 *   benchdrv latency KIND RATE SECONDS POLL_US
 *       A producer connection commits one record every 1/RATE s (BEGIN;
 *       put; COMMIT), carrying its number; a consumer connection polls in a
 *       loop and sleeps POLL_US when a poll returns nothing.  Latency is
 *       from the moment the producer sends COMMIT to the moment the poll
 *       that returns the record completes.  KIND: kinesis (stream "lat", 1
 *       shard, LATEST iterator), base (bench.lat_base), pgq (queue "lat",
 *       consumer "lat", the consumer calls pgq.ticker() itself before each
 *       next_batch), pgmq (queue "lat").
 *
 * Every mode also samples, every 2 ms, the private resident memory
 * (RssAnon in /proc/PID/status) of the server backend of each reading (or
 * looping) connection and reports the peak: shared buffers that a backend
 * touches count in its RSS too, RssAnon does not.
 *
 * Connection parameters come from the PG* environment variables (PGAPPNAME
 * names the connections, which test/bench/profile.sh uses to find their
 * backend).  BENCHDRV_REPEAT=N makes a drain read everything N times,
 * each consumer on its own connection (for the forms that read without
 * consuming: longer runs are steadier, and profiles need them).  Output is
 * one line of key=value pairs.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define BATCH 10000
#define Max(a, b) ((a) > (b) ? (a) : (b))

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "benchdrv: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static PGconn *
connect_db(void)
{
	PGconn	   *conn = PQconnectdb("");

	if (PQstatus(conn) != CONNECTION_OK)
		die("connection failed: %s", PQerrorMessage(conn));
	return conn;
}

static PGresult *
run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "benchdrv: query failed: %s\n  %s\n", PQerrorMessage(conn), sql);
		exit(2);
	}
	return res;
}

static void
prepare(PGconn *conn, const char *name, const char *sql)
{
	PGresult   *res = PQprepare(conn, name, sql, 0, NULL);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "benchdrv: prepare failed: %s\n  %s\n", PQerrorMessage(conn), sql);
		exit(2);
	}
	PQclear(res);
}

static PGresult *
exec_prepared(PGconn *conn, const char *name, int nparams, const char *const *params)
{
	PGresult   *res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "benchdrv: %s failed: %s\n", name, PQerrorMessage(conn));
		exit(2);
	}
	return res;
}

/* ------------------------------------------------------------------ */
/* backend memory sampler                                              */
/* ------------------------------------------------------------------ */

typedef struct Sampler
{
	pthread_t	thread;
	int			pid;
	atomic_int	stop;
	long		peak_kb;
} Sampler;

static long
rss_anon_kb(int pid)
{
	char		path[64];
	char		line[256];
	FILE	   *f;
	long		kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
	{
		if (strncmp(line, "RssAnon:", 8) == 0)
		{
			kb = strtol(line + 8, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static void *
sampler_main(void *arg)
{
	Sampler    *s = arg;

	while (!atomic_load(&s->stop))
	{
		long		kb = rss_anon_kb(s->pid);

		if (kb > s->peak_kb)
			s->peak_kb = kb;
		usleep(2000);
	}
	return NULL;
}

static void
sampler_start(Sampler *s, PGconn *conn)
{
	s->pid = PQbackendPID(conn);
	atomic_store(&s->stop, 0);
	s->peak_kb = rss_anon_kb(s->pid);
	pthread_create(&s->thread, NULL, sampler_main, s);
}

static long
sampler_stop(Sampler *s)
{
	long		kb;

	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	kb = rss_anon_kb(s->pid);
	if (kb > s->peak_kb)
		s->peak_kb = kb;
	return s->peak_kb;
}

/* ------------------------------------------------------------------ */
/* drain                                                               */
/* ------------------------------------------------------------------ */

typedef struct DrainResult
{
	long long	rows;
	long long	bytes;
	long long	calls;
	long		peak_kb;
} DrainResult;

/* bytes of every field of every row: what reached the client */
static long long
result_bytes(PGresult *res)
{
	long long	total = 0;
	int			r,
				c;
	int			nr = PQntuples(res),
				nc = PQnfields(res);

	for (r = 0; r < nr; r++)
		for (c = 0; c < nc; c++)
			total += PQgetlength(res, r, c);
	return total;
}

static void
drain_prepare(PGconn *conn, const char *kind)
{
	if (strcmp(kind, "kinesis") == 0 || strcmp(kind, "rows") == 0)
	{
		prepare(conn, "it",
				"SELECT kinesis.get_shard_iterator(stream_name => $1, shard_id => $2, "
				"shard_iterator_type => 'TRIM_HORIZON')");
		prepare(conn, "get",
				"SELECT CASE WHEN r.ord IS NULL OR r.ord = 1 THEN g.next_shard_iterator END, "
				"       r.sequence_number, r.approximate_arrival_timestamp, r.partition_key, r.data "
				"  FROM kinesis.get_records(shard_iterator => $1, \"limit\" => 10000) AS g "
				"  LEFT JOIN LATERAL unnest(g.records) WITH ORDINALITY "
				"       AS r(sequence_number, approximate_arrival_timestamp, data, partition_key, "
				"            encryption_type, ord) ON true");
		/* the row form: a closing row carries the next iterator */
		if (strcmp(kind, "rows") == 0)
			prepare(conn, "get_rows",
					"SELECT next_shard_iterator, sequence_number, approximate_arrival_timestamp, "
					"       partition_key, data "
					"  FROM kinesis.read_records(shard_iterator => $1, \"limit\" => 10000)");
	}
	else if (strcmp(kind, "base") == 0)
		prepare(conn, "get",
				"SELECT seq, arrival, partition_key, data FROM bench.drain_base "
				" WHERE stream_id = 1 AND shard_index = $1 AND seq > $2 ORDER BY seq LIMIT 10000");
	else if (strcmp(kind, "base_array") == 0)
		prepare(conn, "get",
				"SELECT CASE WHEN r.ord IS NULL OR r.ord = 1 THEN g.next_after END, "
				"       r.seq, r.arrival, r.partition_key, r.data "
				"  FROM bench.drain_base_batch($1, $2) AS g "
				"  LEFT JOIN LATERAL unnest(g.records) WITH ORDINALITY "
				"       AS r(seq, arrival, partition_key, data, ord) ON true");
	else if (strcmp(kind, "pgq") == 0)
	{
		prepare(conn, "next", "SELECT pgq.next_batch($1, $2)");
		prepare(conn, "get",
				"SELECT ev_id, ev_time, ev_type, ev_data FROM pgq.get_batch_events($1)");
		prepare(conn, "finish", "SELECT pgq.finish_batch($1)");
	}
	else if (strcmp(kind, "pgmq") == 0)
	{
		prepare(conn, "get",
				"SELECT msg_id, enqueued_at, message FROM pgmq.read($1, 30, 10000)");
		prepare(conn, "del", "SELECT count(*) FROM pgmq.delete($1, $2::bigint[])");
	}
	else
		die("unknown kind %s", kind);
}

static void
drain_target(PGconn *conn, const char *kind, const char *target, DrainResult *out)
{
	char	   *t = strdup(target);
	char	   *a = t;
	char	   *b = strchr(t, ',');

	if (b != NULL)
		*b++ = '\0';

	if (strcmp(kind, "kinesis") == 0 || strcmp(kind, "rows") == 0)
	{
		const char *p[2] = {a, b};
		PGresult   *res = exec_prepared(conn, "it", 2, p);
		char	   *iter = strdup(PQgetvalue(res, 0, 0));
		bool		rows = strcmp(kind, "rows") == 0;

		PQclear(res);
		for (;;)
		{
			const char *gp[1] = {iter};
			int			n;
			int			last;

			res = exec_prepared(conn, rows ? "get_rows" : "get", 1, gp);
			out->calls++;
			n = PQntuples(res);
			/*
			 * array form: the iterator is on the first row, which has no
			 * record when the call returned none; rows: one row per record,
			 * then a closing row with the iterator
			 */
			last = rows ? n - 1 : 0;
			if (rows)
				n = Max(n - 1, 0);
			else if (n == 0 || PQgetisnull(res, last, 1))
				n = 0;
			out->rows += n;
			out->bytes += result_bytes(res);
			free(iter);
			iter = PQgetisnull(res, last, 0) ? NULL : strdup(PQgetvalue(res, last, 0));
			PQclear(res);
			if (n == 0 || iter == NULL)
				break;
		}
		free(iter);
	}
	else if (strcmp(kind, "base") == 0)
	{
		char		last[32] = "-1";

		for (;;)
		{
			const char *p[2] = {a, last};
			PGresult   *res = exec_prepared(conn, "get", 2, p);
			int			n = PQntuples(res);

			out->calls++;
			out->rows += n;
			out->bytes += result_bytes(res);
			if (n > 0)
				snprintf(last, sizeof(last), "%s", PQgetvalue(res, n - 1, 0));
			PQclear(res);
			if (n == 0)
				break;
		}
	}
	else if (strcmp(kind, "base_array") == 0)
	{
		char		last[32] = "-1";

		for (;;)
		{
			const char *p[2] = {a, last};
			PGresult   *res = exec_prepared(conn, "get", 2, p);
			/* the position to go on from is on the first row, NULL at the end */
			int			n = PQntuples(res) > 0 && !PQgetisnull(res, 0, 1) ? PQntuples(res) : 0;

			out->calls++;
			out->rows += n;
			out->bytes += result_bytes(res);
			if (n > 0)
				snprintf(last, sizeof(last), "%s", PQgetvalue(res, 0, 0));
			PQclear(res);
			if (n == 0)
				break;
		}
	}
	else if (strcmp(kind, "pgq") == 0)
	{
		for (;;)
		{
			const char *p[2] = {a, b};
			PGresult   *res = exec_prepared(conn, "next", 2, p);
			char		batch[32];
			const char *bp[1] = {batch};
			int			n;

			out->calls++;
			if (PQgetisnull(res, 0, 0))
			{
				PQclear(res);
				break;
			}
			snprintf(batch, sizeof(batch), "%s", PQgetvalue(res, 0, 0));
			PQclear(res);
			res = exec_prepared(conn, "get", 1, bp);
			n = PQntuples(res);
			out->rows += n;
			out->bytes += result_bytes(res);
			PQclear(res);
			PQclear(exec_prepared(conn, "finish", 1, bp));
		}
	}
	else
	{
		char	   *ids = malloc(BATCH * 21 + 3);

		for (;;)
		{
			const char *p[1] = {a};
			PGresult   *res = exec_prepared(conn, "get", 1, p);
			int			n = PQntuples(res);
			int			i;
			size_t		len = 0;
			const char *dp[2];

			out->calls++;
			out->rows += n;
			out->bytes += result_bytes(res);
			if (n == 0)
			{
				PQclear(res);
				break;
			}
			ids[len++] = '{';
			for (i = 0; i < n; i++)
			{
				if (i > 0)
					ids[len++] = ',';
				len += sprintf(ids + len, "%s", PQgetvalue(res, i, 0));
			}
			ids[len++] = '}';
			ids[len] = '\0';
			PQclear(res);
			dp[0] = a;
			dp[1] = ids;
			PQclear(exec_prepared(conn, "del", 2, dp));
		}
		free(ids);
	}
	free(t);
}

static int
cmd_drain(int argc, char **argv)
{
	const char *kind;
	int			consumers;
	int			ntargets;
	DrainResult total = {0};
	double		t0,
				t1;
	int			repeat = getenv("BENCHDRV_REPEAT") ? Max(atoi(getenv("BENCHDRV_REPEAT")), 1) : 1;
	int			r;

	if (argc < 4)
		die("%s", "usage: benchdrv drain KIND CONSUMERS TARGET...");
	kind = argv[2];
	consumers = atoi(argv[3]);
	ntargets = argc - 4;

	if (consumers == 1)
	{
		PGconn	   *conn = connect_db();
		Sampler		s;
		int			i;

		drain_prepare(conn, kind);
		sampler_start(&s, conn);
		t0 = now_sec();
		for (r = 0; r < repeat; r++)
			for (i = 0; i < ntargets; i++)
				drain_target(conn, kind, argv[4 + i], &total);
		t1 = now_sec();
		total.peak_kb = sampler_stop(&s);
		PQfinish(conn);
	}
	else
	{
		int			go[2],
					ready[2],
					back[2];
		int			i;
		char		c;

		if (consumers != ntargets)
			die("%s", "CONSUMERS must be 1 or the number of targets");
		if (pipe(go) != 0 || pipe(ready) != 0 || pipe(back) != 0)
			die("pipe: %s", strerror(errno));
		for (i = 0; i < ntargets; i++)
		{
			pid_t		pid = fork();

			if (pid < 0)
				die("fork: %s", strerror(errno));
			if (pid == 0)
			{
				PGconn	   *conn = connect_db();
				DrainResult res = {0};
				Sampler		s;

				close(go[1]);
				drain_prepare(conn, kind);
				if (write(ready[1], "r", 1) != 1)
					_exit(2);
				if (read(go[0], &c, 1) != 0)	/* EOF is the start signal */
					_exit(2);
				sampler_start(&s, conn);
				for (r = 0; r < repeat; r++)
					drain_target(conn, kind, argv[4 + i], &res);
				res.peak_kb = sampler_stop(&s);
				if (write(back[1], &res, sizeof(res)) != sizeof(res))
					_exit(2);
				PQfinish(conn);
				_exit(0);
			}
		}
		close(ready[1]);
		close(back[1]);
		close(go[0]);
		for (i = 0; i < ntargets; i++)
			if (read(ready[0], &c, 1) != 1)
				die("%s", "a consumer failed to start");
		t0 = now_sec();
		close(go[1]);
		for (i = 0; i < ntargets; i++)
		{
			DrainResult got;

			if (read(back[0], &got, sizeof(got)) != sizeof(got))
				die("%s", "a consumer failed");
			total.rows += got.rows;
			total.bytes += got.bytes;
			total.calls += got.calls;
			if (got.peak_kb > total.peak_kb)
				total.peak_kb = got.peak_kb;
		}
		t1 = now_sec();
		for (i = 0; i < ntargets; i++)
		{
			int			st;

			wait(&st);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				die("%s", "a consumer exited with an error");
		}
	}
	printf("rows=%lld seconds=%.3f rows_per_sec=%.0f bytes=%lld calls=%lld peak_rss_anon_kb=%ld\n",
		   total.rows, t1 - t0, total.rows / (t1 - t0), total.bytes, total.calls, total.peak_kb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* loop                                                                */
/* ------------------------------------------------------------------ */

static int
cmd_loop(int argc, char **argv)
{
	double		seconds;
	PGconn	   *conn;
	Sampler		s;
	double		t0,
				t1;
	long long	calls = 0;

	if (argc != 4)
		die("%s", "usage: benchdrv loop SECONDS SQL");
	seconds = atof(argv[2]);
	conn = connect_db();
	prepare(conn, "q", argv[3]);
	sampler_start(&s, conn);
	t0 = now_sec();
	do
	{
		PQclear(exec_prepared(conn, "q", 0, NULL));
		calls++;
		t1 = now_sec();
	} while (t1 - t0 < seconds);
	printf("calls=%lld seconds=%.3f calls_per_sec=%.1f peak_rss_anon_kb=%ld\n",
		   calls, t1 - t0, calls / (t1 - t0), sampler_stop(&s));
	PQfinish(conn);
	return 0;
}

/* ------------------------------------------------------------------ */
/* latency                                                             */
/* ------------------------------------------------------------------ */

typedef struct Latency
{
	const char *kind;
	double		rate;
	double		seconds;
	long		poll_us;
	int			n;				/* records the producer will send */
	double	   *sent;			/* COMMIT send time per record, 0 = not yet */
	double	   *seen;			/* time the consumer got it, 0 = not yet */
	atomic_int	produced;
	atomic_int	done;
	long long	polls;
	long		peak_kb;
} Latency;

static void *
producer_main(void *arg)
{
	Latency    *L = arg;
	PGconn	   *conn = connect_db();
	const char *sql;
	double		start;
	int			i;

	if (strcmp(L->kind, "kinesis") == 0)
		sql = "SELECT 1 FROM kinesis.put_record(stream_name => 'lat', data => $1::bytea, "
			"partition_key => 'k')";
	else if (strcmp(L->kind, "base") == 0)
		sql = "INSERT INTO bench.lat_base VALUES (1, 0, nextval('bench.lat_base_seq'), "
			"clock_timestamp(), 'k', $1::bytea)";
	else if (strcmp(L->kind, "pgq") == 0)
		sql = "SELECT pgq.insert_event('lat', 'e', $1)";
	else
		sql = "SELECT pgmq.send('lat', $1::jsonb)";
	prepare(conn, "put", sql);
	prepare(conn, "begin", "BEGIN");
	prepare(conn, "commit", "COMMIT");

	start = now_sec();
	for (i = 0; i < L->n; i++)
	{
		char		id[16];
		const char *p[1] = {id};
		double		due = start + i / L->rate;
		double		t = now_sec();

		if (due > t)
			usleep((useconds_t) ((due - t) * 1e6));
		snprintf(id, sizeof(id), "%d", i);
		PQclear(exec_prepared(conn, "begin", 0, NULL));
		PQclear(exec_prepared(conn, "put", 1, p));
		L->sent[i] = now_sec();
		atomic_store(&L->produced, i + 1);
		PQclear(exec_prepared(conn, "commit", 0, NULL));
	}
	PQfinish(conn);
	return NULL;
}

/* the producer's number carried by a record, from its text form */
static int
record_id(const char *kind, const char *v)
{
	if (strcmp(kind, "kinesis") == 0 || strcmp(kind, "base") == 0)
	{
		/* bytea hex output: \x3132... is "12..." */
		int			id = 0;

		if (v[0] != '\\' || v[1] != 'x')
			return -1;
		for (v += 2; v[0] && v[1]; v += 2)
		{
			int			hi = v[0] >= 'a' ? v[0] - 'a' + 10 : v[0] - '0';
			int			lo = v[1] >= 'a' ? v[1] - 'a' + 10 : v[1] - '0';

			id = id * 10 + ((hi << 4 | lo) - '0');
		}
		return id;
	}
	return atoi(v);
}

static void
note_seen(Latency *L, PGresult *res, int col, double t)
{
	int			i;

	for (i = 0; i < PQntuples(res); i++)
	{
		int			id;

		if (PQgetisnull(res, i, col))
			continue;
		id = record_id(L->kind, PQgetvalue(res, i, col));
		if (id >= 0 && id < L->n && L->seen[id] == 0)
		{
			L->seen[id] = t;
			atomic_fetch_add(&L->done, 1);
		}
	}
}

static void *
consumer_main(void *arg)
{
	Latency    *L = arg;
	PGconn	   *conn = connect_db();
	Sampler		s;
	char	   *iter = NULL;
	char		last[32] = "0";
	double		deadline;

	if (strcmp(L->kind, "kinesis") == 0)
	{
		PGresult   *res = run(conn,
							  "SELECT kinesis.get_shard_iterator(stream_name => 'lat', "
							  "shard_id => 'shardId-000000000000', shard_iterator_type => 'LATEST')",
							  0, NULL);

		iter = strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		prepare(conn, "get",
				"SELECT CASE WHEN r.ord IS NULL OR r.ord = 1 THEN g.next_shard_iterator END, r.data "
				"  FROM kinesis.get_records(shard_iterator => $1, \"limit\" => 10000) AS g "
				"  LEFT JOIN LATERAL unnest(g.records) WITH ORDINALITY "
				"       AS r(sequence_number, approximate_arrival_timestamp, data, partition_key, "
				"            encryption_type, ord) ON true");
	}
	else if (strcmp(L->kind, "base") == 0)
	{
		PGresult   *res = run(conn, "SELECT coalesce(max(seq), 0) FROM bench.lat_base "
							  "WHERE stream_id = 1 AND shard_index = 0", 0, NULL);

		snprintf(last, sizeof(last), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		prepare(conn, "get",
				"SELECT seq, data FROM bench.lat_base WHERE stream_id = 1 AND shard_index = 0 "
				"AND seq > $1 ORDER BY seq LIMIT 10000");
	}
	else if (strcmp(L->kind, "pgq") == 0)
	{
		prepare(conn, "tick", "SELECT pgq.ticker('lat')");
		prepare(conn, "next", "SELECT pgq.next_batch('lat', 'lat')");
		prepare(conn, "get", "SELECT ev_id, ev_data FROM pgq.get_batch_events($1)");
		prepare(conn, "finish", "SELECT pgq.finish_batch($1)");
	}
	else
	{
		prepare(conn, "get", "SELECT msg_id, message FROM pgmq.read('lat', 30, 10000)");
		prepare(conn, "del", "SELECT count(*) FROM pgmq.delete('lat', $1::bigint[])");
	}

	sampler_start(&s, conn);
	/* the producer's run, then up to 10 s more for stragglers */
	deadline = now_sec() + L->seconds + 10;
	while (atomic_load(&L->done) < L->n && now_sec() < deadline)
	{
		PGresult   *res;
		int			got = 0;
		double		t;

		L->polls++;
		if (strcmp(L->kind, "kinesis") == 0)
		{
			const char *p[1] = {iter};

			res = exec_prepared(conn, "get", 1, p);
			t = now_sec();
			got = PQgetisnull(res, 0, 1) ? 0 : PQntuples(res);
			note_seen(L, res, 1, t);
			free(iter);
			iter = strdup(PQgetvalue(res, 0, 0));
			PQclear(res);
		}
		else if (strcmp(L->kind, "base") == 0)
		{
			const char *p[1] = {last};

			res = exec_prepared(conn, "get", 1, p);
			t = now_sec();
			got = PQntuples(res);
			note_seen(L, res, 1, t);
			if (got > 0)
				snprintf(last, sizeof(last), "%s", PQgetvalue(res, got - 1, 0));
			PQclear(res);
		}
		else if (strcmp(L->kind, "pgq") == 0)
		{
			PQclear(exec_prepared(conn, "tick", 0, NULL));
			res = exec_prepared(conn, "next", 0, NULL);
			if (!PQgetisnull(res, 0, 0))
			{
				char		batch[32];
				const char *bp[1] = {batch};

				snprintf(batch, sizeof(batch), "%s", PQgetvalue(res, 0, 0));
				PQclear(res);
				res = exec_prepared(conn, "get", 1, bp);
				t = now_sec();
				got = PQntuples(res);
				note_seen(L, res, 1, t);
				PQclear(res);
				PQclear(exec_prepared(conn, "finish", 1, bp));
			}
			else
				PQclear(res);
		}
		else
		{
			res = exec_prepared(conn, "get", 0, NULL);
			t = now_sec();
			got = PQntuples(res);
			note_seen(L, res, 1, t);
			if (got > 0)
			{
				char	   *ids = malloc(got * 21 + 3);
				size_t		len = 0;
				int			i;
				const char *dp[1] = {ids};

				ids[len++] = '{';
				for (i = 0; i < got; i++)
				{
					if (i > 0)
						ids[len++] = ',';
					len += sprintf(ids + len, "%s", PQgetvalue(res, i, 0));
				}
				ids[len++] = '}';
				ids[len] = '\0';
				PQclear(exec_prepared(conn, "del", 1, dp));
				free(ids);
			}
			PQclear(res);
		}
		if (got == 0 && L->poll_us > 0)
			usleep(L->poll_us);
	}
	L->peak_kb = sampler_stop(&s);
	free(iter);
	PQfinish(conn);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

static int
cmd_latency(int argc, char **argv)
{
	Latency		L;
	pthread_t	prod,
				cons;
	double	   *lat;
	int			i,
				m = 0;

	if (argc != 6)
		die("%s", "usage: benchdrv latency KIND RATE SECONDS POLL_US");
	memset(&L, 0, sizeof(L));
	L.kind = argv[2];
	L.rate = atof(argv[3]);
	L.seconds = atof(argv[4]);
	L.poll_us = atol(argv[5]);
	L.n = (int) (L.rate * L.seconds);
	if (L.n < 1)
		die("%s", "RATE x SECONDS must be at least 1");
	L.sent = calloc(L.n, sizeof(double));
	L.seen = calloc(L.n, sizeof(double));
	lat = calloc(L.n, sizeof(double));

	pthread_create(&cons, NULL, consumer_main, &L);
	usleep(300000);				/* the consumer is polling before the first put */
	pthread_create(&prod, NULL, producer_main, &L);
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);

	for (i = 0; i < L.n; i++)
		if (L.seen[i] > 0 && L.sent[i] > 0)
			lat[m++] = (L.seen[i] - L.sent[i]) * 1000.0;
	qsort(lat, m, sizeof(double), cmp_double);
	if (m == 0)
	{
		printf("records=%d received=0\n", L.n);
		return 1;
	}
	printf("records=%d received=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f polls=%lld peak_rss_anon_kb=%ld\n",
		   L.n, m, lat[(int) (0.50 * (m - 1))], lat[(int) (0.99 * (m - 1))], lat[m - 1],
		   L.polls, L.peak_kb);
	return m == L.n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "drain") == 0)
		return cmd_drain(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "loop") == 0)
		return cmd_loop(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "latency") == 0)
		return cmd_latency(argc, argv);
	die("%s", "usage: benchdrv drain|loop|latency ...");
	return 2;
}
