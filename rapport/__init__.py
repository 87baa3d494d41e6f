"""Rapport: a CRM that knows each customer deeply and keeps that knowledge true and protected."""

__version__ = "0.1.0"
