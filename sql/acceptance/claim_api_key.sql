-- acceptance / claim_api_key: on a Citus cluster (phase 9) api_keys.api_key_hash stays unique across tenants through
-- the reference table api_keys_api_key_hash_owner, which api_keys references: the sample API key of tenant
-- %(user_id)s (sample_platform_rows.sql) claims its hash there first, as the platform must (docs/scale-out.md).
INSERT INTO public.api_keys_api_key_hash_owner (api_key_hash, user_id)
VALUES (%(api_key_hash)s, %(user_id)s)
