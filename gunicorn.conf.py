"""Gunicorn settings, read automatically from the working directory.

Kept here so the Procfile stays the one line hosts expect.
"""
import os
import sys

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent workers: a connection waiting on its client costs a greenlet, not a
# worker. With sync workers ten slow-loris connections (headers, then a byte
# every 2 s of a 1000-byte body) held both workers and every signed webhook
# waited past Twilio's 15 s; the signature covers the body, so nothing can be
# checked before it is all in. Measured with bench/slowclients.py, 50 slow
# connections (README, Deployment): sync p99 15 s (timeouts), gthread with 8
# threads p99 15 s, with 64 threads holds at 50 and fails at 200, gevent p99
# well under 1 s at 50 and 200. A webhook still runs its CPU work to the end
# before the next one starts in that worker, as with sync.
worker_class = "gevent"
worker_connections = 1000
# One request per connection, as the sync workers did: a connection kept alive
# on a worker that is then killed or restarted would fail the next webhook sent
# on it (tests/test_restart.py), and idle connections would pile up.
keepalive = 0
# bench/slowclients.py measures other worker classes through GUNICORN_CMD_ARGS
# (which wins over this file); gevent's patching is for gevent workers only.
_other_worker_class = any(arg in ("-k", "--worker-class") or arg.startswith("--worker-class=")
                          for arg in os.environ.get("GUNICORN_CMD_ARGS", "").split())
if not _other_worker_class:
    # Patch before the app is imported (preload_app below): psycopg picks a
    # greenlet-friendly wait and SQLAlchemy's pool gevent-aware locks only if
    # they see a patched select and threading when they load.
    from gevent import monkey

    monkey.patch_all()
# Load and lint the flow, open the database and run its migrations once, in the
# master, then fork: a broken flow stops the server before any worker starts,
# a worker that is restarted is ready at once, and the workers share the
# loaded code's memory. The master closes its database connections before the
# fork (ivr.app), and each worker opens its own (ivr.records.db.connect).
preload_app = True
# Twilio gives a webhook 15 seconds in all; a worker stuck longer than this is
# better restarted than left holding a caller in silence.
timeout = 20
graceful_timeout = 10
# No access log of gunicorn's own by default: the platform's router already logs
# every request (Heroku: method, path, status, service time), and formatting the
# line cost 0.09 ms of a webhook's 1.0 ms of CPU (bench/webhooks.py, issue 16).
# Turn it on with GUNICORN_CMD_ARGS="--access-logfile -"; this format then keeps
# query strings out of it: they carry call state, not secrets, but keep the log
# short and free of caller data.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def _one_line_for_a_broken_config(kind, value, traceback):
    """A broken setting or flow stops the master in create_app, which has already
    logged why on one line per problem: no 30-line traceback after it."""
    from ivr.config import ConfigError
    from ivr.content import ContentError

    if isinstance(value, (ConfigError, ContentError)):
        return
    _python_excepthook(kind, value, traceback)


_python_excepthook = sys.excepthook
sys.excepthook = _one_line_for_a_broken_config


def post_worker_init(worker):
    """A worker that starts sends any hazard alert a crash left pending (ivr/outbound/alerts.py)."""
    services = getattr(worker.wsgi, "extensions", {}).get("ivr")
    if services is not None:
        services.alerts.kick(force=True)


def pre_fork(server, worker):
    """Freeze what the master loaded (the flow, the prompts, the code) before a worker
    is forked: the garbage collector then never walks those objects again. A full
    collection had ~117,000 of them to walk and stalled a worker, with every call it
    was serving, for about 50 ms every few seconds under load; and a walk writes into
    each object, which copied the master's pages into every worker (bench/webhooks.py,
    issue 16). What a worker makes later is collected as ever."""
    import gc

    gc.collect()
    gc.freeze()
