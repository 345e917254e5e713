"""MCP servers the operator declares: their config (``config.py``) and the client hub that starts them lazily,
reuses them and calls their tools with a timeout (``hub.py``). Only the operator names servers; a swarm's
config may only pick among them."""
