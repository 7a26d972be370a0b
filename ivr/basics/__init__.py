"""What every layer shares: phone numbers, the shapes of IDs and tags, the closed sets.

The lowest layer: imports nothing else from ivr, and nothing of the web, the database or files.
"""
