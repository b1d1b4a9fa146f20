"""Analysis rules (MSH300-MSH319): Gateway API references, attachment and conflicts."""
