-- The search index's trigram indexes without GIN's pending list. With fastupdate (the default) a
-- rebuild's rows go to an unsorted list that each search reads in full until VACUUM merges it;
-- the planner prices that list so high that, after a demo load or an import, it read the whole
-- table instead (70-95 ms a search rather than a few). The index is written in batches by the
-- refresh and read by every search: inserting straight into the tree is the right trade.
ALTER INDEX geoportal.search_index_terms_trgm_idx SET (fastupdate = off);
ALTER INDEX geoportal.search_index_street_trgm_idx SET (fastupdate = off);
-- Turning the option off does not flush what is already pending.
SELECT gin_clean_pending_list('geoportal.search_index_terms_trgm_idx'::regclass);
SELECT gin_clean_pending_list('geoportal.search_index_street_trgm_idx'::regclass);
