"""PostgreSQL catalog queries the schema tests compare databases by."""

# Objects that belong to the schema as a whole (extensions, text search configurations,
# functions, triggers); each test adds the table-level queries it needs.
PG_SCHEMA_OBJECTS = {
    "extensions": "SELECT extname FROM pg_extension ORDER BY 1",
    "configurations": (
        "SELECT c.cfgname, m.maptokentype, m.mapseqno, m.mapdict::regdictionary::text "
        "FROM pg_ts_config c JOIN pg_ts_config_map m ON m.mapcfg = c.oid "
        "WHERE c.cfgnamespace = 'public'::regnamespace ORDER BY 1, 2, 3"),
    "functions": (
        "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
        "ORDER BY 1, 2"),
    "triggers": (
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal "
        "ORDER BY 1"),
}
