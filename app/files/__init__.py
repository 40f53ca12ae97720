"""Implementations of the ``FileStorage`` port (``app.core.files``): a local directory for now."""
