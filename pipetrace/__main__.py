"""`python -m pipetrace` runs the `pipetrace` command where the console script is missing."""

from pipetrace.app.cli import main

main()
