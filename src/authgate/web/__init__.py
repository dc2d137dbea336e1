"""HTTP: thin routers that validate input, call the domain, and shape output."""
