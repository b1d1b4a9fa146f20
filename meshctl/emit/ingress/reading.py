"""How one Ingress is read: by which controller, with which of its annotations.

An Ingress leaves parts of its meaning to the controller that serves it; the class says
which one: ingress-nginx (an IngressClass with controller ``k8s.io/ingress-nginx``, or
class ``nginx`` without its IngressClass among the inputs), Istio (its class), or another.
ingress-nginx's annotations are read for the Ingresses it serves only; on another class
they do nothing today and are reported, like every annotation nothing can carry over.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.ingress import nginx
from meshctl.emit.losses import Losses
from meshctl.lower.ingress import ISTIO_CONTROLLER, class_of
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Gateway
from meshctl.model.origin import Origin

NGINX_CONTROLLER = "k8s.io/ingress-nginx"


@dataclass(frozen=True)
class Reading:
    """How one Ingress is read: by which controller, with which annotations."""

    ingress: Gateway
    controller: str  # nginx | istio | other
    settings: nginx.Nginx

    def at(self, annotation: str) -> Origin:
        return self.ingress.origin.at("metadata", "annotations", annotation)


def read_ingress(mesh: MeshModel, losses: Losses, ingress: Gateway) -> Reading:
    found = class_of(mesh, ingress)
    if found.controller == NGINX_CONTROLLER or (found.controller is None and found.name == "nginx"):
        controller = "nginx"
    elif found.controller == ISTIO_CONTROLLER or (found.controller is None and found.name == mesh.mesh_config.ingress_class):
        controller = "istio"
    else:
        controller = "other"
    settings = nginx.read(ingress)
    reading = Reading(ingress, controller, settings)
    if controller != "nginx":
        for key in sorted(k for k in ingress.annotations if k.startswith(nginx.PREFIX)):
            losses.dropped(reading.at(key), f"read by ingress-nginx only, and this Ingress's class is "
                           f"{found.name or '(none)'}; not translated")
        reading = Reading(ingress, controller, nginx.Nginx(unread=tuple(
            (k, why) for k, why in settings.unread if not k.startswith(nginx.PREFIX))))
    for key, why in reading.settings.unread:
        losses.dropped(reading.at(key), f"{why}; not translated")
    for key, why in reading.settings.bad:
        losses.dropped(reading.at(key), why)
    return reading


def controller_name(reading: Reading) -> str:
    return {"nginx": "ingress-nginx", "istio": "Istio"}.get(reading.controller, "the controller")
