"""Kubernetes Ingress as a translation source (``meshctl translate --from ingress``).

The modules, in the order the conversion uses them::

    nginx      the ingress-nginx annotations of one Ingress, parsed as ingress-nginx does
    reading    which controller serves an Ingress, and what of its annotations is read
    rules      one Ingress path -> one route rule (paths, rewrites, redirects, timeouts, ports)
    canary     ingress-nginx canary Ingresses merged into their main Ingress's rules
    order      where Istio tries paths in another order, reported (or kept, for Istio's class)
    convert    the Ingresses -> Gateway API-shaped Gateways and HTTPRoutes (model objects)

``--to gateway-api`` writes the converted objects (``emit/gateway_api/ingresses.py``) and
``--to istio`` compiles them like any Gateway API input (``emit/istio/ingresses.py``).
"""
