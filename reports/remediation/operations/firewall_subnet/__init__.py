"""The firewall subnet operation: `functions.sh`, and what it guards with."""
