"""Operators' tools: the `ivr` command, the call simulator, the flow diagram, the number setup."""
