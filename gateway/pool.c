/*-------------------------------------------------------------------------
 *
 * pool.c
 *		The gateway's bounded pool of libpq connections.
 *
 * At most pool_size connections are open; they are made on first need and
 * kept.  A request takes one for the duration of its kinesis.api() call
 * and waits while all are taken, so the database never sees more sessions
 * than configured however many clients connect.  Each connection remembers
 * the role SET on it, so consecutive requests of the same access key pay
 * no extra round trip; a broken connection is reset before reuse.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_free = PTHREAD_COND_INITIALIZER;
static kgw_conn *pool;
static int	pool_open;

/*
 * kgw_pool_init
 *		Allocate the slots; connections are opened lazily.
 */
void
kgw_pool_init(void)
{
	pool = calloc(kgw_conf.pool_size, sizeof(kgw_conn));
	if (pool == NULL)
	{
		fprintf(stderr, "kinesis-gateway: out of memory\n");
		exit(1);
	}
}

/*
 * kgw_pool_close
 *		Close every connection (at shutdown, once no request runs).
 */
void
kgw_pool_close(void)
{
	pthread_mutex_lock(&pool_lock);
	for (int i = 0; i < pool_open; i++)
	{
		if (pool[i].pg)
			PQfinish(pool[i].pg);
		pool[i].pg = NULL;
		free(pool[i].role);
		pool[i].role = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
}

/*
 * connect_one
 *		Open (or reopen) the connection of a slot.  The application name
 *		shows the gateway's sessions in pg_stat_activity.
 */
static void
connect_one(kgw_conn *c)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *values[] = {kgw_conf.dsn, "kinesis-gateway", NULL};

	if (c->pg)
		PQfinish(c->pg);
	c->pg = PQconnectdbParams(keys, values, 1);
	free(c->role);
	c->role = NULL;
	if (PQstatus(c->pg) != CONNECTION_OK)
		kgw_log("database connection failed: %s", PQerrorMessage(c->pg));
}

/*
 * kgw_pool_get
 *		Take a connection, waiting while all are in use.  The connection
 *		may be bad (the database is down): the caller's query then fails
 *		and the request gets an InternalFailure.
 */
kgw_conn *
kgw_pool_get(void)
{
	kgw_conn   *c = NULL;

	pthread_mutex_lock(&pool_lock);
	for (;;)
	{
		for (int i = 0; i < pool_open; i++)
			if (!pool[i].in_use)
			{
				c = &pool[i];
				break;
			}
		if (c == NULL && pool_open < kgw_conf.pool_size)
			c = &pool[pool_open++];
		if (c != NULL)
			break;
		pthread_cond_wait(&pool_free, &pool_lock);
	}
	c->in_use = true;
	pthread_mutex_unlock(&pool_lock);

	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK)
		connect_one(c);
	return c;
}

/*
 * kgw_pool_put
 *		Give a connection back.  One left inside a transaction (it never
 *		should be) is reset rather than handed to the next request.
 */
void
kgw_pool_put(kgw_conn *c)
{
	if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		connect_one(c);
	pthread_mutex_lock(&pool_lock);
	c->in_use = false;
	pthread_cond_signal(&pool_free);
	pthread_mutex_unlock(&pool_lock);
}

/*
 * kgw_pool_set_role
 *		Make the connection's current role the given one (NULL: the login
 *		role), with one SET ROLE when it differs from the last.  False
 *		with the server's message when the login role may not become it.
 */
bool
kgw_pool_set_role(kgw_conn *c, const char *role, char *err, size_t errlen)
{
	char	   *ident;
	char	   *sql;
	PGresult   *res;
	bool		ok;

	if ((role == NULL && c->role == NULL) ||
		(role != NULL && c->role != NULL && strcmp(role, c->role) == 0))
		return true;
	if (role == NULL)
		sql = strdup("RESET ROLE");
	else
	{
		ident = PQescapeIdentifier(c->pg, role, strlen(role));
		if (ident == NULL)
		{
			snprintf(err, errlen, "%s", PQerrorMessage(c->pg));
			return false;
		}
		sql = malloc(strlen(ident) + 16);
		if (sql)
			sprintf(sql, "SET ROLE %s", ident);
		PQfreemem(ident);
	}
	if (sql == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	res = PQexec(c->pg, sql);
	free(sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
	PQclear(res);
	free(c->role);
	c->role = NULL;
	if (ok && role != NULL)
		c->role = strdup(role);
	else if (!ok)
	{
		/* the session role is unknown now: start over from the login role */
		res = PQexec(c->pg, "RESET ROLE");
		PQclear(res);
	}
	return ok;
}

/*
 * kgw_pool_check
 *		At start-up: can the gateway reach the database, is the extension
 *		there, and may the login role read access keys?
 */
bool
kgw_pool_check(char *err, size_t errlen)
{
	kgw_conn   *c = kgw_pool_get();
	PGresult   *res;
	bool		ok;

	if (PQstatus(c->pg) != CONNECTION_OK)
	{
		snprintf(err, errlen, "%s", PQerrorMessage(c->pg));
		kgw_pool_put(c);
		return false;
	}
	res = PQexec(c->pg,
				 "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'kinesis'");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (!ok)
		snprintf(err, errlen, "the kinesis extension is not installed in this database");
	PQclear(res);
	if (ok && kgw_conf.auth)
	{
		res = PQexec(c->pg,
					 "SELECT pg_catalog.has_function_privilege("
					 "'kinesis.gateway_credentials(text)', 'EXECUTE')");
		ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
			strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		if (!ok)
			snprintf(err, errlen,
					 "the login role may not read access keys: grant it kinesis_gateway (or use --auth none)");
		PQclear(res);
	}
	kgw_pool_put(c);
	return ok;
}
