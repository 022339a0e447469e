"""Where rows come from: snapshot files now, live Resource Graph queries through the SDKs."""
