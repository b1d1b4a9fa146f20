"""meshctl: a compiler and linter for service-mesh configuration."""

__version__ = "0.1.0"
