"""Codes raised while reading and schema-checking documents (declarations and docs only)."""
