"""Checks on Azure Firewall placement and rules."""
