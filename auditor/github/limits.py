"""What code scanning accepts, from GitHub's documentation (SARIF support, the SARIF limits and
the REST API's "Upload an analysis as SARIF data" and "Update a code scanning alert" pages).

Over a hard limit the whole upload is rejected, so batches are planned to stay under them.
"""
from __future__ import annotations

MAX_RUNS_PER_UPLOAD = 20
MAX_GZIP_BYTES = 10 * 1000 * 1000  # "10 MB" gzip-compressed; the decimal reading is the safe one
MAX_RESULTS_PER_RUN = 25_000  # rejected above; only the top 5,000 are kept
MAX_RULES_PER_RUN = 25_000
MAX_DISMISSED_COMMENT = 280
DISMISSED_REASONS = ("false positive", "won't fix", "used in tests")
