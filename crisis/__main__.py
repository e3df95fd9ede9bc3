"""`python -m crisis`."""

from crisis.cli import main

main()
