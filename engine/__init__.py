"""pipetrace engine package."""
