"""One scan pipeline: a frozen request (source, checks, configuration, previous result, approved
egress, as-of date) in, a scan result out, in one fixed order (`aksaudit.run.pipeline`); the
JSON v1 contract those results are written and read back through (`aksaudit.run.result_json`);
and the exit policy every command ends with (`aksaudit.run.exit_policy`).

Kept free of imports so that a module here can be used without pulling in the others.
"""
