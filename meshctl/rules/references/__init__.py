"""Analysis rules (MSH100-MSH119): references to things that do not exist or do not fit."""
