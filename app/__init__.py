"""pipetrace app package."""
