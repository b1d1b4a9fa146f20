"""Analysis rules (MSH140-MSH159): routing that is unreachable, shadowed or ineffective."""
