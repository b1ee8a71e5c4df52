"""pipetrace: observability for Lua script pipelines (engine, store and viewer)."""
