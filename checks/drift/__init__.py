"""Checks that compare the estate with an approved state."""
