"""The only package that knows tables and SQL: schema, migrations, and stores mapping rows to domain."""
