"""`python -m app` runs the `pipetrace` command, for environments without the console script."""

from app.cli import main

main()
