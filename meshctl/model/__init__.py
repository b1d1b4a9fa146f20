"""The mesh model: one typed, mesh-neutral description of what the inputs configure.

Istio, Linkerd, Gateway API and Kubernetes objects are lowered (``meshctl.lower``) into
these frozen dataclasses; rules, the service graph and the emitters read only them.
Every object keeps its ``origin`` (the document and field path it came from).
"""

from meshctl.model.mesh import MeshModel

__all__ = ["MeshModel"]
