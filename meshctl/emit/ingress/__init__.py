"""Kubernetes Ingress as a translation source (``meshctl translate --from ingress``).

``nginx`` reads the ingress-nginx annotations of an Ingress; ``convert`` turns the
Ingresses of the model into Gateway API-shaped Gateways and HTTPRoutes, which
``--to gateway-api`` writes and ``--to istio`` compiles like any Gateway API input.
"""
