"""Records: calls and turns in the database (SQLAlchemy, Alembic migrations), and the reports read from them.

Knows nothing of the web.
"""
