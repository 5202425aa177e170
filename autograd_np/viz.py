"""Graphviz pictures of recorded graphs (placeholder; filled in below)."""
