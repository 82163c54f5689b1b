"""The event store: one Arrow schema, a write-ahead-logged writer, DuckDB queries."""
