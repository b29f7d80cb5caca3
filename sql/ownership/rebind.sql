-- ownership / rebind: after the migration restored this database from one of its backups, or copied it (a dump and
-- its restore give every object a new oid), the identities the ledger recorded are the old objects': each is taken
-- again from the object of the same key in the catalog now. A saved definition is rebound only if it still matches
-- the digest it was saved with, and then gets the digest of its new table identity. Run right after such a restore
-- or copy, by the migration, never otherwise (it is the one moment names are trusted again).
UPDATE tenant_migrate.owned_objects AS o SET objid = c.objid, objsub = c.objsub
FROM tenant_migrate.catalog_objects AS c
WHERE o.ownership IN ('created', 'adopted') AND o.released_at IS NULL
    AND (c.kind, c.table_name, c.name) = (o.kind, o.table_name, o.name);

UPDATE tenant_migrate.owned_objects AS o SET objid = c.oid
FROM pg_class AS c
WHERE o.ownership = 'pending' AND o.released_at IS NULL AND c.relnamespace = 'public'::regnamespace
    AND c.relname = o.table_name;

UPDATE tenant_migrate.baseline_objects AS b SET objid = c.objid, objsub = c.objsub
FROM tenant_migrate.catalog_objects AS c
WHERE (c.kind, c.table_name, c.name) = (b.kind, b.table_name, b.name);

UPDATE tenant_migrate.saved_objects AS s
SET table_oid = c.oid,
    digest = tenant_migrate.saved_digest(s.phase, c.oid, s.table_name, s.object_name, s.kind, s.contype,
                                         s.definition, s.index_definition, s.condeferrable, s.condeferred)
FROM pg_class AS c
WHERE c.relnamespace = 'public'::regnamespace AND c.relname = s.table_name
    AND s.digest = tenant_migrate.saved_digest(s.phase, s.table_oid, s.table_name, s.object_name, s.kind, s.contype,
                                               s.definition, s.index_definition, s.condeferrable, s.condeferred);
