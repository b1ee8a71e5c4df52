"""The `pipetrace` sub-commands, one module per area."""
