-- expectations / 03_create_admin_user / admin_user
-- admin user id 1 exists, is active, with the configured email
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT p.admin_email AS expected_email, u.email AS found_email, u.is_active FROM p
LEFT JOIN public.users AS u ON u.id = 1
WHERE u.id IS NULL OR u.email IS DISTINCT FROM p.admin_email OR u.is_active IS NOT TRUE
