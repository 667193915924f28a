"""Files in and out: tables (CSV, XLSX, Parquet), the Annex A lists, rules TOML, run folders
and the run record. The only layer below the application that touches the disk."""
