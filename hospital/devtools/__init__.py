"""Tools for development and tests: private servers and a local SMTP sink.

Not imported by the application itself.
"""
