-- Announces changes to a layer's catalog entry (its titles, attributes, style, zooms, visibility;
-- a layer created or dropped) on channel "layer_catalog_changed" with {"layer": slug}, so that a
-- node reading the catalog from a replica (data/replica) waits for the change there or reads it
-- from the primary. The count, extent, version and updated time that every feature write
-- changes are left out: those writes already announce themselves on "layer_changed".
CREATE FUNCTION geoportal.layer_catalog_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - '{feature_count,bbox,version,updated_at}'::text[])
                          = (to_jsonb(OLD) - '{feature_count,bbox,version,updated_at}'::text[]) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('layer_catalog_changed',
        json_build_object('layer', CASE WHEN TG_OP = 'DELETE' THEN OLD.slug ELSE NEW.slug END)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER layer_catalog_changed AFTER INSERT OR UPDATE OR DELETE ON geoportal.layers
    FOR EACH ROW EXECUTE FUNCTION geoportal.layer_catalog_changed();
