"""What changes with the target Linkerd version (§0)."""

from __future__ import annotations

from tests.emit.linkerd.helpers import SERVICE, SUBSETS, has_loss, linkerd_annotations, named, of_kind, run, vs

TIMEOUT = vs("  - timeout: 2s\n    corsPolicy: {allowOrigins: [{exact: 'https://a'}]}\n"
             "    route: [{destination: {host: reviews, subset: v1}}]\n")
TCP = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: tcp-db, port: 7000}]}
"""


def test_2_16_reads_v1beta1_and_2_20_reads_v1() -> None:
    old = run(SERVICE, SUBSETS, TIMEOUT, linkerd_version="2.16")
    new = run(SERVICE, SUBSETS, TIMEOUT, linkerd_version="2.20")
    [old_route], [new_route] = of_kind(old, "HTTPRoute"), of_kind(new, "HTTPRoute")
    assert old_route["apiVersion"] == "gateway.networking.k8s.io/v1beta1"
    assert new_route["apiVersion"] == "gateway.networking.k8s.io/v1"
    # timeouts: the annotation everywhere; the field only where the Gateway API version has it
    assert linkerd_annotations(old_route) == linkerd_annotations(new_route) == {"timeout.linkerd.io/request": "2s"}
    assert "timeouts" not in old_route["spec"]["rules"][0]
    assert new_route["spec"]["rules"][0]["timeouts"] == {"request": "2s"}
    experimental = run(SERVICE, SUBSETS, TIMEOUT, linkerd_version="2.16", gateway_api_channel="experimental")
    assert of_kind(experimental, "HTTPRoute")[0]["spec"]["rules"][0]["timeouts"] == {"request": "2s"}
    assert of_kind(run(SERVICE, SUBSETS, TIMEOUT, linkerd_version="2.18"), "HTTPRoute")[0]["apiVersion"].endswith("/v1")


def test_cors_loss_names_what_the_version_does() -> None:
    assert has_loss(run(SERVICE, SUBSETS, TIMEOUT, linkerd_version="2.16"), "MSH400", "reject the route at admission")
    assert has_loss(run(SERVICE, SUBSETS, TIMEOUT, linkerd_version="2.20"), "MSH400", "ignore the whole route")


def test_opaque_ports_annotation_before_2_18_app_protocol_after() -> None:
    rule = SUBSETS.replace("reviews.shop.svc.cluster.local", "reviews")
    route = vs("  - route: [{destination: {host: reviews, subset: v1}}]\n")
    old = named(run(TCP, rule, route, linkerd_version="2.17"), "Service", "reviews-v1")
    new = named(run(TCP, rule, route, linkerd_version="2.18"), "Service", "reviews-v1")
    assert linkerd_annotations(old) == {"config.linkerd.io/opaque-ports": "7000"}
    assert "appProtocol" not in old["spec"]["ports"][0]
    assert linkerd_annotations(new) == {} and new["spec"]["ports"][0]["appProtocol"] == "linkerd.io/opaque"
    assert has_loss(run(TCP, rule, route, linkerd_version="2.16"), "MSH401", "config.linkerd.io/opaque-ports")
    assert has_loss(run(TCP, rule, route, linkerd_version="2.20"), "MSH401", "appProtocol: linkerd.io/opaque")
    assert not has_loss(run(SERVICE, rule, route), "MSH401", "opaque")
