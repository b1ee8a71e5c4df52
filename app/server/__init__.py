"""`pipetrace serve`: a small HTTP API for schedulers that can only call a URL (optional extra)."""
