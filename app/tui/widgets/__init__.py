"""Widgets of the viewer: the trace table, the duration plot, the waterfall and the span pane."""
