"""What the estate means: traffic sets, firewall evaluation, and the questions checks ask of them.

Verdicts are statements about traffic, so they are computed over sets of packets (addresses,
ports, protocols), never matched against how a rule or route happens to be spelled.
"""
