-- 06_create_supporting_tables / up / 11_count_usage
-- Requires: 06_create_supporting_tables / up / 04_usage_tracking
-- mode: transaction
-- How a tenant counts its usage: the counters of usage_tracking decide limits and billing, so the tenant roles may
-- read them and never write them (phase 8 grants SELECT only, and EXECUTE on this function). count_usage() adds a
-- positive amount to one counter of today's row of the caller's tenant, creating the row if needed, and returns the
-- new count. The caller's tenant is the one app_current_tenant() gives the caller: 1 for a role confined to
-- tenant_legacy (whatever it set), else the tenant this transaction named with app_set_tenant (phase 8's
-- app.tenant_id '<tenant>/<token>', read as app_current_tenant() reads it; a value of another transaction names
-- none). The caller is the session's role (the one
-- SET ROLE chose, else the login role): inside a SECURITY DEFINER function current_user is its owner.
-- SECURITY DEFINER with a fixed search_path (pg_catalog, then pg_temp last) and every call schema-qualified, so
-- that no object of anyone else's is found in its place. Run as the owner of usage_tracking (ours; the app's when
-- the app had a usage_tracking that phase 6 adopted), so it never lends the migration's role to the app's code
-- (a trigger on an adopted table). No privilege for PUBLIC: phase 8 grants EXECUTE to the tenant roles.
-- Each CASE is the searched form (CASE WHEN counter = ...): Citus (phase 9) sends the simple form on a parameter
-- (CASE counter WHEN ...) to the workers as CASE WHEN NULL::boolean ..., which fails there with "operator does not
-- exist: text = boolean" (citusdata/citus#2862).

CREATE OR REPLACE FUNCTION public.count_usage(counter text, amount integer DEFAULT 1) RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller name := coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user);
    tenant bigint;
    counted bigint;
BEGIN
    IF counter IS NULL OR counter NOT IN ('daily_messages_sent', 'daily_messages_received', 'daily_campaigns_sent',
                                          'daily_campaign_messages', 'live_takeovers_used', 'actions_created',
                                          'api_calls_made') THEN
        RAISE EXCEPTION 'count_usage: no counter %', pg_catalog.quote_literal(counter)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF amount IS NULL OR amount < 1 THEN
        RAISE EXCEPTION 'count_usage: the amount must be 1 or more, not %', amount
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tenant_legacy')
       AND pg_catalog.pg_has_role(caller, 'tenant_legacy', 'USAGE') THEN
        tenant := 1;
    ELSIF pg_catalog.to_regprocedure('public.app_tenant_token()') IS NULL THEN
        -- before phase 8: no tenant role exists yet, and the owner names the tenant as it is
        tenant := nullif(pg_catalog.current_setting('app.tenant_id', true), '')::bigint;
    ELSE
        tenant := (SELECT pg_catalog.split_part(s.named, '/', 1)::bigint
                   FROM (SELECT pg_catalog.current_setting('app.tenant_id', true) AS named) AS s
                   WHERE pg_catalog.split_part(s.named, '/', 2) OPERATOR(pg_catalog.=) public.app_tenant_token());
    END IF;
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'count_usage: no tenant named in this transaction (SELECT public.app_set_tenant(<id>))'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO public.usage_tracking AS u (user_id, tracking_date)
    VALUES (tenant, current_date)
    ON CONFLICT (user_id, tracking_date) DO NOTHING;
    UPDATE public.usage_tracking AS u
    SET daily_messages_sent = u.daily_messages_sent + CASE WHEN counter = 'daily_messages_sent' THEN amount ELSE 0 END,
        daily_messages_received = u.daily_messages_received
            + CASE WHEN counter = 'daily_messages_received' THEN amount ELSE 0 END,
        daily_campaigns_sent = u.daily_campaigns_sent
            + CASE WHEN counter = 'daily_campaigns_sent' THEN amount ELSE 0 END,
        daily_campaign_messages = u.daily_campaign_messages
            + CASE WHEN counter = 'daily_campaign_messages' THEN amount ELSE 0 END,
        live_takeovers_used = u.live_takeovers_used + CASE WHEN counter = 'live_takeovers_used' THEN amount ELSE 0 END,
        actions_created = u.actions_created + CASE WHEN counter = 'actions_created' THEN amount ELSE 0 END,
        api_calls_made = u.api_calls_made + CASE WHEN counter = 'api_calls_made' THEN amount ELSE 0 END,
        updated_at = pg_catalog.now()
    WHERE u.user_id = tenant AND u.tracking_date = current_date
    RETURNING CASE
        WHEN counter = 'daily_messages_sent' THEN u.daily_messages_sent
        WHEN counter = 'daily_messages_received' THEN u.daily_messages_received
        WHEN counter = 'daily_campaigns_sent' THEN u.daily_campaigns_sent
        WHEN counter = 'daily_campaign_messages' THEN u.daily_campaign_messages
        WHEN counter = 'live_takeovers_used' THEN u.live_takeovers_used
        WHEN counter = 'actions_created' THEN u.actions_created
        ELSE u.api_calls_made
    END INTO counted;
    RETURN counted;
END
$fn$;

REVOKE ALL ON FUNCTION public.count_usage(text, integer) FROM PUBLIC;

DO $owner$
DECLARE
    table_owner name := (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class AS c
                         WHERE c.oid = 'public.usage_tracking'::regclass);
BEGIN
    IF table_owner <> current_user THEN
        EXECUTE pg_catalog.format('ALTER FUNCTION public.count_usage(text, integer) OWNER TO %I', table_owner);
    END IF;
END
$owner$;
