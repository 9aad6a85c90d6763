"""callvault's own API (``/api/v1``): ingestion of finished call records, and health."""
