"""Back-ends: pure functions from the mesh model to another configuration language.

Each back-end returns data (dicts ready to serialise) and the losses it had to accept;
it never reads files or writes them. ``cli.py`` does the writing, atomically.
"""
