"""API rules: the request context rules see, and the single access decision point."""
