"""Standard-library helpers. Nothing here imports from the rest of Authgate."""
