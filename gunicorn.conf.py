"""Gunicorn settings, read automatically from the working directory.

Kept here so the Procfile stays the one line hosts expect.
"""
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Twilio gives a webhook 15 seconds in all; a worker stuck longer than this is
# better restarted than left holding a caller in silence.
timeout = 20
graceful_timeout = 10
accesslog = "-"
# No query strings in the access log: they carry call state, not secrets, but
# keep the log short and free of caller data.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
