"""Checks on route tables and the next hop of Internet-bound traffic."""
