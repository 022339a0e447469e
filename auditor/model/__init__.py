"""Rows -> a read-only, indexed estate of typed resources; ARM ids parsed once.

The bottom layer: it imports nothing of aksaudit's, so every other layer may use it.
"""
