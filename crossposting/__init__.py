"""Copies of published posts on the networks: network accounts, renderers, deliveries."""
