"""Version 1 of the product API."""
