"""Screens of the viewer: the trace list, trace detail, filter dialogs, help and errors."""
