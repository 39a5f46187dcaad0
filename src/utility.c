/*-------------------------------------------------------------------------
 *
 * utility.c
 *		The extension's ProcessUtility hook: what DROP DATABASE, DROP
 *		EXTENSION and DROP ROLE need done around them.
 *
 * DROP DATABASE fails while anyone is connected to the database, and the
 * maintenance worker always is; so the worker is stopped first, kept from
 * being started again while the drop runs, and started again if the drop
 * fails (worker.c).
 *
 * A stream's records live in bucket tables created at run time, which
 * inherit from the extension's kinesis.records but are not part of the
 * extension (so that pg_dump dumps them with their data).  Without help,
 * DROP EXTENSION kinesis would then need CASCADE; the bucket tables are the
 * extension's own data, so they are dropped first, in the same transaction.
 *
 * kinesis.stream_grants names roles by OID, which a dropped role leaves
 * dangling; DROP ROLE removes the dropped roles' grants in the current
 * database (roles are cluster-wide, other databases' grants are revoked
 * there).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "catalog/pg_type.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/snapmgr.h"

#include "kinesis.h"

static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * drops_kinesis
 *		Whether a DROP EXTENSION statement names the installed kinesis.
 */
static bool
drops_kinesis(DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
	{
		if (strcmp(strVal(lfirst(lc)), "kinesis") == 0)
			return OidIsValid(get_extension_oid("kinesis", true));
	}
	return false;
}

/*
 * drop_bucket_tables
 *		Drop every stream's bucket tables.
 */
static void
drop_bucket_tables(void)
{
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute("SELECT kinesis._drop_bucket_tables()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "dropping the bucket tables failed");
	PopActiveSnapshot();
	SPI_finish();
}

/*
 * dropped_roles
 *		The OIDs of the existing roles a DROP ROLE names, as an oid[].
 */
static ArrayType *
dropped_roles(DropRoleStmt *stmt)
{
	ListCell   *lc;
	Datum	   *oids = palloc(sizeof(Datum) * Max(1, list_length(stmt->roles)));
	int			n = 0;

	foreach(lc, stmt->roles)
	{
		Oid			roleid = get_rolespec_oid(lfirst(lc), true);

		if (OidIsValid(roleid))
			oids[n++] = ObjectIdGetDatum(roleid);
	}
	return construct_array(oids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
}

/*
 * forget_grants
 *		Remove the grants of roles just dropped, as the extension's owner
 *		(who drops a role need not be able to write kinesis.stream_grants).
 */
static void
forget_grants(ArrayType *roles)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1] = {PointerGetDatum(roles)};
	KinesisSavedUser saved;

	if (!OidIsValid(get_extension_oid("kinesis", true)))
		return;
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	kinesis_owner_begin(&saved);
	if (SPI_execute_with_args("DELETE FROM kinesis.stream_grants g "
							  " WHERE g.grantee::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1)",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "removing the grants of dropped roles failed");
	kinesis_owner_end(&saved);
	PopActiveSnapshot();
	SPI_finish();
}

/*
 * kinesis_process_utility
 *		Do what the two statements need first, then run them as usual.
 */
static void
kinesis_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	volatile Oid dropped_db = InvalidOid;
	ArrayType  *volatile roles = NULL;

	if (IsA(parsetree, DropdbStmt))
	{
		dropped_db = get_database_oid(((DropdbStmt *) parsetree)->dbname, true);
		if (OidIsValid(dropped_db))
			kinesis_worker_stop_for_drop(dropped_db);
	}
	else if (IsA(parsetree, DropStmt) && drops_kinesis((DropStmt *) parsetree))
		drop_bucket_tables();
	else if (IsA(parsetree, DropRoleStmt))
		roles = dropped_roles((DropRoleStmt *) parsetree);

	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
								 queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_CATCH();
	{
		/* the database is still there: it gets its worker back */
		if (OidIsValid(dropped_db))
			kinesis_worker_after_drop(dropped_db, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (OidIsValid(dropped_db))
		kinesis_worker_after_drop(dropped_db, true);
	if (roles != NULL && ARR_NDIM(roles) > 0)
		forget_grants(roles);
}

/*
 * kinesis_utility_register
 *		From _PG_init while preloading: install the hook.
 */
void
kinesis_utility_register(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = kinesis_process_utility;
}
