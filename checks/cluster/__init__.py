"""Checks on the managed cluster itself (network profile, pools)."""
