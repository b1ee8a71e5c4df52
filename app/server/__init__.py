"""The HTTP app `pipetrace serve` runs for schedulers that can only call a URL (optional extra)."""
