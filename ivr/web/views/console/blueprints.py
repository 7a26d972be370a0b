"""Every blueprint of the console, for the app to register (after /dashboard's own)."""
from __future__ import annotations

from flask import Blueprint

from ivr.web.views.console import calls, export, insights, live, recordings

ALL: tuple[Blueprint, ...] = (calls.bp, export.bp, insights.bp, live.bp, recordings.bp)
