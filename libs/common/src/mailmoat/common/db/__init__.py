"""The system of record: declarative base, engine and sessions, tables, migrations."""
