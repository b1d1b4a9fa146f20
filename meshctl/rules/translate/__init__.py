"""The codes `translate` reports: what a target could not carry over, and how.

These rules have no check of their own; the emitters raise them through
``meshctl.emit.losses.Losses`` at the field that asked for the lost behaviour.
"""
