"""Built-in checks, one folder each: metadata, docstring, evaluate, good.json, bad.json.

They register through one `aksaudit.checks` entry point that returns the list in `builtin.py`,
the group third-party checks use too; importing this package registers nothing.
"""
