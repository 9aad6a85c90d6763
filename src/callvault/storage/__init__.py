"""The only package that knows tables and SQL: schema, migrations, row-to-domain stores."""
