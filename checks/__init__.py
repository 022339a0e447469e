"""Built-in checks, one folder each: metadata, docstring, evaluate, good.json, bad.json.

They register through the `aksaudit.checks` entry points listed in pyproject.toml, exactly like
third-party checks; importing this package registers nothing.
"""
