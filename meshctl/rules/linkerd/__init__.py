"""Analysis rules (MSH320-MSH339): Linkerd references, policies and pitfalls."""
