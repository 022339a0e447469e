"""The outbound type operation: `functions.sh`, and what it guards with."""
