"""``python -m callvault.cli``."""

from callvault.cli import main

main()
