/*-------------------------------------------------------------------------
 *
 * authz.c
 *		Who may do what to which stream: the extension's stand-in for the
 *		IAM policies Kinesis users know.
 *
 * A role may perform a Kinesis action (PutRecord, GetRecords, ...) on a
 * stream if it is a superuser, if it has the privileges of the built-in
 * group role kinesis_admin (everything), of kinesis_producer (writing,
 * describing and listing) or of kinesis_consumer (reading, describing,
 * listing, stream consumers), or if a row of kinesis.stream_grants gives
 * one of its roles the action (or a wildcard "kinesis:Put*", "kinesis:*")
 * on the stream (or on every stream, "*").  Role membership follows
 * PostgreSQL's rules (has_privs_of_role: INHERIT matters), as for table
 * privileges.
 *
 * The data plane (put, get, iterators) calls kinesis_authorize() in C with
 * the caller's identity.  The control plane is written in SQL and has to
 * write catalog tables that callers cannot write, so each operation is a
 * SECURITY INVOKER wrapper, which asks kinesis._authorize() as the caller,
 * around a SECURITY DEFINER body that runs as the extension's owner.  The
 * body cannot see who called it (inside a SECURITY DEFINER function the
 * current user is the owner), so the wrapper's check leaves a one-shot
 * ticket for exactly that action, stream and session role, and the body
 * starts by taking it with kinesis._authorized(): a body called directly,
 * for another stream or after SET ROLE finds no ticket and refuses.
 *
 * Decisions are cached per backend and dropped when kinesis.stream_grants
 * changes (statement trigger) or when roles or memberships change
 * (syscache callbacks).
 *
 * The C code that reads catalog tables with SPI (shard maps, child shards)
 * runs those queries as the extension's owner (kinesis_owner_begin/end),
 * as PostgreSQL's referential integrity triggers do, so that a caller who
 * may put or read needs no privilege on the tables themselves.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_authorize_sql);
PG_FUNCTION_INFO_V1(kinesis_authorized_sql);
PG_FUNCTION_INFO_V1(kinesis_is_authorized_sql);
PG_FUNCTION_INFO_V1(kinesis_valid_action_sql);
PG_FUNCTION_INFO_V1(kinesis_authz_invalidate);
PG_FUNCTION_INFO_V1(kinesis_builtin_role_actions);

/* Every action a grant can name, as IAM spells them after "kinesis:". */
static const char *const all_actions[] = {
	"AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteStream",
	"DeregisterStreamConsumer", "DescribeLimits", "DescribeStream",
	"DescribeStreamConsumer", "DescribeStreamSummary", "DisableEnhancedMonitoring",
	"EnableEnhancedMonitoring", "GetRecords", "GetShardIterator",
	"IncreaseStreamRetentionPeriod", "ListShards", "ListStreamConsumers", "ListStreams",
	"ListTagsForStream", "MergeShards", "PutRecord", "PutRecords", "RegisterStreamConsumer",
	"RemoveTagsFromStream", "SplitShard", "StartStreamEncryption", "StopStreamEncryption",
	"SubscribeToShard", "UpdateShardCount", NULL
};

/*
 * Actions of this extension that no AWS operation has: only superusers and
 * kinesis_admin may perform them, and no grant can name them.
 */
static const char *const admin_actions[] = {"ManageAccess", "RunMaintenance", NULL};

static const char *const read_only_actions[] = {
	"DescribeLimits", "DescribeStream", "DescribeStreamSummary", "ListShards",
	"ListStreams", "ListTagsForStream", NULL
};

static const char *const producer_actions[] = {"PutRecord", "PutRecords", NULL};

static const char *const consumer_actions[] = {
	"GetRecords", "GetShardIterator", "RegisterStreamConsumer", "DeregisterStreamConsumer",
	"DescribeStreamConsumer", "ListStreamConsumers", "SubscribeToShard", NULL
};

/* one row of kinesis.stream_grants */
typedef struct Grant
{
	Oid			grantee;
	char	   *stream_name;	/* "*" for every stream */
	char	   *action;			/* without "kinesis:"; may end in '*' */
} Grant;

typedef struct DecisionKey
{
	Oid			roleid;
	char		action[48];
	char		stream[130];
} DecisionKey;

typedef struct Decision
{
	DecisionKey key;
	bool		allowed;
} Decision;

static MemoryContext authz_cxt = NULL;
static Grant *grants = NULL;
static int	ngrants = 0;
static HTAB *decisions = NULL;
static bool authz_valid = false;
static bool authz_callbacks = false;
static Oid	grants_relid = InvalidOid;

/* the ticket a wrapper leaves for its body */
static bool ticket_set = false;
static Oid	ticket_outer_user = InvalidOid;
static char ticket_action[48];
static char *ticket_stream = NULL;	/* in TopMemoryContext; NULL: none */

static void
authz_reset(void)
{
	authz_valid = false;
	grants_relid = InvalidOid;
}

static void
authz_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == grants_relid)
		authz_reset();
}

static void
authz_syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	authz_reset();
}

/*
 * authz_xact_cb
 *		A ticket never outlives its transaction.
 */
static void
authz_xact_cb(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		ticket_set = false;
}

/*
 * authz_load
 *		Read kinesis.stream_grants (directly, as the data plane reads its
 *		other internal tables) and start an empty decision cache.
 */
static void
authz_load(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	int			cap = 16;
	HASHCTL		ctl;

	if (!authz_callbacks)
	{
		CacheRegisterRelcacheCallback(authz_relcache_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, authz_syscache_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, authz_syscache_cb, (Datum) 0);
		RegisterXactCallback(authz_xact_cb, NULL);
		authz_callbacks = true;
	}
	if (authz_cxt == NULL)
		authz_cxt = AllocSetContextCreate(TopMemoryContext, "kinesis privileges",
										  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(authz_cxt);
	grants = NULL;
	ngrants = 0;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(DecisionKey);
	ctl.entrysize = sizeof(Decision);
	ctl.hcxt = authz_cxt;
	decisions = hash_create("kinesis privilege decisions", 64, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	grants_relid = kinesis_relid("stream_grants");
	rel = table_open(grants_relid, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	grants = MemoryContextAlloc(authz_cxt, sizeof(Grant) * cap);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		char	   *action;

		if (ngrants == cap)
		{
			cap *= 2;
			grants = repalloc(grants, sizeof(Grant) * cap);
		}
		/* grantee, stream_name, action, granted_at */
		grants[ngrants].grantee = DatumGetObjectId(heap_getattr(tup, 1, desc, &isnull));
		grants[ngrants].stream_name =
			MemoryContextStrdup(authz_cxt, TextDatumGetCString(heap_getattr(tup, 2, desc, &isnull)));
		action = TextDatumGetCString(heap_getattr(tup, 3, desc, &isnull));
		if (strncmp(action, "kinesis:", 8) == 0)
			action += 8;
		grants[ngrants].action = MemoryContextStrdup(authz_cxt, action);
		ngrants++;
	}
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	authz_valid = true;
}

static bool
in_list(const char *const *list, const char *action)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, action) == 0)
			return true;
	return false;
}

/*
 * action_matches
 *		Whether a granted action ("PutRecord", "Put*", "*") covers action.
 */
static bool
action_matches(const char *granted, const char *action)
{
	size_t		len = strlen(granted);

	if (len > 0 && granted[len - 1] == '*')
		return strncmp(granted, action, len - 1) == 0;
	return strcmp(granted, action) == 0;
}

/*
 * builtin_role_allows
 *		Whether roleid has the privileges of the named built-in role and it
 *		grants the action.
 */
static bool
builtin_role_allows(Oid roleid, const char *rolename, const char *const *actions,
					const char *action)
{
	Oid			builtin = get_role_oid(rolename, true);

	if (!OidIsValid(builtin) || !has_privs_of_role(roleid, builtin))
		return false;
	return actions == NULL || in_list(read_only_actions, action) || in_list(actions, action);
}

/*
 * decide
 *		The decision itself, uncached.  stream_name NULL or "*" asks about
 *		every stream (ListStreams, DescribeLimits): only a grant on "*"
 *		answers it.
 */
static bool
decide(Oid roleid, const char *action, const char *stream_name)
{
	int			i;

	if (superuser_arg(roleid))
		return true;
	if (in_list(admin_actions, action))
		return builtin_role_allows(roleid, "kinesis_admin", NULL, action);
	if (builtin_role_allows(roleid, "kinesis_admin", NULL, action) ||
		builtin_role_allows(roleid, "kinesis_producer", producer_actions, action) ||
		builtin_role_allows(roleid, "kinesis_consumer", consumer_actions, action))
		return true;
	for (i = 0; i < ngrants; i++)
	{
		Grant	   *g = &grants[i];

		if (!action_matches(g->action, action))
			continue;
		if (strcmp(g->stream_name, "*") != 0 &&
			(stream_name == NULL || strcmp(g->stream_name, stream_name) != 0))
			continue;
		if (has_privs_of_role(roleid, g->grantee))
			return true;
	}
	return false;
}

/*
 * kinesis_allowed
 *		Whether roleid may perform action on the stream, cached.
 */
bool
kinesis_allowed(Oid roleid, const char *action, const char *stream_name)
{
	DecisionKey key;
	Decision   *d;
	bool		found;
	bool		allowed;

	if (!authz_valid)
		authz_load();
	if (stream_name != NULL && strlen(stream_name) >= sizeof(key.stream))
		return decide(roleid, action, stream_name);	/* no such stream; not cached */
	memset(&key, 0, sizeof(key));
	key.roleid = roleid;
	strlcpy(key.action, action, sizeof(key.action));
	/* "*" cannot be a stream name, so it stands for "every stream" */
	strlcpy(key.stream, stream_name ? stream_name : "*", sizeof(key.stream));
	d = hash_search(decisions, &key, HASH_FIND, &found);
	if (found)
		return d->allowed;
	allowed = decide(roleid, action, stream_name);
	/* decide() may have seen an invalidation; then cache nothing */
	if (authz_valid)
	{
		d = hash_search(decisions, &key, HASH_ENTER, &found);
		d->allowed = allowed;
	}
	return allowed;
}

/*
 * kinesis_authorize
 *		AccessDeniedException unless the current user may perform action on
 *		the stream, in the words of AWS's IAM denial.
 */
void
kinesis_authorize(const char *action, const char *stream_name)
{
	Oid			roleid = GetUserId();
	char	   *rolename;

	if (kinesis_allowed(roleid, action, stream_name))
		return;
	rolename = GetUserNameFromId(roleid, true);
	kinesis_raise(KX_ACCESS_DENIED,
				  "User: arn:aws:iam::%s:user/%s is not authorized to perform: kinesis:%s on resource: arn:aws:kinesis:%s:%s:stream/%s because no identity-based policy allows the kinesis:%s action",
				  kinesis_account_id, rolename ? rolename : "unknown", action,
				  kinesis_region, kinesis_account_id,
				  stream_name ? stream_name : "*", action);
}

/*
 * kinesis._authorize(action text, stream_name text) RETURNS void
 *		The wrapper's check, as the caller: AccessDeniedException, or a
 *		ticket for the body it is about to call.
 */
Datum
kinesis_authorize_sql(PG_FUNCTION_ARGS)
{
	char	   *action = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *stream = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (action == NULL || (!in_list(all_actions, action) && !in_list(admin_actions, action)))
		elog(ERROR, "unknown Kinesis action \"%s\"", action ? action : "(null)");
	kinesis_authorize(action, stream);
	if (ticket_stream != NULL)
		pfree(ticket_stream);
	ticket_stream = stream ? MemoryContextStrdup(TopMemoryContext, stream) : NULL;
	strlcpy(ticket_action, action, sizeof(ticket_action));
	ticket_outer_user = GetOuterUserId();
	ticket_set = true;
	PG_RETURN_VOID();
}

/*
 * kinesis._authorized(action text, stream_name text) RETURNS void
 *		The body's check: take the ticket its wrapper left, for this very
 *		action and stream and the same session role, or refuse.
 */
Datum
kinesis_authorized_sql(PG_FUNCTION_ARGS)
{
	char	   *action = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *stream = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		ok;

	ok = ticket_set && ticket_outer_user == GetOuterUserId() &&
		strcmp(ticket_action, action) == 0 &&
		((stream == NULL && ticket_stream == NULL) ||
		 (stream != NULL && ticket_stream != NULL && strcmp(stream, ticket_stream) == 0));
	ticket_set = false;
	if (!ok)
		kinesis_raise(KX_ACCESS_DENIED,
					  "kinesis:%s on stream %s may only be called through kinesis.%s's checks",
					  action, stream ? stream : "*", action);
	PG_RETURN_VOID();
}

/*
 * kinesis.is_authorized(action text, stream_name text, role regrole
 *						 DEFAULT current_user) RETURNS boolean
 *		Whether a role may perform an action ("PutRecord" or
 *		"kinesis:PutRecord") on a stream; what the views filter by.
 */
Datum
kinesis_is_authorized_sql(PG_FUNCTION_ARGS)
{
	char	   *action;
	char	   *stream;
	Oid			roleid;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	action = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strncmp(action, "kinesis:", 8) == 0)
		action += 8;
	stream = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	roleid = PG_ARGISNULL(2) ? GetUserId() : PG_GETARG_OID(2);
	PG_RETURN_BOOL(kinesis_allowed(roleid, action, stream));
}

/*
 * kinesis._valid_action(action text) RETURNS boolean
 *		Whether a grant may name this action: "kinesis:" and an operation,
 *		or a prefix of at least one operation followed by '*'.
 */
Datum
kinesis_valid_action_sql(PG_FUNCTION_ARGS)
{
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(0));
	size_t		len;
	int			i;

	if (strncmp(action, "kinesis:", 8) != 0)
		PG_RETURN_BOOL(false);
	action += 8;
	len = strlen(action);
	if (len > 0 && action[len - 1] == '*')
	{
		for (i = 0; all_actions[i] != NULL; i++)
			if (strncmp(all_actions[i], action, len - 1) == 0)
				PG_RETURN_BOOL(true);
		PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(in_list(all_actions, action));
}

/*
 * kinesis._builtin_role_actions(role name) RETURNS SETOF text
 *		What a built-in role brings, as grants would name it, for
 *		kinesis.privileges: the same lists decide() uses.
 */
Datum
kinesis_builtin_role_actions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *role = NameStr(*PG_GETARG_NAME(0));
	const char *const *lists[2] = {NULL, NULL};
	int			l;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (strcmp(role, "kinesis_admin") == 0)
	{
		Datum		v = CStringGetTextDatum("kinesis:*");
		bool		n = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &n);
		return (Datum) 0;
	}
	if (strcmp(role, "kinesis_producer") == 0)
		lists[0] = producer_actions;
	else if (strcmp(role, "kinesis_consumer") == 0)
		lists[0] = consumer_actions;
	else
		return (Datum) 0;
	lists[1] = read_only_actions;
	for (l = 0; l < 2; l++)
	{
		const char *const *a;

		for (a = lists[l]; *a != NULL; a++)
		{
			Datum		v = CStringGetTextDatum(psprintf("kinesis:%s", *a));
			bool		n = false;

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &n);
		}
	}
	return (Datum) 0;
}

/*
 * kinesis._authz_invalidate()
 *		Statement trigger on kinesis.stream_grants: every backend drops its
 *		cached decisions.
 */
Datum
kinesis_authz_invalidate(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "kinesis._authz_invalidate() must be called as a trigger");
	CacheInvalidateRelcacheByRelid(kinesis_relid("stream_grants"));
	return PointerGetDatum(NULL);
}

/*
 * kinesis_owner_begin / kinesis_owner_end
 *		Run the catalog queries between them as the extension's owner, with
 *		SECURITY_LOCAL_USERID_CHANGE, as PostgreSQL's RI triggers run theirs,
 *		and with search_path pinned.  An error in between needs no cleanup:
 *		(sub)transaction abort restores the user and the settings.
 */
void
kinesis_owner_begin(KinesisSavedUser *saved)
{
	static Oid	owner_ext = InvalidOid;
	static Oid	owner = InvalidOid;
	Oid			ext = get_extension_oid("kinesis", false);

	if (ext != owner_ext)
	{
		Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(ext));
		scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
		tup = systable_getnext(scan);
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "extension kinesis has no catalog entry");
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		owner_ext = ext;
	}
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(owner, saved->sec_context | SECURITY_LOCAL_USERID_CHANGE);

	/*
	 * The caller's search_path must not choose the operators and types of
	 * queries that run with the owner's rights: pin it, as a SECURITY
	 * DEFINER function's SET clause would.
	 */
	saved->guc_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

void
kinesis_owner_end(KinesisSavedUser *saved)
{
	AtEOXact_GUC(true, saved->guc_nestlevel);
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}
