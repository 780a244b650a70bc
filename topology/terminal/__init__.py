"""Terminals into lab nodes: the websocket consumer (web tier), the terminal server (root worker) and
what they say to each other (protocol). The sandbox itself is in topology/engine/sandbox.py."""
