"""GitHub code scanning at tenant scale: upload every complete subscription, hold back the rest,
and show accepted risks as dismissed alerts.

`python -m aksaudit.github upload --sarif-dir DIR` reads the per-subscription SARIF that
`aksaudit scan --sarif-dir` writes and talks to the code scanning REST API with the workflow's
token. It exists because `upload-sarif` merges a directory into one upload, and code scanning
rejects a whole upload over 20 runs or 10 MB gzipped: a tenant of 2,000 subscriptions would
upload nothing.
"""
