"""A language's words: its prompts, its vocabulary, and how answers are read with it.

Pure, and the lowest layer: imports nothing else from ivr.
"""
