"""The threat intel operation: `functions.sh`, and what it guards with."""
