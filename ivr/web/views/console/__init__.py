"""The operators' console (issue 17): /dashboard and its pages, one small blueprint each.

Every blueprint here goes through `gate.protect`: the dashboard's password, its
throttle and a strict Content-Security-Policy, so no call data (pages, live JSON,
exports, recordings) is reachable without the password.
"""
