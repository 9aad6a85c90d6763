"""Use cases that compose storage and domain: ingest, queries, accounts and OAuth."""
