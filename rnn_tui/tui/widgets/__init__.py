"""The workspace's widgets, one per module."""
