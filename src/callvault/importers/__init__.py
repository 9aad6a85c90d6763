"""File and payload formats turned into domain records. Pure parsing: no database, no UI."""
