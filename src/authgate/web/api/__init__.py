"""The product API, one router per resource."""
