-- Phase 9 (a Citus cluster): users.email is kept unique across tenants by users_email_owner, which users references;
-- a new tenant's email is claimed there first, with the id the tenant will have. Fails with a unique violation when
-- another tenant has the email.
INSERT INTO public.users_email_owner (email, user_id)
VALUES (%(email)s, nextval(pg_get_serial_sequence('public.users', 'id')))
RETURNING user_id
