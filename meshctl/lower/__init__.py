"""Stage 3: lower validated documents into the mesh model.

Before: SourceDocs of any family. After: a MeshModel whose objects say what the mesh
does, in one vocabulary. Raw dicts stop here: nothing after this stage reads YAML.
Lowering reads every field through typed accessors, so a document the schema rejected
is still lowered from its well-typed parts: a DestinationRule with a bad TLS mode keeps
its subsets, and routes to them are not reported as broken on top of the real mistake.
Unknown fields are dropped, as the API server prunes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from meshctl.load.document import SourceDoc
from meshctl.lower import gateway_api, ingress, istio, k8s, linkerd
from meshctl.lower.context import Lowering, labels
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import MeshConfig, ResourceMeta
from meshctl.model.origin import Origin

Lowerer = Callable[[SourceDoc, Lowering], None]

LOWERERS: dict[str, Lowerer] = {**k8s.LOWERERS, **istio.LOWERERS, **gateway_api.LOWERERS, **linkerd.LOWERERS, **ingress.LOWERERS}


def lower(docs: Iterable[SourceDoc], mesh_config: MeshConfig | None = None) -> MeshModel:
    model = MeshModel(mesh_config=mesh_config or MeshConfig())
    ctx = Lowering(model)
    for doc in docs:
        namespace = doc.namespace
        if namespace:
            model.mentioned_namespaces.add(namespace)
        meta = doc.metadata
        model.resources.append(
            ResourceMeta(
                doc.api_version, doc.kind, doc.name, namespace,
                labels(meta.get("labels")), labels(meta.get("annotations")), Origin(doc),
            )
        )
        lowerer = LOWERERS.get(doc.kind_key)
        if lowerer is not None:
            lowerer(doc, ctx)
    return model.index()


def lowered_kinds() -> frozenset[str]:
    return frozenset(LOWERERS)
