"""Screens other than the workspace itself."""
