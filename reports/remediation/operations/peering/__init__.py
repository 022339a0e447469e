"""The peering operation: `functions.sh`, and what it guards with."""
