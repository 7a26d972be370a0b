"""The call: what to say and ask next, decided from the flow, the caller's answers and the hand-off chain.

Pure: no Flask, Twilio, SQL, HTTP client or file reading (pyproject.toml, import-linter).
"""
