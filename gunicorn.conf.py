"""Gunicorn settings, read automatically from the working directory.

Kept here so the Procfile stays the one line hosts expect.
"""
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers, one request at a time each: a webhook is a millisecond or two
# of CPU with a local SQLite write, so threads only fight over the GIL and the
# database lock (bench/webhooks.py: gthread with 4 threads gave no more
# requests/s and a p99 several times worse). Revisit `threads` if the database
# is far away (PostgreSQL over a network), where a worker would wait on it.
worker_class = "sync"
# Load and lint the flow, open the database and run its migrations once, in the
# master, then fork: a broken flow stops the server before any worker starts,
# a worker that is restarted is ready at once, and the workers share the
# loaded code's memory. The database engine opens fresh connections in each
# worker after the fork (ivr.db.connect).
preload_app = True
# Twilio gives a webhook 15 seconds in all; a worker stuck longer than this is
# better restarted than left holding a caller in silence.
timeout = 20
graceful_timeout = 10
accesslog = "-"
# No query strings in the access log: they carry call state, not secrets, but
# keep the log short and free of caller data.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
