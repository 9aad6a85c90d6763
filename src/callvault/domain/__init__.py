"""The call vocabulary: calls, legs, parties, enums and queries. Pure Python, no I/O."""
