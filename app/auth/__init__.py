"""Authentication: password hashing, tokens, and turning a request's token into an auth state."""
