"""Pure renderers: a scan result in, text or bytes out. They never compute verdicts."""
