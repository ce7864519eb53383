"""The thin HTTP layer: parse and authenticate, call the domain, render."""
