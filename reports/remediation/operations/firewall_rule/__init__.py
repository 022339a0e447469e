"""The firewall rule operation: `functions.sh`, and what it guards with."""
