"""Backtest: replay stored traffic through a candidate pipelines folder and report what flips.

Import from the modules: a worker process imports only `worker` and `messages`."""
