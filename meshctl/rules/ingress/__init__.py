"""Analysis rules (MSH340-MSH349): Kubernetes Ingress, its classes, and the mesh behind it."""
