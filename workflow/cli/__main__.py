"""`python -m workflow.cli` is `quartier`."""

from workflow.cli import main

main()
