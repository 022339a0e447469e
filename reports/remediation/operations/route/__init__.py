"""The route operation: `functions.sh`, and what it guards with."""
