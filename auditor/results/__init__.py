"""Findings and what is done to them after the checks ran: baselines, approvals,
suppressions, change history, redaction, and the plain-data path summaries a result carries.
"""
