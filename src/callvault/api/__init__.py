"""HTTP faces of callvault: one sub-package per API dialect, mounted by ``create_app``."""
