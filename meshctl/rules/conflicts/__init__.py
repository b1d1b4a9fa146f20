"""Analysis rules (MSH120-MSH139): objects that claim the same thing and do not agree."""
