"""pipetrace store package."""
