"""Analysis rules (MSH200-MSH239): mTLS and authorization gaps."""
